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
// yieldQuiet and the writer is through with those that did, and never
// longer than yieldMax, so a steady stream cannot hold the outbox back. The bot's own echoes (acked at once, never
// recorded) do not count: the confirmations cannot hold themselves back.
// The waits are on real time (the scheduler's), not the bot's clock.
//
// In single-node mode yieldPasses jobs at a time go ahead without waiting,
// so a pin storm's ✅ keep coming while its pins are still recorded
// (measured: the last ✅ of a 300-pin storm 3–10 % sooner, its ack p99
// 15–20 % higher, inside its goal; BENCHMARKS.md). In cluster mode none
// do: there every commit waits on a quorum, and the CPU a confirmation takes on the leader
// (its call, its echo, forwarded echoes from the followers) delays every
// ack in the burst (its p99 ~35 % higher with passes).
const (
	yieldQuiet  = time.Millisecond
	yieldMax    = 50 * time.Millisecond
	yieldPasses = 2
)

// yieldPoll is how often a job waiting for the writer to be through looks
// again.
const yieldPoll = 200 * time.Microsecond

// arrivals tells when the last state-changing envelope arrived, and how
// many the writer is not through with.
type arrivals struct {
	clock   Clock        // RealClock; tests use a fake one
	last    atomic.Int64 // unix ns, 0: none yet
	pending atomic.Int64
	// passes holds a token for each job going ahead without yielding; nil
	// (cluster mode): none does.
	passes chan struct{}
}

// enter is where a job about to call Slack yields (yield), unless one of
// the passes is free: then it goes at once, and release returns the pass
// when its call is over.
func (a *arrivals) enter(ctx context.Context) (release func()) {
	select {
	case a.passes <- struct{}{}: // a nil channel is never ready
		return func() { <-a.passes }
	default:
	}
	a.yield(ctx)
	return func() {}
}

// arrived notes an envelope handed to the writer.
func (a *arrivals) arrived() {
	a.pending.Add(1)
	a.last.Store(a.clock.Now().UnixNano())
}

// done notes that the writer is through with n envelopes: committed and
// their acks on their way, or withheld, or not taken (the bot stops).
func (a *arrivals) done(n int) { a.pending.Add(-int64(n)) }

// yield returns once no envelope has arrived for yieldQuiet and none is
// pending, or yieldMax after it was called, or when ctx ends.
func (a *arrivals) yield(ctx context.Context) {
	start := a.clock.Now()
	for {
		last := a.last.Load()
		if last == 0 {
			return
		}
		now := a.clock.Now()
		wait := yieldQuiet - now.Sub(time.Unix(0, last))
		left := yieldMax - now.Sub(start)
		if wait <= 0 {
			if a.pending.Load() <= 0 {
				return
			}
			wait = yieldPoll
		}
		if left <= 0 {
			return
		}
		select {
		case <-a.clock.After(min(wait, left)):
		case <-ctx.Done():
			return
		}
	}
}
