package slackfake

import "time"

// Fault describes how a Web API call should fail.
//
//   - Status 429 (or Status 0 with RetryAfter > 0): HTTP 429 with a
//     Retry-After header of RetryAfter rounded up to whole seconds and body
//     {"ok":false,"error":"ratelimited"}; slack-go reports
//     *slack.RateLimitedError.
//   - Any other non-200 Status (e.g. 500, 503): that status with an HTML
//     body, as Slack sends; slack-go reports slack.StatusCodeError.
//   - Otherwise: HTTP 200 with {"ok":false,"error":Error} (Error defaults
//     to "internal_error").
type Fault struct {
	Status     int
	RetryAfter time.Duration
	Error      string
	// Apply makes the call take effect before the fault is returned, as
	// when Slack acted but the response was lost. Use it to test that
	// retries do not duplicate work.
	Apply bool
	// Channel, when set, limits a queued fault to calls whose channel
	// argument is Channel; calls to other channels pass it by.
	Channel string
}

type faultState struct {
	next map[string][]Fault // method → queued faults, consumed in order
	all  *Fault
}

// FailNext makes the next n calls of method fail with f. The method "*"
// matches any method. Queued faults are consumed before FailAll applies.
func (s *Server) FailNext(method string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.next == nil {
		s.faults.next = map[string][]Fault{}
	}
	for range n {
		s.faults.next[method] = append(s.faults.next[method], f)
	}
}

// FailAll makes every Web API call fail with f until ClearFaults.
func (s *Server) FailAll(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.all = &f
}

// ClearFaults removes all queued and standing faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultState{}
}

// RevokeTokens makes both tokens fail with token_revoked from now on, as
// after an app uninstall. Open sockets stay open; call DropConnections as
// well to make slack-go's reconnect hit the revoked token.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
	s.notifyLocked()
}

func (s *Server) takeFault(method, channel string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []string{method, "*"} {
		q := s.faults.next[m]
		for i, f := range q {
			if f.Channel == "" || f.Channel == channel {
				s.faults.next[m] = append(q[:i:i], q[i+1:]...)
				return f, true
			}
		}
	}
	if s.faults.all != nil {
		return *s.faults.all, true
	}
	return Fault{}, false
}

// BeforeReply makes fn run for every Web API call once it has taken effect
// (and is recorded in Calls) and before its reply is written, on the call's
// own goroutine and without the fake's lock held; nil removes it. A test
// kills the client there to lose the reply as a crash would (Slack acted,
// the bot never learnt it), or holds the reply while the bot shuts down.
func (s *Server) BeforeReply(fn func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeReply = fn
}
