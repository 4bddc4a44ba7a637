package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/providertest"
)

const hookPath = "/hooks/T000/SECRETPATH"

// secrets are the parts of the test URLs that must never be shown.
var secrets = []string{"SECRETPATH", "SECRETQUERY", "/hooks/", "token=", "user:pw"}

func TestRequests(t *testing.T) {
	tests := []struct {
		name   string
		ev     provider.Event
		want   map[string]any
		header map[string]string
	}{
		{"page", providertest.Event("trigger"), map[string]any{
			"event": "page", "incident.ref": "INC-3", "incident.title": "Checkout is down", "incident.severity": "sev1",
			"incident.status": "investigating", "incident.channel_url": "https://acme.slack.com/archives/C0123",
			"message": "Payments fail for everyone", "paged_by": "Ana", "policy": "payments", "level": 2.0,
			"dedup_key": "incidentbot-INC-3", "at": "2025-03-04T05:06:07Z",
		}, map[string]string{"User-Agent": "incidentbot", "Content-Type": "application/json"}},
		{"acknowledge", providertest.Event("acknowledge"), map[string]any{"event": "acknowledge"}, nil},
		{"resolve", providertest.Event("resolve"), map[string]any{"event": "resolve"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewServer(t, http.StatusNoContent, nil, "")
			d, err := New(Options{HTTP: f.Client()}).Notify(t.Context(), f.URL+hookPath+"?token=SECRETQUERY", tt.ev)
			if err != nil || d != (provider.Decision{}) {
				t.Fatalf("Notify = %+v, %v", d, err)
			}
			seen := f.Requests()
			if len(seen) != 1 {
				t.Fatalf("got %d requests, want exactly 1", len(seen))
			}
			providertest.CheckRequest(t, seen[0], hookPath, "token=SECRETQUERY", tt.header, tt.want)
		})
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       provider.Decision
		detail     string
	}{
		{"404 echoes its path", "no hook at /hooks/T000/SECRETPATH?token=SECRETQUERY", 404, provider.Decision{}, "no hook at [redacted]"},
		{"404 echoes its parts", "no hook SECRETPATH at /hooks/T000/SECRETPATH (SECRETQUERY is not a token)", 404, provider.Decision{},
			"no hook [redacted] at [redacted] ([redacted] is not a token)"},
		{"400 echoes the user", "bad login user:pw", 400, provider.Decision{}, "bad login [redacted]"},
		{"502", "<html>bad gateway</html>", 502, provider.Decision{Retry: true}, "bad gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewServer(t, tt.status, nil, tt.body)
			target := strings.Replace(f.URL, "://", "://user:pw@", 1) + hookPath + "?token=SECRETQUERY"
			d, err := New(Options{HTTP: f.Client()}).Notify(t.Context(), target, providertest.Event("trigger"))
			pe, ok := err.(*provider.Error)
			if !ok || pe.Provider != Scheme || pe.Status != tt.status || d != tt.want || !strings.Contains(pe.Detail, tt.detail) {
				t.Fatalf("Notify = %+v, %#v; want %+v and %q", d, err, tt.want, tt.detail)
			}
			providertest.AssertNoSecret(t, secrets, err.Error())
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	f := providertest.NewServer(t, http.StatusFound, http.Header{"Location": {"/elsewhere"}}, "")
	d, err := New(Options{}).Notify(t.Context(), f.URL+hookPath, providertest.Event("trigger"))
	if pe, ok := err.(*provider.Error); !ok || pe.Status != http.StatusFound || d.Retry {
		t.Fatalf("Notify = %+v, %v; want a final 302", d, err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("%d requests, want one (the redirect not followed)", n)
	}
}

func TestBadTargets(t *testing.T) {
	for _, target := range []string{
		"ftp://example.com/hooks/T000/SECRETPATH",
		"http://exa mple.com/hooks/T000/SECRETPATH\x7f",
		"https:///hooks/T000/SECRETPATH",
		"hooks.example.com/hooks/T000/SECRETPATH",
		"",
	} {
		d, err := New(Options{}).Notify(t.Context(), target, providertest.Event("trigger"))
		if err == nil || err.Error() != "webhook: the target is not an http(s) URL" || d.Retry {
			t.Errorf("Notify(%q) = %+v, %v", target, d, err)
		}
	}
}

func TestCheckAndRedact(t *testing.T) {
	n := New(Options{})
	const bad = "not an http(s) URL: write e.g. webhook:https://hooks.example.com/page"
	tests := []struct{ value, check, redact string }{
		{"https://hooks.example.com/page", "", "https://hooks.example.com/…"},
		{"http://localhost:8080/x?token=XXXXSECRET", "", "http://localhost:8080/…"},
		{"ftp://hooks.example.com/XXXXSECRET", bad, "ftp://hooks.example.com/…"},
		{"https:///XXXXSECRET", bad, "…"},
		{"hooks.example.com/XXXXSECRET", bad, "…"},
		{"https://hooks.example.com/%zzXXXXSECRET?token=1", bad, "…"},
	}
	for _, tt := range tests {
		err := n.Check(tt.value)
		if (err == nil) != (tt.check == "") || err != nil && err.Error() != tt.check {
			t.Errorf("Check(%q) = %v, want %q", tt.value, err, tt.check)
		}
		if got := n.Redact(tt.value); got != tt.redact {
			t.Errorf("Redact(%q) = %q, want %q", tt.value, got, tt.redact)
		}
		texts := []string{n.Redact(tt.value)}
		if err != nil {
			texts = append(texts, err.Error())
		}
		providertest.AssertNoSecret(t, []string{"XXXXSECRET", "token="}, texts...)
	}
}
