package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// roundTripFunc answers requests without a network, so the retry rule is
// tested on its own, as alertmanager's TestRetryStageWithError does with a
// notifier func.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answering is a client whose every request gets status and header.
func answering(status int, header http.Header, err error) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})}
}

func TestRetryDecision(t *testing.T) {
	ra := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	tests := []struct {
		name   string
		status int
		header http.Header
		err    error // the transport's, instead of an answer
		want   Decision
		ok     bool // delivered
	}{
		{name: "200", status: 200, ok: true},
		{name: "202", status: 202, ok: true},
		{name: "204", status: 204, ok: true},
		{name: "429 without Retry-After", status: 429, want: Decision{Retry: true}},
		{name: "429 with Retry-After", status: 429, header: ra("7"), want: Decision{Retry: true, After: 7 * time.Second}},
		{name: "408", status: 408, want: Decision{Retry: true}},
		{name: "500", status: 500, want: Decision{Retry: true}},
		{name: "502", status: 502, want: Decision{Retry: true}},
		{name: "503 with Retry-After", status: 503, header: ra("120"), want: Decision{Retry: true, After: 2 * time.Minute}},
		{name: "504", status: 504, want: Decision{Retry: true}},
		{name: "400", status: 400, want: Decision{}},
		{name: "401", status: 401, want: Decision{}},
		{name: "403", status: 403, want: Decision{}},
		{name: "404", status: 404, want: Decision{}},
		{name: "405", status: 405, want: Decision{}},
		{name: "409", status: 409, want: Decision{}},
		{name: "413", status: 413, want: Decision{}},
		{name: "422", status: 422, want: Decision{}},
		{name: "400 ignores Retry-After", status: 400, header: ra("7"), want: Decision{}},
		{name: "302 not followed", status: 302, header: http.Header{"Location": {"/elsewhere"}}, want: Decision{}},
		{name: "connection reset", err: errors.New("connection reset by peer"), want: Decision{Retry: true}},
		{name: "deadline", err: context.DeadlineExceeded, want: Decision{Retry: true}},
		{name: "cancelled", err: context.Canceled, want: Decision{Retry: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := answering(tt.status, tt.header, tt.err)
			client.CheckRedirect = defaultClient.CheckRedirect
			d, err := Post(t.Context(), client, "pagerduty", "https://events.example.com/v2/enqueue", nil, map[string]string{})
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want delivered %v", err, tt.ok)
			}
			if d != tt.want {
				t.Errorf("Decision = %+v, want %+v (%v)", d, tt.want, err)
			}
			if err == nil {
				return
			}
			pe, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %T is not an *Error", err)
			}
			if pe.Status != tt.status {
				t.Errorf("Status = %d, want %d", pe.Status, tt.status)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("err = %v does not wrap %v", err, tt.err)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 30 ", 30 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

const (
	routingKey = "SECRETKEY123"
	genieKey   = "SECRETGENIE456"
	hookPath   = "/hooks/T000/SECRETPATH"
)

// assertClean checks err is an *Error that leaks no secret, with a short Detail.
func assertClean(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("Post succeeded, want an error")
	}
	for _, secret := range []string{"SECRET", "/hooks/", "T000", "token="} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Error() %q contains %q", err, secret)
		}
	}
	pe, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if n := len([]rune(pe.Detail)); n > 200 {
		t.Errorf("Detail has %d characters, want at most 200", n)
	}
	return pe
}

func TestPostAnswers(t *testing.T) {
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		secrets    []string
		want       Decision
		waitSlack  time.Duration
		wantDetail string
		ok         bool
	}{
		{name: "202 accepted", status: http.StatusAccepted, ok: true},
		{name: "200 ok", status: http.StatusOK, body: "ok", ok: true},
		{name: "429 with Retry-After seconds", status: 429, header: http.Header{"Retry-After": {"7"}},
			body: `{"status":"throttle event","message":"Requests for this service are arriving too quickly."}`,
			want: Decision{Retry: true, After: 7 * time.Second}, wantDetail: "arriving too quickly"},
		{name: "429 with Retry-After date", status: 429, header: http.Header{"Retry-After": {date}},
			want: Decision{Retry: true, After: 30 * time.Second}, waitSlack: 3 * time.Second},
		{name: "503", status: 503, body: "<html> upstream\n  unavailable </html>",
			want: Decision{Retry: true}, wantDetail: "<html> upstream unavailable </html>"},
		{name: "pagerduty 400 invalid event", status: 400, secrets: []string{routingKey},
			body:       `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect: SECRETKEY123"]}`,
			wantDetail: "Event object is invalid; Length of 'routing_key' is incorrect: [redacted]"},
		{name: "opsgenie 422 field errors", status: 422,
			body:       `{"message":"Request body is not processable","errors":{"message":"Message can not be empty."},"took":0.001}`,
			wantDetail: "Request body is not processable; message: Message can not be empty."},
		{name: "opsgenie 401 bad key", status: 401, secrets: []string{genieKey},
			body: `{"message":"Key format is not valid! SECRETGENIE456"}`, wantDetail: "Key format is not valid! [redacted]"},
		{name: "gateway errorMessages", status: 403, body: `{"errorMessages":["Forbidden","try again"],"errors":{}}`,
			wantDetail: "Forbidden; try again"},
		{name: "odd errorMessages keep message", status: 400, body: `{"message":"bad","errorMessages":"x"}`, wantDetail: "bad"},
		{name: "webhook 404 echoes its path", status: 404, secrets: []string{"token=SECRETQUERY", hookPath},
			body: "no hook at /hooks/T000/SECRETPATH?token=SECRETQUERY", wantDetail: "no hook at [redacted]"},
		{name: "long body is clipped", status: 502, body: strings.Repeat("x", 10000), want: Decision{Retry: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Extra") != "yes" {
					t.Errorf("headers %v", r.Header)
				}
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			d, err := Post(t.Context(), srv.Client(), "opsgenie", srv.URL+hookPath, http.Header{"X-Extra": {"yes"}}, map[string]int{"a": 1}, tt.secrets...)
			if tt.ok {
				if err != nil || d != (Decision{}) {
					t.Fatalf("Post = %+v, %v; want delivered", d, err)
				}
				return
			}
			pe := assertClean(t, err)
			if pe.Provider != "opsgenie" || pe.Status != tt.status {
				t.Errorf("Provider, Status = %q, %d", pe.Provider, pe.Status)
			}
			if d.Retry != tt.want.Retry || (d.After-tt.want.After).Abs() > tt.waitSlack || d.After != pe.Wait && d.Retry {
				t.Errorf("Decision = %+v (Wait %v), want %+v", d, pe.Wait, tt.want)
			}
			if !strings.Contains(pe.Detail, tt.wantDetail) {
				t.Errorf("Detail = %q, want it to contain %q", pe.Detail, tt.wantDetail)
			}
			if !strings.HasPrefix(err.Error(), "opsgenie answered ") || !strings.Contains(err.Error(), http.StatusText(tt.status)) {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestPostDoesNotFollowRedirects(t *testing.T) {
	followed := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed = true
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	d, err := Post(t.Context(), nil, "webhook", srv.URL+"/hook", nil, map[string]int{})
	pe := assertClean(t, err)
	if followed || pe.Status != http.StatusFound || d.Retry {
		t.Errorf("followed %v, err %v, decision %+v", followed, err, d)
	}
}

func TestPostFailures(t *testing.T) {
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
		name   string
		url    string
		client *http.Client
		body   any
		want   Decision
		detail string
	}{
		{name: "connection refused", url: closed.URL + hookPath + "?token=SECRETQUERY", want: Decision{Retry: true}, detail: "refused"},
		{name: "timeout", url: slow.URL + hookPath, client: &http.Client{Timeout: 50 * time.Millisecond}, want: Decision{Retry: true}, detail: "Timeout"},
		{name: "not a URL", url: "http://exa mple.com/hooks/T000/SECRETPATH\x7f", detail: "the target URL is not valid"},
		{name: "body not encodable", url: slow.URL, body: map[string]any{"c": make(chan int)}, detail: "encoding the event: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == nil {
				body = map[string]string{}
			}
			d, err := Post(t.Context(), tt.client, "webhook", tt.url, nil, body, tt.url, hookPath)
			pe := assertClean(t, err)
			if d != tt.want || pe.Status != 0 || pe.Provider != "webhook" {
				t.Errorf("Decision %+v, Status %d, Provider %q; want %+v, 0, webhook", d, pe.Status, pe.Provider, tt.want)
			}
			if !strings.Contains(pe.Detail, tt.detail) {
				t.Errorf("Detail = %q, want it to contain %q", pe.Detail, tt.detail)
			}
		})
	}
}

func TestPostContextCanceled(t *testing.T) {
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
		ctx, cancel := context.WithCancel(t.Context())
		if before {
			cancel()
		} else {
			go func() { <-arrived; cancel() }()
		}
		d, err := Post(ctx, nil, "pagerduty", blocking.URL, nil, map[string]string{})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("before=%v: err = %v, want context.Canceled", before, err)
		}
		assertClean(t, err)
		if !d.Retry {
			t.Errorf("before=%v: a cancelled attempt should stay retryable so the job is kept", before)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Provider: "pagerduty", Status: 429, Detail: "slow down"}, "pagerduty answered 429 Too Many Requests: slow down"},
		{&Error{Provider: "jsm", Status: 422}, "jsm answered 422 Unprocessable Entity"},
		{&Error{Provider: "webhook", Status: 599}, "webhook answered 599"},
		{&Error{Provider: "opsgenie", Detail: "env var X holding the API key is not set"}, "opsgenie: env var X holding the API key is not set"},
		{&Error{Detail: "the target has no kind (want pagerduty:, opsgenie: or webhook:)"}, "paging provider: the target has no kind (want pagerduty:, opsgenie: or webhook:)"},
		{&Error{}, "paging provider"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example.com/T000/SECRET?token=x": "https://hooks.example.com/…",
		"http://user:pw@example.com:8080/x":             "http://example.com:8080/…",
		"ftp://hooks.example.com/x":                     "ftp://hooks.example.com/…",
		"https:///x":                                    "…",
		"hooks.example.com/x":                           "…",
		"https://hooks.example.com/%zz":                 "…",
		"":                                              "…",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"": "…", "abcdef": "…", "R0UTINGKEY": "R0U…", "éééééééé": "ééé…"} {
		if got := Abbreviate(in); got != want {
			t.Errorf("Abbreviate(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Clip("ééééé", 3); got != "éé…" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("abc", 3); got != "abc" {
		t.Errorf("Clip = %q", got)
	}
	ranks := map[string]int{"sev1": 0, "SEV2": 1, " sev3 ": 2, "sev4": 3, "": 2, "sev9": 2}
	for sev, want := range ranks {
		if got := (Event{Severity: sev}).Rank(); got != want {
			t.Errorf("Rank(%q) = %d, want %d", sev, got, want)
		}
	}
	ev := Event{Ref: "INC-3", Title: "Down", At: time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))}
	if ev.Summary() != "[INC-3] Down" || ev.Timestamp() != "2025-03-04T04:06:07Z" {
		t.Errorf("Summary, Timestamp = %q, %q", ev.Summary(), ev.Timestamp())
	}
	if _, err := time.Parse(time.RFC3339, (Event{}).Timestamp()); err != nil {
		t.Errorf("Timestamp of a zero time: %v", err)
	}
}
