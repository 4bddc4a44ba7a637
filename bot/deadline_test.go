package bot

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A request through Deadline ends when its time is up, whether the server
// never answers or stalls in the middle of the body, and a request that
// finishes in time reads its whole body.
func TestDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) })
	mux.HandleFunc("/silent", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/stalls", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, `{"ok":`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Transport: Deadline(http.DefaultTransport, 200*time.Millisecond)}

	resp, err := client.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatalf("a quick request failed: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != `{"ok":true}` {
		t.Errorf("quick request read %q, %v", body, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Errorf("closing the body: %v", err)
	}

	start := time.Now()
	if _, err := client.Get(srv.URL + "/silent"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a server that never answers: err = %v, want the deadline", err)
	}
	resp, err = client.Get(srv.URL + "/stalls")
	if err != nil {
		t.Fatalf("the headers came in time, yet: %v", err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a body that stalls: err = %v, want the deadline", err)
	}
	_ = resp.Body.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("two stalled requests took %s with a deadline of 200ms each", took)
	}
}
