package provider_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/jsm"
	"github.com/incidentbot/incidentbot/paging/provider/opsgenie"
	"github.com/incidentbot/incidentbot/paging/provider/pagerduty"
	"github.com/incidentbot/incidentbot/paging/provider/providertest"
	"github.com/incidentbot/incidentbot/paging/provider/webhook"
)

const (
	routingKey = "SECRETKEY123"
	genieKey   = "SECRETGENIE456"
	hookPath   = "/hooks/T000/SECRETPATH"
)

var secrets = []string{"SECRET", "/hooks/", "T000", "token="}

func getenv(name string) string {
	if name == "OPSGENIE_API_KEY" || name == "JSM_API_KEY" {
		return genieKey
	}
	return ""
}

// today is the set of today's providers, in the order whose messages the
// end-to-end tests know ("want pagerduty:, opsgenie: or webhook:").
func today(client *http.Client, base string) *provider.Set {
	return provider.NewSet(
		pagerduty.New(pagerduty.Options{HTTP: client, URL: base}),
		opsgenie.New(opsgenie.Options{HTTP: client, URL: base, Getenv: getenv}),
		webhook.New(webhook.Options{HTTP: client}),
	)
}

// all is today's providers and JSM.
func all(client *http.Client, base string) *provider.Set {
	return provider.NewSet(
		pagerduty.New(pagerduty.Options{HTTP: client, URL: base}),
		opsgenie.New(opsgenie.Options{HTTP: client, URL: base, Getenv: getenv}),
		webhook.New(webhook.Options{HTTP: client}),
		jsm.New(jsm.Options{HTTP: client, URL: base, Getenv: getenv}),
	)
}

func targets(base string) map[string]string {
	return map[string]string{
		"pagerduty": "pagerduty:" + routingKey,
		"opsgenie":  "opsgenie:OPSGENIE_API_KEY",
		"webhook":   "webhook:" + base + hookPath + "?token=SECRETQUERY",
		"jsm":       "jsm:JSM_API_KEY",
	}
}

func names(names []string) []string {
	if len(names) == 0 {
		return []string{"pagerduty", "opsgenie", "webhook", "jsm"}
	}
	return names
}

// clean checks err is a *provider.Error that leaks no secret.
func clean(t *testing.T, err error) *provider.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Notify succeeded, want an error")
	}
	providertest.AssertNoSecret(t, secrets, err.Error())
	pe, ok := errors.AsType[*provider.Error](err)
	if !ok {
		t.Fatalf("error %T %v is not a *provider.Error", err, err)
	}
	if n := len([]rune(pe.Detail)); n > 200 {
		t.Errorf("Detail has %d characters, want at most 200", n)
	}
	return pe
}

func TestSetFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a closed connection only after the body
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	tests := []struct {
		name      string
		base      string
		providers []string
		target    string // instead of the provider's usual target
		client    *http.Client
		ev        provider.Event
		retry     bool
		provider  string // default: the provider; "-": none
		detail    string // exact when it starts with "=", else contained
	}{
		{name: "connection refused", base: closed.URL, retry: true, detail: "refused"},
		{name: "timeout", base: slow.URL, client: &http.Client{Timeout: 50 * time.Millisecond}, retry: true, detail: "Timeout"},
		{name: "opsgenie env var unset", providers: []string{"opsgenie"}, target: "opsgenie:OPSGENIE_OTHER_KEY", detail: "=env var OPSGENIE_OTHER_KEY holding the API key is not set"},
		{name: "opsgenie no env var", providers: []string{"opsgenie"}, target: "opsgenie:", detail: "=the target names no env var for the API key"},
		{name: "jsm env var unset", providers: []string{"jsm"}, target: "jsm:JSM_OTHER_KEY", detail: "=env var JSM_OTHER_KEY holding the API key is not set"},
		{name: "pagerduty no routing key", providers: []string{"pagerduty"}, target: "pagerduty:", detail: "=the target has no routing key"},
		{name: "webhook not http", providers: []string{"webhook"}, target: "webhook:ftp://example.com/hooks/T000/SECRETPATH", detail: "=the target is not an http(s) URL"},
		{name: "webhook not a URL", providers: []string{"webhook"}, target: "webhook:http://exa mple.com/hooks/T000/SECRETPATH\x7f", detail: "URL"},
		{name: "unknown kind", providers: []string{"sms"}, target: "sms:+15550100SECRET", provider: "-", detail: `=unknown target kind "sms" (want pagerduty:, opsgenie:, webhook: or jsm:)`},
		{name: "no kind", providers: []string{"bare"}, target: "SECRETKEY123", provider: "-", detail: "=the target has no kind (want pagerduty:, opsgenie:, webhook: or jsm:)"},
		{name: "unknown action", ev: provider.Event{Action: "snooze", DedupKey: "k"}, detail: `=unknown action "snooze"`},
		{name: "resolve without dedup key", ev: provider.Event{Action: "resolve"}, detail: "=the event has no dedup key"},
		{name: "trigger without dedup key", ev: provider.Event{Action: "trigger", Ref: "INC-3"}, detail: "=the event has no dedup key"},
	}
	for _, tt := range tests {
		for _, name := range names(tt.providers) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				f := providertest.NewServer(t, http.StatusAccepted, nil, "")
				base := f.URL
				if tt.base != "" {
					base = tt.base
				}
				client := f.Client()
				if tt.client != nil {
					client = tt.client
				}
				target := targets(base)[name]
				if tt.target != "" {
					target = tt.target
				}
				ev := tt.ev
				if ev.Action == "" {
					ev = providertest.Event("trigger")
				}
				d, err := all(client, base).Notify(t.Context(), target, ev)
				pe := clean(t, err)
				want := name
				if tt.provider == "-" {
					want = ""
				}
				if pe.Provider != want || pe.Status != 0 {
					t.Errorf("Provider, Status = %q, %d; want %q, 0", pe.Provider, pe.Status, want)
				}
				if d.Retry != tt.retry || d.After != 0 {
					t.Errorf("Decision = %+v, want Retry %v (%v)", d, tt.retry, err)
				}
				if exact, ok := strings.CutPrefix(tt.detail, "="); ok && pe.Detail != exact || !ok && !strings.Contains(pe.Detail, tt.detail) {
					t.Errorf("Detail = %q, want %q", pe.Detail, tt.detail)
				}
				if n := len(f.Requests()); n != 0 {
					t.Errorf("the working server got %d requests", n)
				}
			})
		}
	}
}

func TestSetTodaysMessages(t *testing.T) {
	s := today(nil, "")
	for target, want := range map[string]string{
		"SECRETKEY123":   "paging provider: the target has no kind (want pagerduty:, opsgenie: or webhook:)",
		"sms:+155501234": `paging provider: unknown target kind "sms" (want pagerduty:, opsgenie: or webhook:)`,
		"jsm:X":          `paging provider: unknown target kind "jsm" (want pagerduty:, opsgenie: or webhook:)`,
	} {
		d, err := s.Notify(t.Context(), target, providertest.Event("trigger"))
		if err == nil || err.Error() != want || d.Retry {
			t.Errorf("Notify(%q) = %+v, %v; want final %q", target, d, err, want)
		}
	}
	if got := strings.Join(s.Schemes(), ","); got != "pagerduty,opsgenie,webhook" {
		t.Errorf("Schemes = %s", got)
	}
}

func TestSetContextCanceled(t *testing.T) {
	arrived, done := make(chan struct{}, 1), make(chan struct{})
	blocking := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer blocking.Close()
	defer close(done)
	for _, before := range []bool{true, false} {
		for _, name := range names(nil) {
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if before {
					cancel()
				} else {
					go func() { <-arrived; cancel() }()
				}
				d, err := all(nil, blocking.URL).Notify(ctx, targets(blocking.URL)[name], providertest.Event("trigger"))
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if clean(t, err); !d.Retry {
					t.Errorf("a cancelled attempt should stay retryable so the job is kept")
				}
			})
		}
	}
}

// fakeProvider is a Provider made of a func, to see what the Set does
// with what a provider decides.
type fakeProvider func(ctx context.Context, value string, ev provider.Event) (provider.Decision, error)

func (f fakeProvider) Scheme() string             { return "fake" }
func (f fakeProvider) Check(value string) error   { return nil }
func (f fakeProvider) Redact(value string) string { return "…" }
func (f fakeProvider) Notify(ctx context.Context, value string, ev provider.Event) (provider.Decision, error) {
	return f(ctx, value, ev)
}

func TestSetPassesTheDecisionOn(t *testing.T) {
	for _, want := range []provider.Decision{{}, {Retry: true}, {Retry: true, After: 9 * time.Second}} {
		var got string
		s := provider.NewSet(fakeProvider(func(_ context.Context, value string, _ provider.Event) (provider.Decision, error) {
			got = value
			return want, errors.New("nope")
		}))
		d, err := s.Notify(t.Context(), "fake:a:b", providertest.Event("trigger"))
		if d != want || err == nil || got != "a:b" {
			t.Errorf("Notify = %+v, %v (value %q); want %+v", d, err, got, want)
		}
	}
}

func TestNewSetReplaces(t *testing.T) {
	first := fakeProvider(func(context.Context, string, provider.Event) (provider.Decision, error) {
		return provider.Decision{}, errors.New("first")
	})
	second := fakeProvider(func(context.Context, string, provider.Event) (provider.Decision, error) {
		return provider.Decision{}, errors.New("second")
	})
	s := provider.NewSet(first, webhook.New(webhook.Options{}), second)
	if _, err := s.Notify(t.Context(), "fake:x", providertest.Event("trigger")); err == nil || err.Error() != "second" {
		t.Errorf("Notify = %v, want the later provider's answer", err)
	}
	if got := strings.Join(s.Schemes(), ","); got != "fake,webhook" {
		t.Errorf("Schemes = %s, want the first place kept", got)
	}
}

func TestSetCheckAndRedact(t *testing.T) {
	s := all(nil, "")
	tests := []struct{ target, check, redact string }{
		{"pagerduty:R0UTINGKEY", "", "pagerduty:R0U…"},
		{"pagerduty:", "the routing key is missing or has spaces", "pagerduty:…"},
		{"pagerduty:R0UT INGKEY", "the routing key is missing or has spaces", "pagerduty:R0U…"},
		{"opsgenie:OPSGENIE_API_KEY", "", "opsgenie:OPSGENIE_API_KEY"},
		{"opsgenie:og-secret-value", "not an environment variable name", "opsgenie:og-…"},
		{"opsgenie:MISSING_KEY", "the environment variable MISSING_KEY is not set: set it to the API key of an Opsgenie API integration", "opsgenie:MISSING_KEY"},
		{"opsgenie:", "not an environment variable name", "opsgenie:…"},
		{"jsm:JSM_API_KEY", "", "jsm:JSM_API_KEY"},
		{"jsm:MISSING_KEY", "a Jira Service Management API integration", "jsm:MISSING_KEY"},
		{"webhook:https://hooks.example.com/page", "", "webhook:https://hooks.example.com/…"},
		{"webhook:ftp://hooks.example.com/XXXXSECRET", "not an http(s) URL: write e.g. webhook:https://hooks.example.com/page", "webhook:ftp://hooks.example.com/…"},
		{"webhook:https:///XXXXSECRET", "not an http(s) URL", "webhook:…"},
		{"webhook:hooks.example.com/XXXXSECRET", "not an http(s) URL", "webhook:…"},
		{"webhook:https://hooks.example.com/%zzXXXXSECRET?token=1", "not an http(s) URL", "webhook:…"},
		{"pd:R0UTINGKEY", `unknown target kind "pd"`, "pd:…"},
		{"https://hooks.example.com/XXXXSECRET", `unknown target kind "https"`, "https:…"},
		{"R0UTINGKEYR0UTINGKEYR0UTINGKEY12", "the target has no kind", "R0U…"},
		{"bob", "the target has no kind", "bob"},
		{"", "the target has no kind", ""},
	}
	for _, tt := range tests {
		err := s.Check(tt.target)
		if (err == nil) != (tt.check == "") || err != nil && !strings.Contains(err.Error(), tt.check) {
			t.Errorf("Check(%q) = %v, want %q", tt.target, err, tt.check)
		}
		redacted := s.Redact(tt.target)
		if redacted != tt.redact {
			t.Errorf("Redact(%q) = %q, want %q", tt.target, redacted, tt.redact)
		}
		texts := []string{redacted}
		if err != nil {
			texts = append(texts, err.Error())
		}
		providertest.AssertNoSecret(t, []string{"R0UTINGKEY", "XXXXSECRET", "og-secret", "token="}, texts...)
	}
}
