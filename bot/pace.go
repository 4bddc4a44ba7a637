package bot

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Slack limits each Web API method per workspace by its tier (calls a
// minute, with short bursts allowed). Pace keeps the bot inside them: one
// token bucket per method, shared by every lane, so a pin storm's
// reactions.add cannot use up what another incident's calls need, and the
// bot spreads its calls instead of bursting fifty in a second and then
// stalling on 429s. A call without a token is not made: the transport fails
// it with a PacedError holding the time until the next token, which the
// dispatcher waits out without holding a worker, as for Slack's own 429. A
// real 429 from Slack also pauses that method's bucket for everyone.

// Rate is a method's limit.
type Rate struct {
	PerMinute int
	Burst     int
}

// Tiers are Slack's documented limits for the methods the bot calls
// (chat.postMessage is limited per channel instead: PostInterval).
var Tiers = map[string]Rate{
	"conversations.create":         {20, 3},
	"conversations.setTopic":       {20, 3},
	"pins.add":                     {20, 3},
	"usergroups.users.list":        {20, 3},
	"usergroups.users.update":      {20, 3},
	"conversations.list":           {20, 3},
	"conversations.history":        {50, 5},
	"conversations.replies":        {50, 5},
	"conversations.invite":         {50, 5},
	"conversations.info":           {50, 5},
	"conversations.open":           {50, 5},
	"reactions.add":                {50, 5},
	"reactions.remove":             {50, 5},
	"chat.update":                  {50, 5},
	"users.info":                   {100, 10},
	"users.lookupByEmail":          {50, 5},
	"chat.getPermalink":            {100, 10},
	"chat.postEphemeral":           {100, 10},
	"views.open":                   {100, 10},
	"files.getUploadURLExternal":   {20, 3},
	"files.completeUploadExternal": {20, 3},
}

// Pacer is an http.RoundTripper that paces Slack Web API calls per method.
type Pacer struct {
	next  http.RoundTripper
	now   func() time.Time
	rates map[string]Rate

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
	until  time.Time // Slack asked to wait until then (Retry-After)
}

// NewPacer paces calls through next (nil: http.DefaultTransport) with the
// given rates (nil: Tiers), scaled by scale (1: Slack's own; tests speed
// them up). now is the clock.
func NewPacer(next http.RoundTripper, rates map[string]Rate, scale float64, now func() time.Time) *Pacer {
	if next == nil {
		next = http.DefaultTransport
	}
	if rates == nil {
		rates = Tiers
	}
	if scale <= 0 {
		scale = 1
	}
	scaled := map[string]Rate{}
	for m, r := range rates {
		scaled[m] = Rate{PerMinute: int(math.Max(1, float64(r.PerMinute)*scale)), Burst: r.Burst}
	}
	return &Pacer{next: next, now: now, rates: scaled, buckets: map[string]*bucket{}}
}

// RoundTrip implements http.RoundTripper.
func (p *Pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	method := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	rate, paced := p.rates[method]
	if !paced {
		return p.next.RoundTrip(req)
	}
	if wait := p.take(method, rate); wait > 0 {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &PacedError{Method: method, Wait: wait}
	}
	resp, err := p.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
			p.pause(method, time.Duration(secs)*time.Second)
		}
	}
	return resp, err
}

// take spends a token of method's bucket, or says how long until one.
func (p *Pacer) take(method string, rate Rate) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	b := p.buckets[method]
	if b == nil {
		b = &bucket{tokens: float64(rate.Burst), at: now}
		p.buckets[method] = b
	}
	if now.Before(b.until) {
		return b.until.Sub(now)
	}
	// The burst is part of the minute's budget, so no minute (no sliding
	// window, as Slack counts) ever holds more than PerMinute calls.
	// A tenth is kept in hand for the calls Slack counts at the edge of its
	// window.
	per := time.Minute / time.Duration(max(1, (rate.PerMinute-rate.Burst)*9/10))
	b.tokens = math.Min(float64(rate.Burst), b.tokens+float64(now.Sub(b.at))/float64(per))
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(per))
}

// pause holds a method back after Slack's own 429.
func (p *Pacer) pause(method string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buckets[method]
	if b == nil {
		b = &bucket{at: p.now()}
		p.buckets[method] = b
	}
	if until := p.now().Add(d); until.After(b.until) {
		b.until, b.tokens = until, 0
	}
}

// PacedError is a call the pacer did not make: its method's bucket is empty
// for Wait. The dispatcher waits it out (to the millisecond, unlike Slack's
// whole-second Retry-After) without holding a worker.
type PacedError struct {
	Method string
	Wait   time.Duration
}

func (e *PacedError) Error() string {
	return "held back to stay within Slack's rate limit for " + e.Method
}
