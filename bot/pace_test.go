package bot

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// slackStub counts the calls that reach Slack and answers them with status.
type slackStub struct {
	mu     sync.Mutex
	calls  int
	status int
	after  string
}

func (s *slackStub) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	rec := httptest.NewRecorder()
	if s.after != "" {
		rec.Header().Set("Retry-After", s.after)
	}
	rec.WriteHeader(s.status)
	return rec.Result(), nil
}

// pacedCall makes a call through p; a call the pacer holds back comes
// back as a 429 response here, with the wait in milliseconds.
func pacedCall(t *testing.T, p *Pacer, method string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "https://slack.com/api/"+method, nil)
	resp, err := p.RoundTrip(req)
	var paced *PacedError
	switch {
	case errors.As(err, &paced):
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {strconv.FormatInt(paced.Wait.Milliseconds(), 10) + "ms"}}}
	case err != nil:
		t.Fatal(err)
	}
	return resp
}

// TestPacerSpreadsCallsPerMethod checks a method's burst goes through, the
// next call is answered locally with the wait until a token, a token comes
// back at the method's rate, other methods are not affected, and Slack's
// own 429 pauses the method for every caller.
func TestPacerSpreadsCallsPerMethod(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	slack := &slackStub{status: http.StatusOK}
	// (70-3)×9/10 = 60 a minute after the burst of 3: a token a second.
	p := NewPacer(slack, map[string]Rate{"reactions.add": {PerMinute: 70, Burst: 3}, "users.info": {PerMinute: 68, Burst: 1}}, 1,
		func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if r := pacedCall(t, p, "reactions.add"); r.StatusCode != http.StatusOK {
			t.Fatalf("call %d of the burst: %d", i+1, r.StatusCode)
		}
	}
	r := pacedCall(t, p, "reactions.add")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1000ms" || slack.calls != 3 {
		t.Errorf("4th call: %d Retry-After %q, Slack saw %d calls; want it held back for 1 s", r.StatusCode, r.Header.Get("Retry-After"), slack.calls)
	}
	if r := pacedCall(t, p, "users.info"); r.StatusCode != http.StatusOK {
		t.Errorf("another method was held back with reactions.add: %d", r.StatusCode)
	}
	if r := pacedCall(t, p, "chat.postMessage"); r.StatusCode != http.StatusOK {
		t.Errorf("an unpaced method was held back: %d", r.StatusCode)
	}
	now = now.Add(time.Second)
	if r := pacedCall(t, p, "reactions.add"); r.StatusCode != http.StatusOK {
		t.Errorf("a token did not come back after 1 s at 60/min: %d", r.StatusCode)
	}

	slack.status, slack.after = http.StatusTooManyRequests, "30"
	now = now.Add(time.Minute)
	if r := pacedCall(t, p, "reactions.add"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("Slack's 429 did not come through: %d", r.StatusCode)
	}
	slack.status, slack.after = http.StatusOK, ""
	before := slack.calls
	now = now.Add(10 * time.Second)
	if r := pacedCall(t, p, "reactions.add"); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "20000ms" || slack.calls != before {
		t.Errorf("after Slack asked for 30 s, a call 10 s later: %d Retry-After %q (Slack saw it: %v)", r.StatusCode, r.Header.Get("Retry-After"), slack.calls != before)
	}
	now = now.Add(21 * time.Second)
	if r := pacedCall(t, p, "reactions.add"); r.StatusCode != http.StatusOK {
		t.Errorf("the method stayed paused after Slack's Retry-After: %d", r.StatusCode)
	}
}
