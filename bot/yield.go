package bot

import (
	"context"
	"sync/atomic"
	"time"
)

// While envelopes stream in, the jobs about to call Slack wait a moment:
// on a machine with few cores a storm of confirmations (each call, and
// the echo Slack sends back for it) takes the CPU from reading, recording
// and acking the envelopes still arriving, and only the acks have a
// deadline. A job waits until no state-changing envelope has arrived for
// yieldQuiet, and never longer than yieldMax, so a steady stream cannot
// hold the outbox back. The bot's own echoes (acked at once, never
// recorded) do not count: the confirmations cannot hold themselves back.
// The waits are on real time (the scheduler's), not the bot's clock.
const (
	yieldQuiet = time.Millisecond
	yieldMax   = 50 * time.Millisecond
)

// arrivals tells when the last state-changing envelope arrived.
type arrivals struct {
	clock Clock        // RealClock; tests use a fake one
	last  atomic.Int64 // unix ns, 0: none yet
}

// arrived notes an envelope handed to the writer.
func (a *arrivals) arrived() { a.last.Store(a.clock.Now().UnixNano()) }

// yield returns once no envelope has arrived for yieldQuiet, or yieldMax
// after it was called, or when ctx ends.
func (a *arrivals) yield(ctx context.Context) {
	start := a.clock.Now()
	for {
		last := a.last.Load()
		if last == 0 {
			return
		}
		now := a.clock.Now()
		quiet := yieldQuiet - now.Sub(time.Unix(0, last))
		left := yieldMax - now.Sub(start)
		if quiet <= 0 || left <= 0 {
			return
		}
		select {
		case <-a.clock.After(min(quiet, left)):
		case <-ctx.Done():
			return
		}
	}
}
