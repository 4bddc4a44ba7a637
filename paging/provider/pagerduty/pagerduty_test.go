package pagerduty

import (
	"net/http"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/providertest"
)

const routingKey = "SECRETKEY123"

func TestRequests(t *testing.T) {
	with := func(action string, change func(*provider.Event)) provider.Event {
		ev := providertest.Event(action)
		if change != nil {
			change(&ev)
		}
		return ev
	}
	sev := func(s string) func(*provider.Event) { return func(ev *provider.Event) { ev.Severity = s } }
	long := strings.Repeat("é", 2000)
	tests := []struct {
		name   string
		ev     provider.Event
		want   map[string]any // dotted JSON path → value; nil value: absent
		header map[string]string
	}{
		{"trigger", with("trigger", nil), map[string]any{
			"routing_key": routingKey, "event_action": "trigger", "dedup_key": "incidentbot-INC-3",
			"client": "incidentbot", "payload.summary": "[INC-3] Checkout is down", "payload.source": "incidentbot",
			"payload.severity": "critical", "payload.timestamp": "2025-03-04T05:06:07Z",
			"payload.custom_details.incident": "INC-3", "payload.custom_details.status": "investigating",
			"payload.custom_details.message": "Payments fail for everyone", "payload.custom_details.paged_by": "Ana",
			"payload.custom_details.policy": "payments", "payload.custom_details.level": 2.0,
			"links.0.href": "https://acme.slack.com/archives/C0123", "links.0.text": "Slack channel",
		}, map[string]string{"Content-Type": "application/json"}},
		{"sev2 is error", with("trigger", sev("sev2")), map[string]any{"payload.severity": "error"}, nil},
		{"sev3 is warning", with("trigger", sev("sev3")), map[string]any{"payload.severity": "warning"}, nil},
		{"sev4 is info", with("trigger", sev("SEV4")), map[string]any{"payload.severity": "info"}, nil},
		{"unknown severity is warning", with("trigger", sev("p0")), map[string]any{"payload.severity": "warning"}, nil},
		{"optional details left out", with("trigger", func(ev *provider.Event) { ev.Message, ev.PagedBy, ev.Policy, ev.Level = "", "", "", 0 }),
			map[string]any{"payload.custom_details.message": nil, "payload.custom_details.paged_by": nil,
				"payload.custom_details.policy": nil, "payload.custom_details.level": nil, "payload.custom_details.incident": "INC-3"}, nil},
		{"long summary is clipped", with("trigger", func(ev *provider.Event) { ev.Title = long }),
			map[string]any{"payload.summary": "[INC-3] " + strings.Repeat("é", 1024-9) + "…"}, nil},
		{"acknowledge", with("acknowledge", nil), map[string]any{
			"event_action": "acknowledge", "dedup_key": "incidentbot-INC-3", "routing_key": routingKey, "payload": nil,
		}, nil},
		{"resolve without channel", with("resolve", func(ev *provider.Event) { ev.ChannelURL = "" }), map[string]any{
			"event_action": "resolve", "dedup_key": "incidentbot-INC-3", "payload": nil, "links": nil,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewServer(t, http.StatusAccepted, nil, `{"status":"success","message":"Event processed"}`)
			n := New(Options{HTTP: f.Client(), URL: f.URL + "/"})
			if d, err := n.Notify(t.Context(), routingKey, tt.ev); err != nil || d != (provider.Decision{}) {
				t.Fatalf("Notify = %+v, %v", d, err)
			}
			seen := f.Requests()
			if len(seen) != 1 {
				t.Fatalf("got %d requests, want exactly 1", len(seen))
			}
			providertest.CheckRequest(t, seen[0], "/v2/enqueue", "", tt.header, tt.want)
		})
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   provider.Decision
		detail string
	}{
		{"400 invalid event quotes the key", 400, nil,
			`{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect: SECRETKEY123"]}`,
			provider.Decision{}, "Event object is invalid; Length of 'routing_key' is incorrect: [redacted]"},
		{"429 throttled", 429, http.Header{"Retry-After": {"7"}},
			`{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`,
			provider.Decision{Retry: true, After: 7e9}, "arriving too quickly"},
		{"500", 500, nil, "", provider.Decision{Retry: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewServer(t, tt.status, tt.header, tt.body)
			d, err := New(Options{HTTP: f.Client(), URL: f.URL}).Notify(t.Context(), routingKey, providertest.Event("trigger"))
			pe, ok := err.(*provider.Error)
			if !ok || pe.Provider != Scheme || pe.Status != tt.status || d != tt.want || !strings.Contains(pe.Detail, tt.detail) {
				t.Fatalf("Notify = %+v, %#v; want %+v and %q", d, err, tt.want, tt.detail)
			}
			providertest.AssertNoSecret(t, []string{routingKey}, err.Error())
		})
	}
}

func TestNoRoutingKey(t *testing.T) {
	f := providertest.NewServer(t, http.StatusAccepted, nil, "")
	d, err := New(Options{HTTP: f.Client(), URL: f.URL}).Notify(t.Context(), "", providertest.Event("trigger"))
	if err == nil || err.Error() != "pagerduty: the target has no routing key" || d.Retry {
		t.Errorf("Notify = %+v, %v", d, err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestCheckAndRedact(t *testing.T) {
	n := New(Options{})
	const bad = "the routing key is missing or has spaces: write pagerduty:<routing key>, the Integration Key of a PagerDuty Events API v2 integration"
	for key, want := range map[string]string{"R0UTINGKEY": "", "": bad, "R0UT INGKEY": bad, "R0UTINGKEY\t": bad} {
		err := n.Check(key)
		if (err == nil) != (want == "") || err != nil && err.Error() != want {
			t.Errorf("Check(%q) = %v, want %q", key, err, want)
		}
		if err != nil {
			providertest.AssertNoSecret(t, []string{key}, err.Error())
		}
	}
	for key, want := range map[string]string{"R0UTINGKEY": "R0U…", "": "…", "short": "…"} {
		if got := n.Redact(key); got != want {
			t.Errorf("Redact(%q) = %q, want %q", key, got, want)
		}
	}
}
