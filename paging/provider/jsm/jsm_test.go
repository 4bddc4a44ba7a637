package jsm

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/providertest"
)

const apiKey = "SECRETJSM789"

// notifier is a JSM provider against f whose JSM_API_KEY holds key.
func notifier(f *fake, key string) *Notifier {
	return New(Options{HTTP: f.Client(), URL: f.URL + "/", Getenv: func(name string) string {
		if name == "JSM_API_KEY" {
			return key
		}
		return ""
	}})
}

// final checks err is a final *provider.Error of jsm with status, whose
// text contains detail and no secret.
func final(t *testing.T, d provider.Decision, err error, status int, detail string) {
	t.Helper()
	pe, ok := errors.AsType[*provider.Error](err)
	if !ok || d != (provider.Decision{}) || pe.Provider != Scheme || pe.Status != status || !strings.Contains(err.Error(), detail) {
		t.Fatalf("Notify = %+v, %v; want a final jsm %d error containing %q", d, err, status, detail)
	}
	providertest.AssertNoSecret(t, []string{apiKey, "WRONGSECRET"}, err.Error())
}

func TestLifecycle(t *testing.T) {
	f := newFake(t, apiKey)
	n := notifier(f, apiKey)
	for _, action := range []string{"trigger", "trigger", "acknowledge", "resolve"} {
		if d, err := n.Notify(t.Context(), "JSM_API_KEY", providertest.Event(action)); err != nil || d != (provider.Decision{}) {
			t.Fatalf("%s: Notify = %+v, %v", action, d, err)
		}
	}
	a := f.alert("incidentbot-INC-3")
	if a == nil {
		t.Fatal("no alert with the dedup key as alias")
	}
	want := fakeAlert{Message: "[INC-3] Checkout is down", Priority: "P1", Status: "closed", Count: 2,
		Notes: []string{"Payments fail for everyone", "Payments fail for everyone"}}
	if a.Message != want.Message || a.Priority != want.Priority || a.Status != want.Status || a.Count != want.Count || len(a.Notes) != 2 {
		t.Errorf("alert = %+v, want %+v (a retried trigger folded in by alias)", *a, want)
	}
}

func TestRequests(t *testing.T) {
	long := strings.Repeat("é", 500)
	auth := map[string]string{"Authorization": "GenieKey " + apiKey, "Content-Type": "application/json"}
	tests := []struct {
		name, action string
		change       func(*provider.Event)
		path, query  string
		want         map[string]any
		header       map[string]string
	}{
		{"create", "trigger", nil, alertsURL, "", map[string]any{
			"message": "[INC-3] Checkout is down", "alias": "incidentbot-INC-3", "priority": "P1", "source": "incidentbot",
			"tags.0": "incidentbot", "description": "Payments fail for everyone\n\nSlack channel: https://acme.slack.com/archives/C0123",
			"details.incident": "INC-3", "details.channel": "https://acme.slack.com/archives/C0123",
			"details.paged_by": "Ana", "details.policy": "payments", "details.level": "2",
		}, auth},
		{"sev4 is P4", "trigger", func(ev *provider.Event) { ev.Severity = "sev4" }, alertsURL, "", map[string]any{"priority": "P4"}, nil},
		{"long message is clipped, not refused", "trigger", func(ev *provider.Event) { ev.Title = long }, alertsURL, "",
			map[string]any{"message": "[INC-3] " + strings.Repeat("é", 130-9) + "…"}, nil},
		{"acknowledge", "acknowledge", nil, alertsURL + "/incidentbot-INC-3/acknowledge", "identifierType=alias",
			map[string]any{"source": "incidentbot", "note": "Payments fail for everyone"}, auth},
		{"close", "resolve", nil, alertsURL + "/incidentbot-INC-3/close", "identifierType=alias",
			map[string]any{"source": "incidentbot", "note": "Payments fail for everyone"}, auth},
		{"alias is escaped", "resolve", func(ev *provider.Event) { ev.DedupKey = "inc/3 a?b" },
			alertsURL + "/inc%2F3%20a%3Fb/close", "identifierType=alias", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewServer(t, http.StatusAccepted, nil, `{"result":"Request will be processed"}`)
			n := New(Options{HTTP: srv.Client(), URL: srv.URL, Getenv: func(string) string { return apiKey }})
			ev := providertest.Event(tt.action)
			if tt.change != nil {
				tt.change(&ev)
			}
			if _, err := n.Notify(t.Context(), "JSM_API_KEY", ev); err != nil {
				t.Fatal(err)
			}
			if seen := srv.Requests(); len(seen) != 1 {
				t.Fatalf("%d requests, want 1", len(seen))
			} else {
				providertest.CheckRequest(t, seen[0], tt.path, tt.query, tt.header, tt.want)
			}
		})
	}
	// And the fake, which refuses a message over 130 characters, takes it.
	f := newFake(t, apiKey)
	ev := providertest.Event("trigger")
	ev.Title = long
	if _, err := notifier(f, apiKey).Notify(t.Context(), "JSM_API_KEY", ev); err != nil {
		t.Fatalf("long title: %v", err)
	}
	if a := f.alert(ev.DedupKey); a == nil || len([]rune(a.Message)) != 130 {
		t.Errorf("alert = %+v, want a 130-character message", a)
	}
}

func TestRejections(t *testing.T) {
	t.Run("wrong key", func(t *testing.T) {
		f := newFake(t, apiKey)
		d, err := notifier(f, "WRONGSECRET").Notify(t.Context(), "JSM_API_KEY", providertest.Event("trigger"))
		final(t, d, err, http.StatusForbidden, "API key [redacted] is not valid")
	})
	t.Run("acknowledge of an unknown alias", func(t *testing.T) {
		f := newFake(t, apiKey)
		d, err := notifier(f, apiKey).Notify(t.Context(), "JSM_API_KEY", providertest.Event("acknowledge"))
		final(t, d, err, http.StatusNotFound, "jsm answered 404 Not Found: Alert does not exist")
	})
	t.Run("close after close", func(t *testing.T) {
		f := newFake(t, apiKey)
		n := notifier(f, apiKey)
		for _, action := range []string{"trigger", "resolve", "resolve"} {
			if _, err := n.Notify(t.Context(), "JSM_API_KEY", providertest.Event(action)); err != nil {
				t.Fatalf("%s: %v", action, err) // closing a closed alert is accepted
			}
		}
	})
	t.Run("env var unset", func(t *testing.T) {
		f := newFake(t, apiKey)
		d, err := notifier(f, "").Notify(t.Context(), "JSM_API_KEY", providertest.Event("trigger"))
		if err == nil || err.Error() != "jsm: env var JSM_API_KEY holding the API key is not set" || d.Retry || f.requests != 0 {
			t.Errorf("Notify = %+v, %v; %d requests", d, err, f.requests)
		}
		d, err = notifier(f, apiKey).Notify(t.Context(), "", providertest.Event("trigger"))
		if err == nil || err.Error() != "jsm: the target names no env var for the API key" || d.Retry {
			t.Errorf("Notify = %+v, %v", d, err)
		}
	})
	// What the provider never sends, sent by hand: the fake must refuse it
	// as the real API does, and the answer must be a final error.
	post := func(t *testing.T, f *fake, path string, header http.Header, body any) (provider.Decision, error) {
		return provider.Post(t.Context(), f.Client(), Scheme, f.URL+path, header, body, apiKey)
	}
	key := http.Header{"Authorization": {"GenieKey " + apiKey}}
	t.Run("no key", func(t *testing.T) {
		d, err := post(t, newFake(t, apiKey), alertsURL, nil, map[string]string{"message": "x"})
		final(t, d, err, http.StatusUnauthorized, "Could not authenticate")
	})
	t.Run("bearer token instead of GenieKey", func(t *testing.T) {
		d, err := post(t, newFake(t, apiKey), alertsURL, http.Header{"Authorization": {"Bearer " + apiKey}}, map[string]string{"message": "x"})
		final(t, d, err, http.StatusUnauthorized, "Could not authenticate")
	})
	t.Run("no message", func(t *testing.T) {
		d, err := post(t, newFake(t, apiKey), alertsURL, key, map[string]string{"alias": "a"})
		final(t, d, err, http.StatusUnprocessableEntity, "Request body is not processable. Please check the errors.; message: Message can not be empty.")
	})
	t.Run("message over 130", func(t *testing.T) {
		d, err := post(t, newFake(t, apiKey), alertsURL, key, map[string]string{"message": strings.Repeat("x", 131)})
		final(t, d, err, http.StatusUnprocessableEntity, "message can not be longer than 130 characters.")
	})
	t.Run("bad priority", func(t *testing.T) {
		d, err := post(t, newFake(t, apiKey), alertsURL, key, map[string]string{"message": "x", "priority": "P0"})
		final(t, d, err, http.StatusUnprocessableEntity, "priority: Priority should be one of")
	})
	t.Run("alias without identifierType", func(t *testing.T) {
		f := newFake(t, apiKey)
		post(t, f, alertsURL, key, map[string]string{"message": "x", "alias": "a"})
		d, err := post(t, f, alertsURL+"/a/close", key, map[string]string{})
		final(t, d, err, http.StatusNotFound, "Alert does not exist")
	})
}

func TestRetries(t *testing.T) {
	f := newFake(t, apiKey)
	f.throttle = 1
	n := notifier(f, apiKey)
	d, err := n.Notify(t.Context(), "JSM_API_KEY", providertest.Event("trigger"))
	if pe, ok := errors.AsType[*provider.Error](err); !ok || pe.Status != 429 || d != (provider.Decision{Retry: true, After: 3 * time.Second}) {
		t.Fatalf("throttled: %+v, %v", d, err)
	}
	f.fail = 1
	if d, err := n.Notify(t.Context(), "JSM_API_KEY", providertest.Event("trigger")); !d.Retry || err == nil {
		t.Fatalf("503: %+v, %v", d, err)
	}
	if d, err := n.Notify(t.Context(), "JSM_API_KEY", providertest.Event("trigger")); err != nil || d.Retry {
		t.Fatalf("after the trouble: %+v, %v", d, err)
	}
	if a := f.alert("incidentbot-INC-3"); a == nil || a.Count != 1 {
		t.Errorf("alert = %+v, want one created by the third attempt", a)
	}
}

// roundTripFunc answers without a network, to see where requests go.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDefaultURL(t *testing.T) {
	var got string
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return &http.Response{StatusCode: 202, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})}
	n := New(Options{HTTP: client, Getenv: func(string) string { return apiKey }})
	if _, err := n.Notify(t.Context(), "K", providertest.Event("acknowledge")); err != nil {
		t.Fatal(err)
	}
	if want := "https://api.atlassian.com/jsm/ops/integration/v2/alerts/incidentbot-INC-3/acknowledge?identifierType=alias"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

func TestCheckAndRedact(t *testing.T) {
	n := New(Options{Getenv: func(name string) string {
		if name == "JSM_API_KEY" {
			return apiKey
		}
		return ""
	}})
	notName := "not an environment variable name: write jsm:<ENV_VAR>, the name of the variable holding the API key (e.g. jsm:JSM_API_KEY), not the key itself"
	for value, want := range map[string]string{
		"JSM_API_KEY": "",
		"MISSING_KEY": "the environment variable MISSING_KEY is not set: set it to the API key of a Jira Service Management API integration",
		"0a1b-secret": notName,
		"":            notName,
	} {
		err := n.Check(value)
		if (err == nil) != (want == "") || err != nil && err.Error() != want {
			t.Errorf("Check(%q) = %v, want %q", value, err, want)
		}
	}
	for value, want := range map[string]string{"JSM_API_KEY": "JSM_API_KEY", "0a1b-secret": "0a1…", "": "…"} {
		if got := n.Redact(value); got != want {
			t.Errorf("Redact(%q) = %q, want %q", value, got, want)
		}
	}
}
