package slackfake

import (
	"time"
)

// Slack limits each Web API method per workspace (its tier: calls a
// minute). With Options.RateLimits set, the fake enforces them as Slack
// does — a call over the limit gets HTTP 429 with a Retry-After — so a test
// can show that a storm of one kind of call does not starve other work.
// Options.RateScale speeds the minute up (60: the limits hold per second).

// rateLimiter counts each limited method's calls in a sliding window.
type rateLimiter struct {
	limits map[string]int
	window time.Duration
	calls  map[string][]time.Time
}

func newRateLimiter(limits map[string]int, scale float64) *rateLimiter {
	if len(limits) == 0 {
		return nil
	}
	if scale <= 0 {
		scale = 1
	}
	return &rateLimiter{limits: limits, window: time.Duration(float64(time.Minute) / scale), calls: map[string][]time.Time{}}
}

// allow records a call of method at now, or says how long until one is
// allowed. Call with s.mu held.
func (l *rateLimiter) allow(method string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	limit, ok := l.limits[method]
	if !ok {
		return 0, true
	}
	kept := l.calls[method][:0]
	for _, at := range l.calls[method] {
		if now.Sub(at) < l.window {
			kept = append(kept, at)
		}
	}
	l.calls[method] = kept
	if len(kept) >= limit {
		return kept[0].Add(l.window).Sub(now), false
	}
	l.calls[method] = append(kept, now)
	return 0, true
}
