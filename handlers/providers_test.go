package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	providerRoutingKey = "SECRETKEY123"
	providerGenieKey   = "SECRETGENIE456"
	providerHookPath   = "/hooks/T000/SECRETPATH"
)

// providerSeen is one request a fake provider received.
type providerSeen struct {
	Method, Path, Query string
	Header              http.Header
	Body                map[string]any
}

// providerFake is a fake provider: it records requests and answers with
// status, header and body.
type providerFake struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []providerSeen
	status int
	header http.Header
	body   string
}

func newProviderFake(t *testing.T, status int, header http.Header, body string) *providerFake {
	t.Helper()
	f := &providerFake{status: status, header: header, body: body}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		s := providerSeen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone()}
		if err := json.Unmarshal(raw, &s.Body); err != nil {
			t.Errorf("%s %s: body is not JSON: %v: %q", r.Method, r.URL.Path, err, raw)
		}
		f.mu.Lock()
		f.seen = append(f.seen, s)
		f.mu.Unlock()
		for k, v := range f.header {
			w.Header()[k] = v
		}
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *providerFake) requests() []providerSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]providerSeen(nil), f.seen...)
}

func (f *providerFake) providers() *Providers {
	return &Providers{
		HTTP:         f.Client(),
		PagerDutyURL: f.URL,
		OpsgenieURL:  f.URL + "/",
		Getenv: func(name string) string {
			if name == "OPSGENIE_API_KEY" {
				return providerGenieKey
			}
			return ""
		},
	}
}

// providerTargets are one target per provider, pointing at base.
func providerTargets(base string) map[string]string {
	return map[string]string{
		"pagerduty": "pagerduty:" + providerRoutingKey,
		"opsgenie":  "opsgenie:OPSGENIE_API_KEY",
		"webhook":   "webhook:" + base + providerHookPath + "?token=SECRETQUERY",
	}
}

func providerEvent(action string) ProviderEvent {
	return ProviderEvent{
		Action: action, DedupKey: "incidentbot-INC-3", Ref: "INC-3", Title: "Checkout is down",
		Severity: "sev1", Status: "investigating", ChannelURL: "https://acme.slack.com/archives/C0123",
		Message: "Payments fail for everyone", PagedBy: "Ana", Policy: "payments", Level: 2,
		At: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

// providerField follows a path of keys (and list indexes as "0") into decoded JSON.
func providerField(v any, path ...string) any {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			if k != "0" || len(x) == 0 {
				return nil
			}
			v = x[0]
		default:
			return nil
		}
	}
	return v
}

func TestProviderRequests(t *testing.T) {
	with := func(action string, change func(*ProviderEvent)) ProviderEvent {
		ev := providerEvent(action)
		if change != nil {
			change(&ev)
		}
		return ev
	}
	sev := func(s string) func(*ProviderEvent) { return func(ev *ProviderEvent) { ev.Severity = s } }
	long := strings.Repeat("é", 2000)
	tests := []struct {
		name, provider string
		ev             ProviderEvent
		path, query    string
		want           map[string]any // dotted JSON path → value; nil value: absent
		header         map[string]string
	}{
		{"pagerduty trigger", "pagerduty", with("trigger", nil), "/v2/enqueue", "", map[string]any{
			"routing_key": providerRoutingKey, "event_action": "trigger", "dedup_key": "incidentbot-INC-3",
			"client": "incidentbot", "payload.summary": "[INC-3] Checkout is down", "payload.source": "incidentbot",
			"payload.severity": "critical", "payload.timestamp": "2025-03-04T05:06:07Z",
			"payload.custom_details.incident": "INC-3", "payload.custom_details.status": "investigating",
			"payload.custom_details.message": "Payments fail for everyone", "payload.custom_details.paged_by": "Ana",
			"payload.custom_details.policy": "payments", "payload.custom_details.level": 2.0,
			"links.0.href": "https://acme.slack.com/archives/C0123", "links.0.text": "Slack channel",
		}, map[string]string{"Content-Type": "application/json"}},
		{"pagerduty sev2 is error", "pagerduty", with("trigger", sev("sev2")), "/v2/enqueue", "", map[string]any{"payload.severity": "error"}, nil},
		{"pagerduty sev3 is warning", "pagerduty", with("trigger", sev("sev3")), "/v2/enqueue", "", map[string]any{"payload.severity": "warning"}, nil},
		{"pagerduty sev4 is info", "pagerduty", with("trigger", sev("SEV4")), "/v2/enqueue", "", map[string]any{"payload.severity": "info"}, nil},
		{"pagerduty long summary is clipped", "pagerduty", with("trigger", func(ev *ProviderEvent) { ev.Title = long }), "/v2/enqueue", "",
			map[string]any{"payload.summary": "[INC-3] " + strings.Repeat("é", 1024-9) + "…"}, nil},
		{"pagerduty acknowledge", "pagerduty", with("acknowledge", nil), "/v2/enqueue", "", map[string]any{
			"event_action": "acknowledge", "dedup_key": "incidentbot-INC-3", "routing_key": providerRoutingKey, "payload": nil,
		}, nil},
		{"pagerduty resolve without channel", "pagerduty", with("resolve", func(ev *ProviderEvent) { ev.ChannelURL = "" }), "/v2/enqueue", "", map[string]any{
			"event_action": "resolve", "dedup_key": "incidentbot-INC-3", "payload": nil, "links": nil,
		}, nil},
		{"opsgenie trigger", "opsgenie", with("trigger", nil), "/v2/alerts", "", map[string]any{
			"message": "[INC-3] Checkout is down", "alias": "incidentbot-INC-3", "priority": "P1", "source": "incidentbot",
			"tags.0": "incidentbot", "description": "Payments fail for everyone\n\nSlack channel: https://acme.slack.com/archives/C0123",
			"details.incident": "INC-3", "details.channel": "https://acme.slack.com/archives/C0123",
			"details.paged_by": "Ana", "details.policy": "payments",
		}, map[string]string{"Authorization": "GenieKey " + providerGenieKey, "Content-Type": "application/json"}},
		{"opsgenie sev2 is P2", "opsgenie", with("trigger", sev("sev2")), "/v2/alerts", "", map[string]any{"priority": "P2"}, nil},
		{"opsgenie sev3 is P3", "opsgenie", with("trigger", sev("sev3")), "/v2/alerts", "", map[string]any{"priority": "P3"}, nil},
		{"opsgenie sev4 is P4", "opsgenie", with("trigger", sev("sev4")), "/v2/alerts", "", map[string]any{"priority": "P4"}, nil},
		{"opsgenie long message is clipped", "opsgenie", with("trigger", func(ev *ProviderEvent) { ev.Title = long }), "/v2/alerts", "",
			map[string]any{"message": "[INC-3] " + strings.Repeat("é", 130-9) + "…"}, nil},
		{"opsgenie acknowledge", "opsgenie", with("acknowledge", nil), "/v2/alerts/incidentbot-INC-3/acknowledge", "identifierType=alias",
			map[string]any{"source": "incidentbot", "note": "Payments fail for everyone"},
			map[string]string{"Authorization": "GenieKey " + providerGenieKey}},
		{"opsgenie resolve", "opsgenie", with("resolve", nil), "/v2/alerts/incidentbot-INC-3/close", "identifierType=alias",
			map[string]any{"source": "incidentbot"}, map[string]string{"Authorization": "GenieKey " + providerGenieKey}},
		{"opsgenie alias is escaped", "opsgenie", with("resolve", func(ev *ProviderEvent) { ev.DedupKey = "inc/3 a?b" }),
			"/v2/alerts/inc%2F3%20a%3Fb/close", "identifierType=alias", map[string]any{"source": "incidentbot"}, nil},
		{"webhook page", "webhook", with("trigger", nil), providerHookPath, "token=SECRETQUERY", map[string]any{
			"event": "page", "incident.ref": "INC-3", "incident.title": "Checkout is down", "incident.severity": "sev1",
			"incident.status": "investigating", "incident.channel_url": "https://acme.slack.com/archives/C0123",
			"message": "Payments fail for everyone", "paged_by": "Ana", "policy": "payments", "level": 2.0,
			"dedup_key": "incidentbot-INC-3", "at": "2025-03-04T05:06:07Z",
		}, map[string]string{"User-Agent": "incidentbot", "Content-Type": "application/json"}},
		{"webhook acknowledge", "webhook", with("acknowledge", nil), providerHookPath, "token=SECRETQUERY", map[string]any{"event": "acknowledge"}, nil},
		{"webhook resolve", "webhook", with("resolve", nil), providerHookPath, "token=SECRETQUERY", map[string]any{"event": "resolve"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newProviderFake(t, http.StatusAccepted, nil, `{"status":"success","message":"Event processed"}`)
			if err := f.providers().Send(t.Context(), providerTargets(f.URL)[tt.provider], tt.ev); err != nil {
				t.Fatalf("Send: %v", err)
			}
			seen := f.requests()
			if len(seen) != 1 {
				t.Fatalf("got %d requests, want exactly 1", len(seen))
			}
			got := seen[0]
			if got.Method != http.MethodPost || got.Path != tt.path || got.Query != tt.query {
				t.Errorf("request %s %s?%s, want POST %s?%s", got.Method, got.Path, got.Query, tt.path, tt.query)
			}
			for k, v := range tt.header {
				if got.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
				}
			}
			for path, want := range tt.want {
				if v := providerField(got.Body, strings.Split(path, ".")...); v != want {
					t.Errorf("%s = %#v, want %#v", path, v, want)
				}
			}
		})
	}
}

func TestProviderOpsgenieTags(t *testing.T) {
	f := newProviderFake(t, http.StatusAccepted, nil, "")
	ev := providerEvent("trigger")
	ev.Severity = "sev2"
	if err := f.providers().Send(t.Context(), "opsgenie:OPSGENIE_API_KEY", ev); err != nil {
		t.Fatal(err)
	}
	tags, _ := json.Marshal(f.requests()[0].Body["tags"])
	if string(tags) != `["incidentbot","sev2"]` {
		t.Errorf("tags = %s", tags)
	}
}

func TestProviderAnswers(t *testing.T) {
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		providers  []string // empty: all three
		status     int
		header     http.Header
		body       string
		wantErr    bool
		retryable  bool
		wait       time.Duration
		waitSlack  time.Duration
		wantDetail string
	}{
		{name: "202 accepted", status: http.StatusAccepted},
		{name: "200 ok", status: http.StatusOK, body: "ok"},
		{name: "429 with Retry-After seconds", status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"7"}},
			body:    `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`,
			wantErr: true, retryable: true, wait: 7 * time.Second, wantDetail: "arriving too quickly"},
		{name: "429 with Retry-After date", status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {date}},
			wantErr: true, retryable: true, wait: 30 * time.Second, waitSlack: 3 * time.Second},
		{name: "503", status: http.StatusServiceUnavailable, body: "<html> upstream\n  unavailable </html>",
			wantErr: true, retryable: true, wantDetail: "<html> upstream unavailable </html>"},
		{name: "500", status: http.StatusInternalServerError, wantErr: true, retryable: true},
		{name: "408", status: http.StatusRequestTimeout, wantErr: true, retryable: true},
		{name: "pagerduty 400 invalid event", providers: []string{"pagerduty"}, status: http.StatusBadRequest,
			body:    `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect: SECRETKEY123"]}`,
			wantErr: true, wantDetail: "Event object is invalid; Length of 'routing_key' is incorrect: [redacted]"},
		{name: "opsgenie 422 field errors", providers: []string{"opsgenie"}, status: http.StatusUnprocessableEntity,
			body:    `{"message":"Request body is not processable","errors":{"message":"Message can not be empty."},"took":0.001}`,
			wantErr: true, wantDetail: "Request body is not processable; message: Message can not be empty."},
		{name: "opsgenie 401 bad key", providers: []string{"opsgenie"}, status: http.StatusUnauthorized,
			body: `{"message":"Key format is not valid! SECRETGENIE456"}`, wantErr: true, wantDetail: "Key format is not valid! [redacted]"},
		{name: "webhook 404 echoes its path", providers: []string{"webhook"}, status: http.StatusNotFound,
			body: "no hook at /hooks/T000/SECRETPATH?token=SECRETQUERY", wantErr: true, wantDetail: "no hook at [redacted]"},
		{name: "long body is clipped", status: http.StatusBadGateway, body: strings.Repeat("x", 10000), wantErr: true, retryable: true},
		{name: "302 is not followed", providers: []string{"webhook"}, status: http.StatusFound,
			header: http.Header{"Location": {"/elsewhere"}}, wantErr: true},
	}
	for _, tt := range tests {
		for _, provider := range providerNames(tt.providers) {
			t.Run(tt.name+"/"+provider, func(t *testing.T) {
				f := newProviderFake(t, tt.status, tt.header, tt.body)
				p := f.providers()
				if tt.status/100 == 3 {
					p.HTTP = nil // the default client does not follow redirects
				}
				err := p.Send(t.Context(), providerTargets(f.URL)[provider], providerEvent("trigger"))
				if n := len(f.requests()); n != 1 {
					t.Errorf("%d requests, want exactly one attempt", n)
				}
				if !tt.wantErr {
					if err != nil {
						t.Fatalf("Send: %v", err)
					}
					return
				}
				pe := providerErr(t, err)
				if pe.Provider != provider || pe.Status != tt.status {
					t.Errorf("Provider, Status = %q, %d; want %q, %d", pe.Provider, pe.Status, provider, tt.status)
				}
				if pe.Retryable() != tt.retryable {
					t.Errorf("Retryable() = %v, want %v (%v)", pe.Retryable(), tt.retryable, err)
				}
				if d := pe.RetryAfter() - tt.wait; d < -tt.waitSlack || d > tt.waitSlack || pe.RetryAfter() != pe.Wait {
					t.Errorf("RetryAfter() = %v, Wait = %v; want %v", pe.RetryAfter(), pe.Wait, tt.wait)
				}
				if !strings.Contains(pe.Detail, tt.wantDetail) {
					t.Errorf("Detail = %q, want it to contain %q", pe.Detail, tt.wantDetail)
				}
				if !strings.HasPrefix(err.Error(), provider+" answered ") || !strings.Contains(err.Error(), http.StatusText(tt.status)) {
					t.Errorf("Error() = %q", err)
				}
			})
		}
	}
}

func providerNames(names []string) []string {
	if len(names) == 0 {
		return []string{"pagerduty", "opsgenie", "webhook"}
	}
	return names
}

// providerErr checks err is a *ProviderError that leaks no secret.
func providerErr(t *testing.T, err error) *ProviderError {
	t.Helper()
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	for _, secret := range []string{"SECRET", "/hooks/", "T000", "token="} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Error() %q contains %q", err, secret)
		}
	}
	pe, ok := errors.AsType[*ProviderError](err)
	if !ok {
		t.Fatalf("error %T %v is not a *ProviderError", err, err)
	}
	if len([]rune(pe.Detail)) > 200 {
		t.Errorf("Detail has %d characters, want at most 200", len([]rune(pe.Detail)))
	}
	return pe
}

func TestProviderFailures(t *testing.T) {
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
		ev        ProviderEvent
		retryable bool
		provider  string // default: the provider
		detail    string
	}{
		{name: "connection refused", base: closed.URL, retryable: true, detail: "refused"},
		{name: "timeout", base: slow.URL, client: &http.Client{Timeout: 50 * time.Millisecond}, retryable: true, detail: "Timeout"},
		{name: "opsgenie env var unset", providers: []string{"opsgenie"}, target: "opsgenie:OPSGENIE_OTHER_KEY", detail: "OPSGENIE_OTHER_KEY"},
		{name: "opsgenie no env var", providers: []string{"opsgenie"}, target: "opsgenie:", detail: "env var"},
		{name: "pagerduty no routing key", providers: []string{"pagerduty"}, target: "pagerduty:", detail: "routing key"},
		{name: "webhook not http", providers: []string{"webhook"}, target: "webhook:ftp://example.com/hooks/T000/SECRETPATH", detail: "http"},
		{name: "webhook not a URL", providers: []string{"webhook"}, target: "webhook:http://exa mple.com/hooks/T000/SECRETPATH\x7f", detail: "URL"},
		{name: "unknown kind", providers: []string{"sms"}, target: "sms:+15550100SECRET", provider: "-", detail: `"sms"`},
		{name: "no kind", providers: []string{"bare"}, target: "SECRETKEY123", provider: "-", detail: "no kind"},
		{name: "unknown action", ev: ProviderEvent{Action: "snooze", DedupKey: "k"}, detail: "snooze"},
		{name: "resolve without dedup key", ev: ProviderEvent{Action: "resolve"}, detail: "dedup key"},
		{name: "trigger without dedup key", ev: ProviderEvent{Action: "trigger", Ref: "INC-3"}, detail: "dedup key"},
	}
	for _, tt := range tests {
		for _, provider := range providerNames(tt.providers) {
			t.Run(tt.name+"/"+provider, func(t *testing.T) {
				f := newProviderFake(t, http.StatusAccepted, nil, "")
				base := f.URL
				if tt.base != "" {
					base = tt.base
				}
				p := f.providers()
				p.PagerDutyURL, p.OpsgenieURL = base, base
				if tt.client != nil {
					p.HTTP = tt.client
				}
				target := providerTargets(base)[provider]
				if tt.target != "" {
					target = tt.target
				}
				ev := tt.ev
				if ev.Action == "" {
					ev = providerEvent("trigger")
				}
				pe := providerErr(t, p.Send(t.Context(), target, ev))
				want := provider
				if tt.provider == "-" {
					want = ""
				}
				if pe.Provider != want || pe.Status != 0 {
					t.Errorf("Provider, Status = %q, %d; want %q, 0", pe.Provider, pe.Status, want)
				}
				if pe.Retryable() != tt.retryable {
					t.Errorf("Retryable() = %v, want %v (%v)", pe.Retryable(), tt.retryable, pe)
				}
				if !strings.Contains(pe.Detail, tt.detail) {
					t.Errorf("Detail = %q, want it to contain %q", pe.Detail, tt.detail)
				}
				if n := len(f.requests()); n != 0 {
					t.Errorf("the working server got %d requests", n)
				}
			})
		}
	}
}

func TestProviderContextCanceled(t *testing.T) {
	arrived, done := make(chan struct{}, 1), make(chan struct{})
	blocking := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a closed connection only after the body
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer blocking.Close()
	defer close(done)
	tests := []struct {
		name   string
		before bool // cancel before Send, else while the request waits
	}{
		{"cancelled before", true},
		{"cancelled during", false},
	}
	for _, tt := range tests {
		for _, provider := range providerNames(nil) {
			t.Run(tt.name+"/"+provider, func(t *testing.T) {
				p := &Providers{PagerDutyURL: blocking.URL, OpsgenieURL: blocking.URL, Getenv: func(string) string { return providerGenieKey }}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.before {
					cancel()
				} else {
					go func() { <-arrived; cancel() }()
				}
				err := p.Send(ctx, providerTargets(blocking.URL)[provider], providerEvent("trigger"))
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if pe := providerErr(t, err); !pe.Retryable() {
					t.Errorf("a cancelled attempt should stay retryable so the job is kept")
				}
			})
		}
	}
}
