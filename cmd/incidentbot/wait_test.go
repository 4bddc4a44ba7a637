package main

// Waiting: for a condition, for the bot to have nothing left to do, and for
// simulated time to pass.

import (
	"context"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// waitUntil waits up to timeout for cond. It re-checks on every change in
// the fake, and at least every 10 ms for conditions outside it (the bot's
// state, a child process, an HTTP endpoint).
func waitUntil(t testing.TB, fake *slackfake.Server, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		err := fake.WaitFor(ctx, cond)
		cancel()
		if err == nil {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// waitFor waits up to 10 s for cond (see waitUntil).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	waitUntil(h.t, h.fake, what, 10*time.Second, cond)
}

// idle waits until the bot has no outbound work due or running (timers set
// for later, such as reminders and escalations, do not count).
func (h *harness) idle() {
	h.t.Helper()
	h.waitFor("the outbox to drain", func() bool { return h.app.bot.Due() == 0 })
}

// waitMessageAt waits until the message at channel/ts satisfies cond (which
// gets the zero Message while there is none).
func (h *harness) waitMessageAt(channel, ts, what string, cond func(slackfake.Message) bool) {
	h.t.Helper()
	h.waitFor(what, func() bool {
		m, _ := h.fake.Message(channel, ts)
		return cond(m)
	})
}

// FastForward moves the simulated clock (withSimClock) on by d, wakes the bot
// so it sees the new time, and waits until it is idle: what fell due in d
// (escalation timeouts, reminders, retries) is done. While the bot is
// stopped it only moves the clock; the bot catches up when it starts.
func (h *harness) FastForward(d time.Duration) {
	h.t.Helper()
	h.advance(d)
	if h.running() {
		h.idle()
	}
}

// advance is FastForward without the wait, for racing the bot's reaction
// to the new time against something else.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	if h.clock == nil {
		h.t.Fatalf("FastForward(%s): the bot runs on the wall clock (start the harness withSimClock)", d)
	}
	h.clock.Advance(d)
	if h.running() {
		h.app.bot.Kick()
	}
}
