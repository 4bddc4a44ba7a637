package bot

import (
	"context"
	"errors"
	"slices"
	"time"
)

// In cluster mode a commit is a round trip through Raft (the leader's log,
// a follower's, the apply), so the writer does not wait for one before it
// starts the next: store.DB.Submit captures each batch on top of those in
// flight and hands it over, and the ack goroutine waits for each, in
// order, before it acks its envelopes and tells its outcomes. Raft puts
// the batches queued meanwhile into one append. Nothing is acked before a
// quorum committed it; a batch that does not commit takes those captured
// on it down too (the store refuses them on every node), and each is
// withheld as a failed commit is.

// maxInFlight bounds the batches handed over and not yet committed: each
// new capture replays those in flight, so a deeper pipeline costs the
// leader more CPU than it saves in waiting (the 300-pin burst's p99 on
// three nodes: 2: 58 ms, 4: 53 ms, 8: 57 ms, 64: 72 ms, medians of 6).
const maxInFlight = 4

// submit is commit for a pipelined store.
func (w *writer) submit(ctx context.Context, envs []*Envelope, outs []*commitReq) {
	w.inflight <- struct{}{} // released by settle, or below
	acks := make([]any, len(envs))
	start := time.Now()
	wait, err := w.b.db.Submit(w.batch(envs, outs, acks))
	if err == nil {
		w.acks <- ackBatch{envs: slices.Clone(envs), payloads: acks, wait: wait, outs: outs, start: start}
		return
	}
	<-w.inflight
	var he *handlerError
	var m *errMember
	switch {
	case errors.As(err, &he) || errors.As(err, &m):
		// Apart, as if each had come alone (each commit then waits).
		if len(outs) > 0 {
			w.flush(outs)
		}
		if len(envs) > 0 {
			w.b.record(ctx, envs)
		}
	default:
		// Nothing was handed over: the store could not capture.
		w.b.noteCommit(start, err)
		for _, r := range outs {
			r.done <- err
		}
		w.b.withhold(ctx, envs, err)
	}
}

// settle waits for a pipelined batch's commit and tells its outcomes; it
// reports whether the batch committed (and its envelopes are to be acked).
func (w *writer) settle(ctx context.Context, a ackBatch) bool {
	err := a.wait()
	<-w.inflight
	w.b.noteCommit(a.start, err)
	for _, r := range a.outs {
		r.done <- err
	}
	if err != nil {
		w.b.withhold(ctx, a.envs, err)
		return false
	}
	return true
}
