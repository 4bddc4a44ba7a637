package metrics_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/metrics"
)

// slackServer answers like Slack's Web API would for the behaviour each
// path asks for.
func slackServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	reply := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	mux.HandleFunc("/api/chat.postMessage", reply(200, `{"ok":true,"channel":"C1","ts":"1.2"}`))
	mux.HandleFunc("/api/conversations.create", reply(200, `{"ok":false,"error":"name_taken"}`))
	mux.HandleFunc("/api/chat.update", reply(429, `{"ok":false,"error":"ratelimited"}`))
	mux.HandleFunc("/api/users.info", reply(500, `internal error`))
	mux.HandleFunc("/api/nope.nope", reply(404, `not found`))
	mux.HandleFunc("/api/conversations.list", reply(200, `[{"ok":false}]`))
	mux.HandleFunc("/api/conversations.info", reply(200, `{"channel":{"ok":false}}`))
	mux.HandleFunc("/api/pins.add", reply(200, `{"ok":false`))
	mux.HandleFunc("/api/bookmarks.add", reply(204, ``))
	mux.HandleFunc("/api/conversations.history", reply(200, bigBody(`{"ok":false,"error":"x","pad":"`, `"}`)))
	mux.HandleFunc("/api/conversations.replies", reply(200, bigBody(`{"pad":"`, `","ok":false}`)))
	mux.HandleFunc("/api/reactions.get", reply(200, `{"ok":true}`))
	mux.HandleFunc("/api/reactions.remove", reply(200, `{ "ok" : false, "error": "no_reaction" }`))
	mux.HandleFunc("/api/pins.remove", reply(200, `{"ok":false }`))
	mux.HandleFunc("/upload/v1/F123", reply(200, `OK - 12`))
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		// The connection drops before any response.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_ = conn.Close()
	})
	mux.HandleFunc("/api/reactions.add", func(w http.ResponseWriter, r *http.Request) {
		// The connection drops in the middle of the body.
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, truncated)
	})
	mux.HandleFunc("/", reply(200, `{"ok":true}`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const truncated = `{"ok":true,`

// bigBody is a JSON body larger than the 1 MiB the transport peeks at.
func bigBody(prefix, suffix string) string {
	return prefix + strings.Repeat("a", 2<<20) + suffix
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		method     string // the method label expected
		outcome    string
		wantBody   string // what the caller must read; ignored when wantErr
		wantErr    bool   // the round trip fails
		wantReadEr bool   // reading the body fails after wantBody
	}{
		{name: "ok true", path: "/api/chat.postMessage", method: "chat.postMessage", outcome: "ok",
			wantBody: `{"ok":true,"channel":"C1","ts":"1.2"}`},
		{name: "ok false", path: "/api/conversations.create", method: "conversations.create", outcome: "error",
			wantBody: `{"ok":false,"error":"name_taken"}`},
		{name: "429", path: "/api/chat.update", method: "chat.update", outcome: "rate_limited",
			wantBody: `{"ok":false,"error":"ratelimited"}`},
		{name: "500", path: "/api/users.info", method: "users.info", outcome: "server_error",
			wantBody: `internal error`},
		{name: "404", path: "/api/nope.nope", method: "nope.nope", outcome: "client_error",
			wantBody: `not found`},
		{name: "ok true alone", path: "/api/reactions.get", method: "reactions.get", outcome: "ok",
			wantBody: `{"ok":true}`},
		{name: "ok false with spaces", path: "/api/reactions.remove", method: "reactions.remove", outcome: "error",
			wantBody: `{ "ok" : false, "error": "no_reaction" }`},
		{name: "ok false then a space", path: "/api/pins.remove", method: "pins.remove", outcome: "error",
			wantBody: `{"ok":false }`},
		{name: "JSON that is not an object", path: "/api/conversations.list", method: "conversations.list", outcome: "ok",
			wantBody: `[{"ok":false}]`},
		{name: "ok false below the top level", path: "/api/conversations.info", method: "conversations.info", outcome: "ok",
			wantBody: `{"channel":{"ok":false}}`},
		{name: "malformed JSON after ok", path: "/api/pins.add", method: "pins.add", outcome: "error",
			wantBody: `{"ok":false`},
		{name: "empty body", path: "/api/bookmarks.add", method: "bookmarks.add", outcome: "ok"},
		{name: "body over the peek limit, ok first", path: "/api/conversations.history", method: "conversations.history",
			outcome: "error", wantBody: bigBody(`{"ok":false,"error":"x","pad":"`, `"}`)},
		{name: "body over the peek limit, ok past it", path: "/api/conversations.replies", method: "conversations.replies",
			outcome: "ok", wantBody: bigBody(`{"pad":"`, `","ok":false}`)},
		{name: "file upload answers text", path: "/upload/v1/F123", method: "files.upload", outcome: "ok",
			wantBody: `OK - 12`},
		{name: "closed connection", path: "/api/auth.test", method: "auth.test", outcome: "network_error",
			wantErr: true},
		{name: "connection closed mid-body", path: "/api/reactions.add", method: "reactions.add", outcome: "network_error",
			wantBody: truncated, wantReadEr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := slackServer(t)
			m := metrics.New()
			client := &http.Client{Transport: m.Transport(&http.Transport{DisableKeepAlives: true})}

			resp, err := client.PostForm(srv.URL+tt.path, url.Values{"token": {"xoxb-test"}})
			if tt.wantErr {
				if err == nil {
					_ = resp.Body.Close()
					t.Fatal("round trip succeeded, want an error")
				}
			} else {
				if err != nil {
					t.Fatalf("round trip: %v", err)
				}
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if got := (err != nil); got != tt.wantReadEr {
					t.Errorf("reading the body: err = %v, want an error: %v", err, tt.wantReadEr)
				}
				if !bytes.Equal(body, []byte(tt.wantBody)) {
					t.Errorf("caller read %s, want %s", abbrev(body), abbrev([]byte(tt.wantBody)))
				}
			}
			checkCalls(t, m, map[string]float64{
				`incidentbot_slack_api_calls_total{method="` + tt.method + `",outcome="` + tt.outcome + `"}`: 1,
			})
		})
	}
}

// Label values must stay few whatever URL is called: only well-formed
// method names under /api/ become labels.
func TestTransportMethodLabel(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		method string
	}{
		{name: "method", path: "/api/chat.postMessage", method: "chat.postMessage"},
		{name: "three parts", path: "/api/apps.connections.open", method: "apps.connections.open"},
		{name: "API URL with a prefix", path: "/slack/api/auth.test", method: "auth.test"},
		{name: "query is ignored", path: "/api/conversations.info?channel=C1", method: "conversations.info"},
		{name: "upload URL", path: "/upload/v1/F0123ABC", method: "files.upload"},
		{name: "response_url webhook", path: "/commands/T1/123/abc", method: "other"},
		{name: "root", path: "/", method: "other"},
		{name: "api without method", path: "/api/", method: "other"},
		{name: "method without a dot", path: "/api/chat", method: "other"},
		{name: "more path after the method", path: "/api/chat.postMessage/C1", method: "other"},
		{name: "uppercase family", path: "/api/Chat.postMessage", method: "other"},
		{name: "digits", path: "/api/chat.post1", method: "other"},
		{name: "trailing dot", path: "/api/chat.", method: "other"},
		{name: "too long", path: "/api/chat." + strings.Repeat("x", 60), method: "other"},
		{name: "longest accepted", path: "/api/chat." + strings.Repeat("x", 59), method: "chat." + strings.Repeat("x", 59)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := slackServer(t)
			m := metrics.New()
			client := &http.Client{Transport: m.Transport(nil)} // nil: http.DefaultTransport
			resp, err := client.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			checkCalls(t, m, map[string]float64{
				`incidentbot_slack_api_calls_total{method="` + tt.method + `",outcome="ok"}`: 1,
			})
		})
	}
}

// checkCalls checks want and that no other call was counted.
func checkCalls(t *testing.T, m *metrics.Metrics, want map[string]float64) {
	t.Helper()
	got := scrape(t, m)
	for series, v := range got {
		if strings.HasPrefix(series, "incidentbot_slack_api_calls_total{") {
			if _, ok := want[series]; !ok && v != 0 {
				t.Errorf("unexpected %s = %v", series, v)
			}
		}
	}
	checkSamples(t, got, want)
}

func abbrev(b []byte) string {
	if len(b) <= 80 {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(string(b[:40])) + "…" + strconv.Quote(string(b[len(b)-40:])) + " (" + strconv.Itoa(len(b)) + " bytes)"
}
