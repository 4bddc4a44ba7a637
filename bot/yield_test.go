package bot

import (
	"context"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// yielded runs yield in a goroutine and returns a channel closed when it
// returns.
func yielded(ctx context.Context, a *arrivals) <-chan struct{} {
	done := make(chan struct{})
	go func() { a.yield(ctx); close(done) }()
	return done
}

func returned(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// A job goes at once when no envelope has come; after one, it waits until
// none has come for yieldQuiet.
func TestYieldWaitsForQuiet(t *testing.T) {
	clock := newFakeClock()
	a := &arrivals{clock: clock}
	a.yield(context.Background()) // none yet: returns at once

	a.arrived()
	a.done(1) // the writer is through with it: only the quiet counts
	done := yielded(context.Background(), a)
	clock.waitFor(t, t0.Add(yieldQuiet))
	if returned(done) {
		t.Fatal("the job went on while an envelope had just arrived")
	}
	clock.advance(yieldQuiet)
	eventually(t, "the job to go on once quiet", func() bool { return returned(done) })

	// Once quiet, at once.
	a.yield(context.Background())
}

// Once quiet, a job still waits while the writer is not through with the
// envelopes that came (their commit and acks are what it yields to).
func TestYieldWaitsForTheWriter(t *testing.T) {
	clock := newFakeClock()
	a := &arrivals{clock: clock}
	a.arrived()
	a.arrived()
	done := yielded(context.Background(), a)
	clock.waitFor(t, t0.Add(yieldQuiet))
	clock.advance(yieldQuiet)
	clock.waitFor(t, t0.Add(yieldQuiet+yieldPoll))
	if returned(done) {
		t.Fatal("the job went on while the writer still had both envelopes")
	}
	a.done(1)
	clock.advance(yieldPoll)
	clock.waitFor(t, t0.Add(yieldQuiet+2*yieldPoll))
	if returned(done) {
		t.Fatal("the job went on while the writer still had an envelope")
	}
	a.done(1)
	clock.advance(yieldPoll)
	eventually(t, "the job to go on once the writer is through", func() bool { return returned(done) })
}

// A steady stream of envelopes holds a job back for yieldMax, no longer.
func TestYieldIsBounded(t *testing.T) {
	clock := newFakeClock()
	a := &arrivals{clock: clock}
	a.arrived()
	done := yielded(context.Background(), a)
	for !returned(done) {
		if clock.Now().Sub(t0) > yieldMax+yieldQuiet {
			t.Fatalf("the job still waits %s into a stream of envelopes", clock.Now().Sub(t0))
		}
		// An envelope every half yieldQuiet: never quiet.
		eventually(t, "the job to wait on the clock", func() bool { return len(clock.deadlines()) > 0 || returned(done) })
		a.arrived()
		a.done(1)
		clock.advance(yieldQuiet / 2)
	}
	if at := clock.Now().Sub(t0); at < yieldMax {
		t.Errorf("the job went on after %s of a stream of envelopes, want %s", at, yieldMax)
	}
}

// With passes, that many jobs go ahead at once while envelopes stream in;
// the next one yields, until a pass is released. Without (cluster mode),
// every job yields.
func TestYieldPasses(t *testing.T) {
	clock := newFakeClock()
	a := &arrivals{clock: clock, passes: make(chan struct{}, 2)}
	a.arrived()
	first, second := a.enter(context.Background()), a.enter(context.Background())
	done := make(chan struct{})
	var third func()
	go func() { third = a.enter(context.Background()); close(done) }()
	clock.waitFor(t, t0.Add(yieldQuiet))
	if returned(done) {
		t.Fatal("a third job went ahead of a stream of envelopes with two passes")
	}
	first()
	// The third job is already yielding: it waits for the quiet, and
	// leaves the freed pass to the next job.
	next := a.enter(context.Background())
	second()
	next()
	a.done(1)
	clock.advance(yieldQuiet)
	eventually(t, "the third job to go on once quiet", func() bool { return returned(done) })
	third() // it had no pass: releasing frees none
	if len(a.passes) != 0 {
		t.Errorf("%d passes still held after every job released its own", len(a.passes))
	}

	none := &arrivals{clock: clock}
	none.arrived()
	waited := make(chan struct{})
	go func() { none.enter(context.Background())(); close(waited) }()
	clock.waitFor(t, clock.Now().Add(yieldQuiet))
	if returned(waited) {
		t.Fatal("a job went ahead of a stream of envelopes with no passes")
	}
	none.done(1)
	clock.advance(yieldQuiet)
	eventually(t, "the job to go on once quiet", func() bool { return returned(waited) })
}

// A job's wait ends with its context (the bot stops).
func TestYieldEndsWithContext(t *testing.T) {
	clock := newFakeClock()
	a := &arrivals{clock: clock}
	a.arrived()
	ctx, cancel := context.WithCancel(context.Background())
	done := yielded(ctx, a)
	clock.waitFor(t, t0.Add(yieldQuiet))
	cancel()
	eventually(t, "the job to go on when the bot stops", func() bool { return returned(done) })
}

// Only envelopes that are recorded hold jobs back: the bot's own echoes,
// acked at once, do not (else its confirmations would hold themselves back).
func TestYieldNotForEchoes(t *testing.T) {
	wt := newWriterTest(t, handlerFunc(recordEnvelope))
	wt.b.socket = socketmode.New(slack.New("xoxb-test"))
	ctx, cancel := context.WithCancel(context.Background())
	received := make(chan struct{})
	go func() { wt.b.receive(ctx); close(received) }()
	defer func() { cancel(); <-received }()
	event := func(id string) socketmode.Event {
		return socketmode.Event{Type: socketmode.EventTypeEventsAPI, Request: &socketmode.Request{EnvelopeID: id}}
	}
	for i := range 5 {
		wt.b.socket.Events <- event("echo" + string(rune('0'+i)))
	}
	eventually(t, "the echoes acked", func() bool { return len(wt.acked()) == 5 })
	if last := wt.w.arrivals.last.Load(); last != 0 {
		t.Errorf("echoes marked an arrival at %s", time.Unix(0, last))
	}
	wt.b.socket.Events <- event("pin")
	eventually(t, "the pin acked", func() bool { return len(wt.acked()) == 6 })
	if wt.w.arrivals.last.Load() == 0 {
		t.Error("a recorded envelope marked no arrival")
	}
	eventually(t, "the writer through with the pin", func() bool { return wt.w.arrivals.pending.Load() == 0 })
}
