package main

import (
	"slices"
	"sync"
	"time"
)

// simClock is a clock that only moves when told. The demo uses it to replay
// an incident at its real times in seconds; tests use it to drive
// escalations and reminders without sleeping. It implements bot.Clock.
//
// Its After ends when the clock is moved to the time waited for, or when
// that long has passed in real time, whichever comes first; Now stays where
// it was put either way. The bot waits through its clock for what is due at
// a time (escalations, reminders: it checks Now, so these still wait for the
// clock to be moved) and for breaks measured from now (a retry's backoff or
// Retry-After, the spacing of posts to a channel, the shutdown grace). The
// second kind goes on in real time while the clock stands still, as in tests
// that leave it standing while a provider refuses a page a few times, and
// ends at once when the clock is moved past it.
type simClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*simWaiter
}

type simWaiter struct {
	at   time.Time
	ch   chan time.Time
	wall *time.Timer // ends the wait in real time
}

func newSimClock(start time.Time) *simClock { return &simClock{now: start} }

// Now returns the simulated time.
func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock reaches now+d, or
// once d has passed in real time.
func (c *simClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	w := &simWaiter{at: c.now.Add(d), ch: ch}
	c.waiters = append(c.waiters, w)
	w.wall = time.AfterFunc(d, func() { c.release(w) })
	return ch
}

// release ends w's wait in real time, unless the clock already ended it.
func (c *simClock) release(w *simWaiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.waiters, w); i >= 0 {
		c.waiters = slices.Delete(c.waiters, i, i+1)
		w.ch <- c.now
	}
}

// Set moves the clock to t (never backwards) and fires due waiters.
func (c *simClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		return
	}
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.wall.Stop()
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}

// Advance moves the clock forward by d.
func (c *simClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }
