package bot

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// removeDelay is how long the removals of finished redoable jobs gather
// before they are committed: a storm of confirmations then pays one commit
// for each few dozen jobs instead of one for each one or two, commits that
// otherwise take the CPU and the disk from the envelopes and the jobs
// still running. The wait is in real time, like bbolt's MaxBatchDelay: it
// batches writes and means nothing on the bot's clock. A crash within it
// only runs those jobs once more.
const removeDelay = 20 * time.Millisecond

// removeLater removes a redoable job from the outbox in a commit shared
// with the others that finish meanwhile, off its worker's path. Lost in a
// crash, the removal only means the job runs once more.
func (d *dispatcher) removeLater(ctx context.Context, seq uint64) {
	d.mu.Lock()
	d.done = append(d.done, seq)
	start := !d.flushing
	d.flushing = true
	d.mu.Unlock()
	if start {
		d.flushes.Add(1)
		go d.flushDone(ctx)
	}
}

// flushDone removes the finished redoable jobs, all those that gathered
// since the last flush (for removeDelay, or until the bot stops) in one
// commit, until none is left.
func (d *dispatcher) flushDone(ctx context.Context) {
	defer d.flushes.Done()
	for attempt := 0; ; {
		select {
		case <-time.After(removeDelay):
		case <-ctx.Done():
		}
		d.mu.Lock()
		seqs := d.done
		d.done = nil
		if len(seqs) == 0 {
			d.flushing = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		err := d.commit(func(tx *store.Tx) error {
			for _, seq := range seqs {
				if _, err := tx.DeleteJob(seq); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			attempt = 0
			continue
		}
		// The database refuses writes: keep them, and try again — unless
		// the bot is stopping: then they stay in the outbox and run once
		// more at the next start, which they may.
		d.mu.Lock()
		d.done = append(seqs, d.done...)
		if ctx.Err() != nil {
			d.done, d.flushing = nil, false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if attempt == 0 {
			d.log.Error().Err(err).Int("jobs", len(seqs)).Msg("could not remove finished jobs from the outbox; retrying")
		}
		select {
		case <-d.clock.After(backoff(attempt, d.cfg.Backoff, d.cfg.MaxBackoff, rand.Float64)):
		case <-ctx.Done():
		}
		attempt++
	}
}
