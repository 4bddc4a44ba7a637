package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// maxOutcomes bounds how many job outcomes join one commit, so a commit
// that envelopes wait for stays short.
const maxOutcomes = 256

// writer is the one goroutine that commits what the bot must record: the
// envelopes the receive loop hands it and the outcomes of finished jobs.
// Each commit takes every envelope waiting (up to MaxBatch) and, in the
// same transaction and fsync, the job outcomes waiting (up to
// maxOutcomes): an envelope never waits behind a commit of outcomes alone,
// and a storm of pins and their confirmations pays one fsync per round,
// not one for the envelopes and another for the outbox. An envelope is
// acked, and an outcome's caller told, only once the commit holding it
// returned; the acks are sent by a goroutine of their own, in order, while
// the writer goes on with the next commit.
//
// If a shared commit fails because one envelope's handler or one outcome
// failed, envelopes and outcomes are committed apart, each as if it had
// come alone (record, flush), so one bad member cannot fail the others;
// a handler or an outcome's func may therefore run twice (both may: they
// only write in their transaction). If the database refuses the write,
// the envelopes are not acked (Slack redelivers them) and every outcome
// gets the error (the dispatcher retries its commit).
type writer struct {
	b *Bot
	// write commits one transaction (b.commit; tests count or fail it).
	write func(func(*store.Tx) error) error
	// envs carries envelopes from the receive loop, in arrival order. It
	// holds one batch: a receive loop that gets ahead of the disk waits,
	// and Slack's socket buffers the rest.
	envs chan *Envelope
	wake chan struct{} // an outcome is waiting
	// acks carries committed envelopes and their ack payloads, in commit
	// order, to the goroutine that sends the acks while the writer goes on
	// to its next commit. Set (by run, on its goroutine) while run is.
	acks chan ackBatch
	// arrivals times the envelopes handed over, for the jobs that yield.
	arrivals arrivals

	// pipelined: the store hands commits to a cluster without waiting
	// for the one before (cluster mode); set by run.
	pipelined bool
	inflight  chan struct{} // the pipelined batches not yet settled (maxInFlight)

	mu      sync.Mutex
	outs    []*commitReq
	running bool // run is taking outcomes; else commitOutcome commits alone
}

type ackBatch struct {
	envs     []*Envelope
	payloads []any
	// wait, for a pipelined commit (pipeline.go), returns its outcome: the
	// acks and the outcomes' callers wait for it.
	wait  func() error
	outs  []*commitReq
	start time.Time
}

type commitReq struct {
	fn   func(*store.Tx) error
	done chan error
}

// errMember marks which outcome failed a shared commit.
type errMember struct {
	i   int
	err error
}

func (e *errMember) Error() string { return e.err.Error() }
func (e *errMember) Unwrap() error { return e.err }

func newWriter(b *Bot) *writer {
	return &writer{b: b, write: b.commit, envs: make(chan *Envelope, b.cfg.MaxBatch), wake: make(chan struct{}, 1),
		arrivals: arrivals{clock: RealClock, passes: make(chan struct{}, yieldPasses)}}
}

// enqueue hands an envelope to the writer; false if ctx ended first.
func (w *writer) enqueue(ctx context.Context, env *Envelope) bool {
	w.arrivals.arrived()
	select {
	case w.envs <- env:
		return true
	case <-ctx.Done():
		w.arrivals.done(1)
		return false
	}
}

// commitOutcome commits fn, with envelopes and other outcomes or alone,
// and returns its result. Before run starts and after it stops (the
// dispatcher loads and finishes jobs around it), fn is committed alone.
func (w *writer) commitOutcome(fn func(*store.Tx) error) error {
	req := &commitReq{fn: fn, done: make(chan error, 1)}
	w.mu.Lock()
	if !w.running {
		w.mu.Unlock()
		return w.write(fn)
	}
	w.outs = append(w.outs, req)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return <-req.done
}

// takeOutcomes returns up to maxOutcomes waiting outcomes, oldest first.
func (w *writer) takeOutcomes() []*commitReq {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(w.outs), maxOutcomes)
	outs := w.outs[:n:n]
	w.outs = w.outs[n:]
	if len(w.outs) > 0 {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return outs
}

// run commits until stop is closed; ctx is the bot's, for the acks. The
// receive loop has stopped by then; envelopes still waiting are not acked
// (Slack redelivers them). Outcomes still waiting are committed.
func (w *writer) run(ctx context.Context, stop <-chan struct{}) {
	// Acks go out from their own goroutine, in commit order: sending one
	// can wait for the socket (and for its goroutine to be scheduled), and
	// meanwhile the writer applies and commits the next batch.
	w.acks = make(chan ackBatch, 64)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for a := range w.acks {
			if a.wait != nil && !w.settle(ctx, a) {
				continue
			}
			for i, env := range a.envs {
				w.b.answer(ctx, env, a.payloads[i])
			}
		}
	}()
	defer func() {
		close(w.acks)
		<-acked
		w.acks = nil
	}()
	w.pipelined = w.b.db.Pipelined()
	w.inflight = make(chan struct{}, maxInFlight)
	w.mu.Lock()
	w.running = true
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.running = false
		outs := w.outs
		w.outs = nil
		w.mu.Unlock()
		if len(outs) > 0 {
			w.flush(outs)
		}
	}()
	// Once ctx ends no envelope is taken: its ack could not be sent.
	envs, done := (<-chan *Envelope)(w.envs), ctx.Done()
	batch := make([]*Envelope, 0, cap(w.envs))
	for {
		batch = batch[:0]
		select {
		case <-stop:
			return // before anything else: the outcomes waiting are flushed
		default:
		}
		select {
		case <-stop:
			return
		case <-done:
			envs, done = nil, nil
			continue
		case env := <-envs:
			batch = append(batch, env)
		case <-w.wake:
		}
	drain:
		for envs != nil && len(batch) < w.b.cfg.MaxBatch {
			select {
			case env := <-envs:
				batch = append(batch, env)
			default:
				break drain
			}
		}
		w.commit(ctx, batch, w.takeOutcomes())
		w.arrivals.done(len(batch))
	}
}

// commit records envelopes and outcomes in one transaction, then acks the
// envelopes and tells the outcomes.
func (w *writer) commit(ctx context.Context, envs []*Envelope, outs []*commitReq) {
	if w.pipelined {
		w.submit(ctx, envs, outs)
		return
	}
	switch {
	case len(outs) == 0:
		if len(envs) > 0 {
			w.b.record(ctx, envs)
		}
		return
	case len(envs) == 0:
		w.flush(outs)
		return
	}
	acks := make([]any, len(envs))
	err := w.write(w.batch(envs, outs, acks))
	var he *handlerError
	var m *errMember
	switch {
	case err == nil:
		for _, r := range outs {
			r.done <- nil
		}
		w.ackCommitted(ctx, envs, acks)
	case errors.As(err, &he) || errors.As(err, &m):
		// Apart, as if each had come alone.
		w.flush(outs)
		w.b.record(ctx, envs)
	default:
		// The database refused the write.
		for _, r := range outs {
			r.done <- err
		}
		w.b.withhold(ctx, envs, err)
	}
}

// batch is the transaction of one commit: each envelope applied (its ack
// payload into acks), then each outcome; the error names the member that
// failed (handlerError, errMember).
func (w *writer) batch(envs []*Envelope, outs []*commitReq, acks []any) func(*store.Tx) error {
	return func(tx *store.Tx) error {
		for i, env := range envs {
			ack, err := w.b.apply(tx, env)
			if err != nil {
				return &handlerError{index: i, err: err}
			}
			acks[i] = ack
		}
		for i, r := range outs {
			if err := r.fn(tx); err != nil {
				return &errMember{i, err}
			}
		}
		return nil
	}
}

// ackCommitted acks envelopes whose commit returned, with their payloads:
// through the ack goroutine while run is on, else at once.
func (w *writer) ackCommitted(ctx context.Context, envs []*Envelope, payloads []any) {
	if w.acks != nil {
		w.acks <- ackBatch{envs: slices.Clone(envs), payloads: payloads}
		return
	}
	for i, env := range envs {
		w.b.answer(ctx, env, payloads[i])
	}
}

// flush commits outcomes together, or, if one of them fails, each alone.
func (w *writer) flush(batch []*commitReq) {
	if len(batch) == 1 {
		batch[0].done <- w.write(batch[0].fn)
		return
	}
	err := w.write(func(tx *store.Tx) error {
		for i, r := range batch {
			if err := r.fn(tx); err != nil {
				return &errMember{i, err}
			}
		}
		return nil
	})
	var m *errMember
	if errors.As(err, &m) {
		for _, r := range batch {
			r.done <- w.write(r.fn)
		}
		return
	}
	for _, r := range batch {
		r.done <- err // nil, or the database refused the shared write
	}
}
