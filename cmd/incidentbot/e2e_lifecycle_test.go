package main

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// These tests run an incident through its life from Slack: status,
// severity, roles, key times and reopen (who sees and may change what is in
// e2e_access_test.go); and check what responders see (channel messages, the
// pinned summary, the topic, the announce channel) and what the bot
// recorded.

func TestLifecycleStatus(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	summary := h.summaryTS(1)

	before := time.Now()
	h.slash(h.alice, ch.ID, "status identified")
	after := time.Now()
	h.ExpectMessage(ch.ID, "Status changed from Investigating to *Identified*", "<@"+h.alice+">")
	h.ExpectSummary(ch.ID, summary, "*Status*\nIdentified")
	h.ExpectTopic(ch.ID, "INC-1 SEV2 | Identified |")
	inc := h.storedIncident(1)
	if inc.Status != incident.Identified {
		t.Errorf("status = %s, want identified", inc.Status)
	}
	identified := inc.Times.Identified
	if identified.Before(before) || identified.After(after) {
		t.Errorf("identified key time = %s, want when the status changed (%s – %s)", identified, before, after)
	}
	if !h.hasEvent(1, "status", "Identified") {
		t.Errorf("no status event on the timeline: %+v", h.timeline(1))
	}

	h.slash(h.alice, ch.ID, "status monitoring")
	h.ExpectMessage(ch.ID, "Status changed from Identified to *Monitoring*")
	h.ExpectSummary(ch.ID, summary, "*Status*\nMonitoring")
	h.ExpectTopic(ch.ID, "| Monitoring |")
	inc = h.storedIncident(1)
	if inc.Times.Mitigated.IsZero() {
		t.Errorf("monitoring did not set the mitigated key time")
	}
	mitigated := inc.Times.Mitigated

	// The fix did not hold: back to identified is allowed, and keeps the
	// first identified and mitigated times.
	h.slash(h.alice, ch.ID, "status identified")
	h.ExpectMessage(ch.ID, "Status changed from Monitoring to *Identified*")
	h.ExpectSummary(ch.ID, summary, "*Status*\nIdentified")
	inc = h.storedIncident(1)
	if inc.Status != incident.Identified || !inc.Times.Identified.Equal(identified) || !inc.Times.Mitigated.Equal(mitigated) {
		t.Errorf("after going back: status %s, identified %s (want %s), mitigated %s (want %s)",
			inc.Status, inc.Times.Identified, identified, inc.Times.Mitigated, mitigated)
	}

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"backwards", "status investigating", []string{":warning:", "identified", "investigating", "back"}},
		{"same", "status identified", []string{":warning:", "already identified"}},
		{"unknown", "status fixed", []string{":warning:", "not a status", "investigating, identified, monitoring or resolved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := h.slash(h.alice, ch.ID, tc.text)
			if out := ackText(ack); !containsAll(out, tc.want...) || !strings.Contains(ack, `"ephemeral"`) {
				t.Errorf("reply to %q = %s, want an ephemeral with %q", tc.text, ack, tc.want)
			}
		})
	}
	h.idle()
	if st := h.storedIncident(1).Status; st != incident.Identified {
		t.Errorf("a refused change moved the status to %s", st)
	}
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "to *Investigating*") {
			t.Errorf("a refused change was announced in the channel: %q", m.Text)
		}
	}

	out := ackText(h.slash(h.alice, ch.ID, "status"))
	if !containsAll(out, "INC-1", "Status *Identified*", "Key times (UTC)",
		"Identified: "+incident.FormatTime(identified), "Mitigated: "+incident.FormatTime(mitigated), "Resolved: not recorded") {
		t.Errorf("/incident status:\n%s", out)
	}

	h.slash(h.alice, ch.ID, "status resolved")
	h.ExpectMessage(ch.ID, "INC-1 resolved")
	h.ExpectSummary(ch.ID, summary, "Resolved")
	h.ExpectTopic(ch.ID, "| Resolved |")
	if inc := h.storedIncident(1); inc.Status != incident.Resolved || inc.Times.Resolved.IsZero() {
		t.Errorf("status resolved left status %s, resolved at %s", inc.Status, inc.Times.Resolved)
	}
}

func TestLifecycleSeverity(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev3 Search is slow")
	summary := h.summaryTS(1)
	h.ExpectMessage(h.announce, "INC-1 declared")

	h.slash(h.alice, ch.ID, "severity sev1")
	h.ExpectMessage(ch.ID, "Severity changed from SEV3 to *SEV1*", "<@"+h.alice+">")
	h.ExpectMessage(h.announce, "INC-1 upgraded to SEV1", "Search is slow", "<#"+ch.ID+">")
	h.ExpectSummary(ch.ID, summary, "*Severity*\nSEV1")
	h.ExpectTopic(ch.ID, "INC-1 SEV1 |")
	if inc := h.storedIncident(1); inc.Severity != incident.Sev1 {
		t.Errorf("severity = %s, want SEV1", inc.Severity.Label())
	}
	if !h.hasEvent(1, "severity", "SEV1") {
		t.Errorf("no severity event on the timeline")
	}

	// A downgrade is said in the channel only.
	h.idle()
	announced := len(h.fake.Messages(h.announce))
	h.slash(h.alice, ch.ID, "severity sev2")
	h.ExpectMessage(ch.ID, "Severity changed from SEV1 to *SEV2*")
	h.ExpectSummary(ch.ID, summary, "*Severity*\nSEV2")
	h.idle()
	if msgs := h.fake.Messages(h.announce); len(msgs) != announced {
		t.Errorf("the downgrade was announced: %q", msgs[len(msgs)-1].Text)
	}

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown severity", "severity sev9", []string{":warning:", "sev9", "not a severity", "sev1, sev2, sev3 or sev4"}},
		{"no severity", "severity", []string{":warning:", "Which severity?", "/incident severity sev1"}},
		{"unchanged", "severity sev2", []string{":warning:", "already SEV2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := h.slash(h.alice, ch.ID, tc.text)
			if out := ackText(ack); !containsAll(out, tc.want...) || !strings.Contains(ack, `"ephemeral"`) {
				t.Errorf("reply to %q = %s, want an ephemeral with %q", tc.text, ack, tc.want)
			}
		})
	}
	if inc := h.storedIncident(1); inc.Severity != incident.Sev2 {
		t.Errorf("a refused change left severity %s", inc.Severity.Label())
	}
}

func TestLifecycleRoles(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	summary := h.summaryTS(1)
	if c, _ := h.fake.Channel(ch.ID); strings.Contains(strings.Join(c.Members, ","), h.bob) {
		t.Fatalf("bob is already in the channel")
	}

	// Slack sends a mention in slash command text as <@U…|name>.
	h.slash(h.alice, ch.ID, "lead <@"+h.bob+"|bob>")
	h.ExpectMessage(ch.ID, "<@"+h.bob+"> is now Lead", "<@"+h.alice+">")
	h.waitFor("bob to be invited", func() bool {
		c, _ := h.fake.Channel(ch.ID)
		return strings.Contains(strings.Join(c.Members, ","), h.bob)
	})
	h.ExpectSummary(ch.ID, summary, "*Lead*\n<@"+h.bob+">")
	h.ExpectTopic(ch.ID, "Lead: <@"+h.bob+">")
	if inc := h.storedIncident(1); inc.Lead().ID != h.bob {
		t.Errorf("lead = %+v, want bob", inc.Lead())
	}
	if !h.hasEvent(1, "role", "Lead") {
		t.Errorf("no role event on the timeline")
	}

	h.slash(h.alice, ch.ID, "comms <@"+h.alice+"|alice>")
	h.ExpectSummary(ch.ID, summary, "*Comms*\n<@"+h.alice+">")

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"nobody", "lead", []string{":warning:", "Name one person to be lead", "/incident lead @"}},
		{"two people", "scribe <@" + h.alice + "|alice> <@" + h.bob + "|bob>", []string{":warning:", "one person", "/incident scribe @"}},
		{"already", "lead <@" + h.bob + "|bob>", []string{"<@" + h.bob + ">", "already lead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out := ackText(h.slash(h.alice, ch.ID, tc.text)); !containsAll(out, tc.want...) {
				t.Errorf("reply to %q = %q, want %q", tc.text, out, tc.want)
			}
		})
	}
}

func TestLifecycleKeyTimes(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	now := time.Now().UTC()
	started := now.Add(-50 * time.Minute).Truncate(time.Minute)
	detected := now.Add(-40 * time.Minute).Truncate(time.Minute)

	out := ackText(h.slash(h.alice, ch.ID, "started "+started.Format("15:04")))
	if !containsAll(out, "Recorded", "started", incident.FormatTime(started)) {
		t.Errorf("started reply = %q, want it to name %s", out, incident.FormatTime(started))
	}
	out = ackText(h.slash(h.alice, ch.ID, "detected "+detected.Format("15:04")))
	if !containsAll(out, "Recorded", "detected", incident.FormatTime(detected)) {
		t.Errorf("detected reply = %q, want it to name %s", out, incident.FormatTime(detected))
	}
	inc := h.storedIncident(1)
	if !inc.Times.Started.Equal(started) || !inc.Times.Detected.Equal(detected) {
		t.Errorf("key times started %s detected %s, want %s and %s", inc.Times.Started, inc.Times.Detected, started, detected)
	}
	if !h.hasEvent(1, "started", incident.FormatTime(started)) || !h.hasEvent(1, "detected", incident.FormatTime(detected)) {
		t.Errorf("the key times are not on the timeline")
	}
	if s := ackText(h.slash(h.alice, ch.ID, "status")); !containsAll(s, "Started: "+incident.FormatTime(started),
		"Detected: "+incident.FormatTime(detected), "Time to detect 10m") {
		t.Errorf("/incident status does not show the key times:\n%s", s)
	}

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"detected before started", "detected " + now.Add(-60*time.Minute).Format("15:04"),
			[]string{":warning:", "Detection cannot come before impact started", incident.FormatTime(started)}},
		{"started after detected", "started " + now.Add(-35*time.Minute).Format("15:04"),
			[]string{":warning:", "cannot start after it was detected", incident.FormatTime(detected)}},
		{"no time", "started", []string{":warning:", "When was the incident started?", "/incident started 10:18"}},
		{"future", "started " + now.Add(3*time.Hour).Format("2006-01-02 15:04"), []string{":warning:", "in the future"}},
		{"not a time", "detected 25:99", []string{":warning:", "hour 25", "10:28"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out := ackText(h.slash(h.alice, ch.ID, tc.text)); !containsAll(out, tc.want...) {
				t.Errorf("reply to %q = %q, want %q", tc.text, out, tc.want)
			}
		})
	}
	if inc := h.storedIncident(1); !inc.Times.Started.Equal(started) || !inc.Times.Detected.Equal(detected) {
		t.Errorf("a refused time changed the key times: started %s detected %s", inc.Times.Started, inc.Times.Detected)
	}
}

func TestLifecycleReopen(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	summary := h.summaryTS(1)

	if out := ackText(h.slash(h.alice, ch.ID, "reopen")); !containsAll(out, ":warning:", "INC-1 is not resolved", "investigating") {
		t.Errorf("reopen of an open incident = %q", out)
	}

	h.slash(h.alice, ch.ID, "resolve Rolled back")
	h.ExpectMessage(ch.ID, "INC-1 resolved")
	h.ExpectSummary(ch.ID, summary, "Resolved")

	// While resolved, changes are refused with the way back.
	for _, tc := range []struct{ text, want string }{
		{"status identified", "reopen"},
		{"severity sev1", "/incident reopen"},
		{"lead <@" + h.bob + "|bob>", "/incident reopen"},
	} {
		if out := ackText(h.slash(h.alice, ch.ID, tc.text)); !containsAll(out, ":warning:", "resolved", tc.want) {
			t.Errorf("%q on a resolved incident = %q, want a refusal mentioning %q", tc.text, out, tc.want)
		}
	}

	h.slash(h.alice, ch.ID, "reopen")
	h.ExpectMessage(ch.ID, "Reopened by <@"+h.alice+">", "Investigating")
	h.ExpectSummary(ch.ID, summary, "*Status*\nInvestigating")
	h.ExpectTopic(ch.ID, "| Investigating |")
	inc := h.storedIncident(1)
	if inc.Status != incident.Investigating || !inc.Times.Resolved.IsZero() {
		t.Errorf("after reopen: status %s, resolved %s; want investigating and no resolved time", inc.Status, inc.Times.Resolved)
	}
	if !h.hasEvent(1, "reopened", "Reopened") {
		t.Errorf("no reopened event on the timeline")
	}

	// It runs as an open incident again.
	h.slash(h.alice, ch.ID, "status identified")
	h.ExpectMessage(ch.ID, "Status changed from Investigating to *Identified*")
}
