package opsgenie

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/providertest"
)

const genieKey = "SECRETGENIE456"

func getenv(name string) string {
	if name == "OPSGENIE_API_KEY" {
		return genieKey
	}
	return ""
}

func newNotifier(f *providertest.Server) *Notifier {
	return New(Options{HTTP: f.Client(), URL: f.URL + "/", Getenv: getenv})
}

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
	auth := map[string]string{"Authorization": "GenieKey " + genieKey, "Content-Type": "application/json"}
	tests := []struct {
		name        string
		ev          provider.Event
		path, query string
		want        map[string]any
		header      map[string]string
	}{
		{"trigger", with("trigger", nil), "/v2/alerts", "", map[string]any{
			"message": "[INC-3] Checkout is down", "alias": "incidentbot-INC-3", "priority": "P1", "source": "incidentbot",
			"tags.0": "incidentbot", "description": "Payments fail for everyone\n\nSlack channel: https://acme.slack.com/archives/C0123",
			"details.incident": "INC-3", "details.channel": "https://acme.slack.com/archives/C0123",
			"details.paged_by": "Ana", "details.policy": "payments", "details.level": "2",
		}, auth},
		{"sev2 is P2", with("trigger", sev("sev2")), "/v2/alerts", "", map[string]any{"priority": "P2"}, nil},
		{"sev3 is P3", with("trigger", sev("sev3")), "/v2/alerts", "", map[string]any{"priority": "P3"}, nil},
		{"sev4 is P4", with("trigger", sev("sev4")), "/v2/alerts", "", map[string]any{"priority": "P4"}, nil},
		{"empty details left out", with("trigger", func(ev *provider.Event) { ev.ChannelURL, ev.PagedBy, ev.Level = "", "", 0 }), "/v2/alerts", "",
			map[string]any{"details.channel": nil, "details.paged_by": nil, "details.level": nil, "description": "Payments fail for everyone"}, nil},
		{"long message is clipped", with("trigger", func(ev *provider.Event) { ev.Title = long }), "/v2/alerts", "",
			map[string]any{"message": "[INC-3] " + strings.Repeat("é", 130-9) + "…"}, nil},
		{"acknowledge", with("acknowledge", nil), "/v2/alerts/incidentbot-INC-3/acknowledge", "identifierType=alias",
			map[string]any{"source": "incidentbot", "note": "Payments fail for everyone"}, auth},
		{"acknowledge without message", with("acknowledge", func(ev *provider.Event) { ev.Message = "" }), "/v2/alerts/incidentbot-INC-3/acknowledge", "identifierType=alias",
			map[string]any{"note": "Acknowledged in incidentbot"}, nil},
		{"resolve", with("resolve", func(ev *provider.Event) { ev.Message = "" }), "/v2/alerts/incidentbot-INC-3/close", "identifierType=alias",
			map[string]any{"source": "incidentbot", "note": nil}, auth},
		{"resolve with note", with("resolve", nil), "/v2/alerts/incidentbot-INC-3/close", "identifierType=alias",
			map[string]any{"note": "Payments fail for everyone"}, nil},
		{"alias is escaped", with("resolve", func(ev *provider.Event) { ev.DedupKey = "inc/3 a?b" }),
			"/v2/alerts/inc%2F3%20a%3Fb/close", "identifierType=alias", map[string]any{"source": "incidentbot"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewServer(t, http.StatusAccepted, nil, `{"result":"Request will be processed","took":0.2,"requestId":"43a29c5c"}`)
			if d, err := newNotifier(f).Notify(t.Context(), "OPSGENIE_API_KEY", tt.ev); err != nil || d != (provider.Decision{}) {
				t.Fatalf("Notify = %+v, %v", d, err)
			}
			seen := f.Requests()
			if len(seen) != 1 {
				t.Fatalf("got %d requests, want exactly 1", len(seen))
			}
			providertest.CheckRequest(t, seen[0], tt.path, tt.query, tt.header, tt.want)
		})
	}
}

func TestTags(t *testing.T) {
	f := providertest.NewServer(t, http.StatusAccepted, nil, "")
	ev := providertest.Event("trigger")
	ev.Severity = "sev2"
	if _, err := newNotifier(f).Notify(t.Context(), "OPSGENIE_API_KEY", ev); err != nil {
		t.Fatal(err)
	}
	tags, _ := json.Marshal(f.Requests()[0].Body["tags"])
	if string(tags) != `["incidentbot","sev2"]` {
		t.Errorf("tags = %s", tags)
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       provider.Decision
		detail     string
	}{
		{"422 field errors", `{"message":"Request body is not processable","errors":{"message":"Message can not be empty."},"took":0.001}`,
			422, provider.Decision{}, "Request body is not processable; message: Message can not be empty."},
		{"401 bad key", `{"message":"Key format is not valid! SECRETGENIE456"}`, 401, provider.Decision{}, "Key format is not valid! [redacted]"},
		{"503", "", 503, provider.Decision{Retry: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewServer(t, tt.status, nil, tt.body)
			d, err := newNotifier(f).Notify(t.Context(), "OPSGENIE_API_KEY", providertest.Event("trigger"))
			pe, ok := err.(*provider.Error)
			if !ok || pe.Provider != Scheme || pe.Status != tt.status || d != tt.want || !strings.Contains(pe.Detail, tt.detail) {
				t.Fatalf("Notify = %+v, %#v; want %+v and %q", d, err, tt.want, tt.detail)
			}
			providertest.AssertNoSecret(t, []string{genieKey}, err.Error())
		})
	}
}

func TestBadTargets(t *testing.T) {
	tests := []struct{ envVar, want string }{
		{"OPSGENIE_OTHER_KEY", "opsgenie: env var OPSGENIE_OTHER_KEY holding the API key is not set"},
		{"", "opsgenie: the target names no env var for the API key"},
	}
	for _, tt := range tests {
		f := providertest.NewServer(t, http.StatusAccepted, nil, "")
		d, err := newNotifier(f).Notify(t.Context(), tt.envVar, providertest.Event("trigger"))
		if err == nil || err.Error() != tt.want || d.Retry {
			t.Errorf("Notify(%q) = %+v, %v; want final %q", tt.envVar, d, err, tt.want)
		}
		if n := len(f.Requests()); n != 0 {
			t.Errorf("%d requests, want none", n)
		}
	}
	// A variable holding only white space is as good as unset.
	n := New(Options{Getenv: func(string) string { return "  " }})
	if _, err := n.Notify(t.Context(), "OPSGENIE_API_KEY", providertest.Event("trigger")); err == nil || !strings.Contains(err.Error(), "is not set") {
		t.Errorf("blank key: %v", err)
	}
}

func TestCheckAndRedact(t *testing.T) {
	n := New(Options{Getenv: getenv})
	notName := "not an environment variable name: write opsgenie:<ENV_VAR>, the name of the variable holding the API key (e.g. opsgenie:OPSGENIE_API_KEY), not the key itself"
	for value, want := range map[string]string{
		"OPSGENIE_API_KEY": "",
		"MISSING_KEY":      "the environment variable MISSING_KEY is not set: set it to the API key of an Opsgenie API integration",
		"og-secret-value":  notName,
		"":                 notName,
		"lower_case":       notName,
		"1ABC":             notName,
	} {
		err := n.Check(value)
		if (err == nil) != (want == "") || err != nil && err.Error() != want {
			t.Errorf("Check(%q) = %v, want %q", value, err, want)
		}
		if err != nil && value != "MISSING_KEY" {
			providertest.AssertNoSecret(t, []string{value}, err.Error())
		}
	}
	for value, want := range map[string]string{"OPSGENIE_API_KEY": "OPSGENIE_API_KEY", "og-secret-value": "og-…", "": "…"} {
		if got := n.Redact(value); got != want {
			t.Errorf("Redact(%q) = %q, want %q", value, got, want)
		}
	}
}
