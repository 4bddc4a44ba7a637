package bot

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Deadline bounds every request through it to d, from the request to the
// end of its body, as http.Client.Timeout does. The bot's Slack client
// uses it instead of Timeout: the client enforces Timeout cheaply (a
// context deadline) only when its transport is an *http.Transport, and
// through any other RoundTripper (the metrics' and the pacer's wrap it) it
// starts a goroutine and a timer per request — 8 % of the bot's CPU in a
// 300-pin storm. Each request, including each hop of a redirect, gets its
// own d.
func Deadline(next http.RoundTripper, d time.Duration) http.RoundTripper {
	return deadline{next: next, d: d}
}

type deadline struct {
	next http.RoundTripper
	d    time.Duration
}

func (t deadline) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.d)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends the request's context when its body is closed (as
// every caller must), so the timer does not outlive the request.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
