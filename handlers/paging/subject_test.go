package paging

import (
	"encoding/json"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// TestJobPayloads pins the payloads: an incident's are as they were before
// alerts (the outbox of existing databases holds them), an alert's name it.
func TestJobPayloads(t *testing.T) {
	inc, al := subjectKey{Incident: 3}, subjectKey{Alert: 7}
	for _, tc := range []struct {
		name    string
		payload any
		want    string
	}{
		{"incident page", pageJob{subjectKey: inc, Escalation: 1, Page: 2}, `{"incident":3,"escalation":1,"page":2}`},
		{"incident group", groupJob{subjectKey: inc, Escalation: 1, Step: 0, Group: "S0ONCALL1"}, `{"incident":3,"escalation":1,"step":0,"group":"S0ONCALL1"}`},
		{"incident timer", escalateJob{subjectKey: inc, Escalation: 2, Step: 1}, `{"incident":3,"escalation":2,"step":1}`},
		{"incident provider", providerJob{subjectKey: inc, Escalation: 1, Page: 4, Target: "pagerduty:K", Action: "trigger"},
			`{"incident":3,"escalation":1,"page":4,"target":"pagerduty:K","action":"trigger"}`},
		{"incident provider ack", providerJob{subjectKey: inc, Escalation: 1, Target: "pagerduty:K", Action: "acknowledge", By: "bob"},
			`{"incident":3,"escalation":1,"target":"pagerduty:K","action":"acknowledge","by":"bob"}`},
		{"alert page", pageJob{subjectKey: al, Escalation: 1, Page: 2}, `{"incident":0,"alert":7,"escalation":1,"page":2}`},
		{"alert group", groupJob{subjectKey: al, Escalation: 1, Group: "S0ONCALL1"}, `{"incident":0,"alert":7,"escalation":1,"step":0,"group":"S0ONCALL1"}`},
		{"alert timer", escalateJob{subjectKey: al, Escalation: 1, Step: 3}, `{"incident":0,"alert":7,"escalation":1,"step":3}`},
		{"alert provider", providerJob{subjectKey: al, Escalation: 1, Target: "webhook:x", Action: "resolve"},
			`{"incident":0,"alert":7,"escalation":1,"target":"webhook:x","action":"resolve"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Errorf("payload %s, want %s", data, tc.want)
			}
		})
	}
	// And back: the key decides what a job loads.
	var p pageJob
	if err := json.Unmarshal([]byte(`{"incident":0,"alert":7,"escalation":1,"page":2}`), &p); err != nil || p.subjectKey != al {
		t.Errorf("decoded %+v (%v), want alert 7", p, err)
	}
}

// TestSubjects checks what differs between an incident and an alert: the
// button values, the timer lanes, and how they are named.
func TestSubjects(t *testing.T) {
	e := &incident.Escalation{ID: 2, Step: 3}
	pg := &incident.Page{ID: 4}
	inc := &incident.Incident{ID: 5, Title: "Checkout down", Severity: incident.Sev1, Status: incident.Investigating, ChannelID: "C0INC0001"}
	al := &incident.AlertRecord{ID: 7, Route: "platform", Severity: incident.Sev2, Status: incident.AlertFiring, Channel: "C0ALERTS1"}
	m := &Module{}
	for _, tc := range []struct {
		name               string
		s                  subject
		value, lane, by    string
		ref, status, where string
		ready              bool
	}{
		{"incident", incidentSubject{inc}, "5:2:4", "escalate:5:2:3", "nobody", "INC-5", "investigating", "Channel: <#C0INC0001>", true},
		{"incident without a channel", incidentSubject{&incident.Incident{ID: 6, ChannelName: "inc-6"}}, "6:2:4", "escalate:6:2:3", "nobody",
			"INC-6", "", "Channel: #inc-6", false},
		{"alert", m.alertSubject(al), "a7:2:4", "alert_escalate:7:2:3", "alert route platform", "ALERT-7", "firing", "Alert in <#C0ALERTS1>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.s.key()
			ab := tc.s.about()
			for _, c := range []struct{ what, got, want string }{
				{"value", k.value(e, pg), tc.value},
				{"lane", k.escalationLane(e), tc.lane},
				{"paged by", ab.pagedBy(e), tc.by},
				{"ref", ab.ref, tc.ref},
				{"status", ab.status, tc.status},
				{"where", ab.where, tc.where},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if got := tc.s.ready() == nil; got != tc.ready {
				t.Errorf("ready = %v, want %v", got, tc.ready)
			}
		})
	}
}
