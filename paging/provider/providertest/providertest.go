// Package providertest helps test paging providers and their callers: a
// check that no secret leaks into text a user will see, and a recording
// fake provider server.
package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/paging/provider"
)

// AssertNoSecret fails t for every text that contains one of secrets
// (compared case-insensitively: a server may echo a key upper-cased).
// Empty secrets are ignored.
func AssertNoSecret(t testing.TB, secrets []string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
				t.Errorf("text contains the secret %q: %q", s, text)
			}
		}
	}
}

// Request is one request a Server received.
type Request struct {
	Method, Path, Query string // Path is escaped, Query raw
	Header              http.Header
	Body                map[string]any // the JSON body, decoded
}

// Server is a fake provider: it records requests and answers each with
// Status, Header and Body.
type Server struct {
	*httptest.Server
	Status int
	Header http.Header
	Body   string

	mu   sync.Mutex
	seen []Request
}

// NewServer starts a Server, closed when the test ends. Every request must
// have a JSON body.
func NewServer(t testing.TB, status int, header http.Header, body string) *Server {
	t.Helper()
	s := &Server{Status: status, Header: header, Body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone()}
		if err := json.Unmarshal(raw, &req.Body); err != nil {
			t.Errorf("%s %s: body is not JSON: %v: %q", r.Method, r.URL.Path, err, raw)
		}
		s.mu.Lock()
		s.seen = append(s.seen, req)
		s.mu.Unlock()
		for k, v := range s.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(s.Status)
		io.WriteString(w, s.Body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Field follows a path of keys (and list index "0") into decoded JSON;
// nil when a step is missing. "payload.summary" is Field(v, "payload", "summary").
func Field(v any, path ...string) any {
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

// Event returns a typical event with the action: INC-3, sev1, paged by Ana
// through policy payments at level 2, with a channel link and a message.
func Event(action string) provider.Event {
	return provider.Event{
		Action: action, DedupKey: "incidentbot-INC-3", Ref: "INC-3", Title: "Checkout is down",
		Severity: "sev1", Status: "investigating", ChannelURL: "https://acme.slack.com/archives/C0123",
		Message: "Payments fail for everyone", PagedBy: "Ana", Policy: "payments", Level: 2,
		At: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

// CheckRequest checks that got is a POST to path?query whose headers
// include header and whose body has want: a dotted path
// ("payload.summary", "links.0.href") to its value, nil for absent.
func CheckRequest(t testing.TB, got Request, path, query string, header map[string]string, want map[string]any) {
	t.Helper()
	if got.Method != http.MethodPost || got.Path != path || got.Query != query {
		t.Errorf("request %s %s?%s, want POST %s?%s", got.Method, got.Path, got.Query, path, query)
	}
	for k, v := range header {
		if got.Header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), v)
		}
	}
	for p, w := range want {
		if v := Field(got.Body, strings.Split(p, ".")...); v != w {
			t.Errorf("%s = %#v, want %#v", p, v, w)
		}
	}
}
