package bot

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/store"
)

// dispatcher runs the outbox. Jobs in one lane run one at a time in order
// (a channel's messages must not overtake each other); lanes run in
// parallel up to Workers. A job leaves the outbox only in the transaction
// that records its outcome.
//
// Every "now" and every wait goes through clock: due times, the spacing of
// posts, backoff and Retry-After, and the shutdown grace. A wait is one
// clock.After, never a loop until the clock says enough time passed, so a
// fake clock whose After ends on real time as well (the command's simClock)
// cannot hold a retrying job for ever.
type dispatcher struct {
	cfg     Config
	db      *store.DB
	runner  Runner
	clock   Clock
	log     zerolog.Logger
	metrics func() Metrics
	onFatal func(error)

	// commit writes to the database; the bot's, so job outcomes count
	// towards the database's health and commit metrics like envelopes do.
	commit func(func(*store.Tx) error) error
	yield  func(context.Context) (release func()) // holds a job back while envelopes stream in

	mu    sync.Mutex
	lanes map[string]*lane
	// lastPost is when each lane last made a throttled call. It outlives
	// the lane (which goes when its queue empties), so a post that arrives
	// just after is still spaced.
	lastPost map[string]time.Time
	wake     chan struct{}
	sem      chan struct{}
	runs     sync.WaitGroup

	// done holds the outbox seqs of redoable jobs that succeeded and are
	// yet to be removed, by one flusher at a time (flushes).
	done     []uint64
	flushing bool
	flushes  sync.WaitGroup
}

func newDispatcher(cfg Config, db *store.DB, r Runner, clock Clock, log zerolog.Logger, metrics func() Metrics, onFatal func(error)) *dispatcher {
	d := &dispatcher{cfg: cfg, db: db, runner: r, clock: clock, log: log, metrics: metrics, onFatal: onFatal,
		lanes: map[string]*lane{}, lastPost: map[string]time.Time{}, wake: make(chan struct{}, 1), sem: make(chan struct{}, cfg.Workers),
		yield: func(context.Context) func() { return func() {} }}
	db.OnEnqueue(d.add)
	return d
}

// load reads the jobs a previous run left in the outbox.
func (d *dispatcher) load() error {
	var jobs []store.Job
	err := d.db.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.Jobs()
		return err
	})
	if err != nil {
		return err
	}
	if len(jobs) > 0 {
		d.log.Info().Int("jobs", len(jobs)).Msg("resuming work left in the outbox")
	}
	d.add(jobs)
	return nil
}

func (d *dispatcher) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run starts lanes whose head job is due, and sleeps until the next is.
func (d *dispatcher) run(ctx context.Context) {
	// Jobs get a context that outlives ctx by ShutdownGrace, so a call in
	// flight at shutdown can finish and be recorded rather than redone.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	// Workers live as long as run: a lane's run is handed to one, not to a
	// new goroutine (whose stack would grow again in every call to Slack).
	ready := make(chan *lane, d.cfg.Workers)
	var pool sync.WaitGroup
	for range d.cfg.Workers {
		pool.Go(func() {
			for l := range ready {
				d.work(ctx, jobCtx, l)
			}
		})
	}
	defer func() { close(ready); pool.Wait() }()
	for {
		next := d.startDue(ready)
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = d.clock.After(max(next.Sub(d.clock.Now()), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			done := make(chan struct{})
			go func() { d.runs.Wait(); d.flushes.Wait(); close(done) }()
			select {
			case <-done:
			case <-d.clock.After(d.cfg.ShutdownGrace):
				d.log.Warn().Msg("shutdown grace over; unfinished jobs stay in the outbox for the next start")
				cancelJobs()
				<-done
			}
			return
		case <-d.wake:
		case <-timer:
		}
	}
}

// startDue hands each idle lane with a due head job to a worker, and
// returns the earliest time a waiting head job falls due (zero if none).
func (d *dispatcher) startDue(ready chan<- *lane) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	var next time.Time
	for name, at := range d.lastPost {
		if now.Sub(at) > d.cfg.PostInterval {
			delete(d.lastPost, name) // spacing no longer matters
		}
	}
	for name, l := range d.lanes {
		if len(l.jobs) == 0 && !l.running {
			delete(d.lanes, name)
			continue
		}
		if l.running || l.waiting || len(l.jobs) == 0 {
			continue // a waiting lane's own timer kicks the dispatcher
		}
		if due := l.dueAt(); due.After(now) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		select {
		case d.sem <- struct{}{}:
		default:
			return next // all workers busy; a finishing worker kicks us
		}
		l.running = true
		d.runs.Add(1)
		ready <- l // never blocks: it holds at most one lane per token of sem
	}
	return next
}

// work runs a lane's due jobs in order until none is due, or the head job
// must wait (then the lane gives its worker back and startDue restarts it
// when the wait is over).
func (d *dispatcher) work(ctx, jobCtx context.Context, l *lane) {
	defer d.runs.Done()
	defer func() { <-d.sem; d.kick() }()
	for {
		d.mu.Lock()
		if len(l.jobs) == 0 || l.waiting || l.dueAt().After(d.clock.Now()) || ctx.Err() != nil {
			l.running = false
			d.mu.Unlock()
			return
		}
		job := l.jobs[0]
		d.mu.Unlock()

		switch d.runOne(ctx, jobCtx, l, job) {
		case jobDone:
			d.mu.Lock()
			l.jobs = l.jobs[1:]
			l.attempt, l.lastErr = 0, ""
			d.mu.Unlock()
		case jobWaits:
			// The lane waits: loop, find it waiting, give the worker back.
		case jobStopped:
			d.mu.Lock()
			l.running = false
			d.mu.Unlock()
			return
		}
	}
}

// outcome is what became of one attempt at a lane's head job.
type outcome int

const (
	jobDone    outcome = iota // it succeeded or failed for good, and left the outbox
	jobWaits                  // it waits on the clock (spacing, backoff, Retry-After)
	jobStopped                // shutdown or a refused token: it stays in the outbox
)

// runOne makes one attempt at a lane's head job, or decides it must wait.
func (d *dispatcher) runOne(ctx, jobCtx context.Context, l *lane, job store.Job) outcome {
	log := d.log.With().Str("job", job.Kind).Str("lane", job.Lane).Uint64("seq", job.Seq).Logger()
	what := d.describe(job)
	if job.Throttled && !l.spaced {
		d.mu.Lock()
		next := d.lastPost[l.name].Add(d.cfg.PostInterval)
		d.mu.Unlock()
		if wait := next.Sub(d.clock.Now()); wait > 0 {
			l.spaced = true
			d.wait(ctx, l, wait)
			return jobWaits
		}
	}
	l.spaced = false
	release := d.yield(ctx) // envelopes streaming in go first (yield.go)
	commit, err := d.runner.Run(jobCtx, job)
	release()
	if job.Throttled {
		d.mu.Lock()
		d.lastPost[l.name] = d.clock.Now()
		d.mu.Unlock()
	}
	if err == nil {
		if l.lastErr != "" {
			log.Info().Int("attempts", l.attempt+1).Msg(what + " succeeded after retrying")
		}
		d.metrics().JobDone(job.Kind, "ok")
		return d.finish(ctx, log, job, commit)
	}
	v := classify(err)
	d.metrics().JobDone(job.Kind, v.outcome)
	if fatal := fatalAuth(err); fatal != nil {
		// Every later call would fail the same way: stop, keep the job.
		d.onFatal(fatal)
		return jobStopped
	}
	if !v.retry {
		log.Error().Err(err).Msg(giveUpMessage(what, err))
		return d.finish(ctx, log, job, func(tx *store.Tx) error { return d.runner.GiveUp(tx, job, err) })
	}
	if ctx.Err() != nil {
		return jobStopped
	}
	if msg := err.Error(); msg != l.lastErr && v.outcome != "paced" {
		// Log when the error changes, not on every attempt of an outage.
		log.Warn().Err(err).Int("attempt", l.attempt+1).Msg(what + " failed; retrying")
		l.lastErr = msg
	}
	wait := backoff(l.attempt, d.cfg.Backoff, d.cfg.MaxBackoff, rand.Float64)
	if v.after > 0 {
		// What the service asked for, and a little more, so lanes told the
		// same Retry-After do not all call again in the same instant.
		wait = v.after + time.Duration(rand.Float64()*float64(min(v.after/10, time.Second)))
	}
	l.attempt++
	d.wait(ctx, l, wait)
	return jobWaits
}

// describe says what job does, for log lines, as the runner puts it.
func (d *dispatcher) describe(job store.Job) string {
	if s := d.runner.Describe(job); s != "" {
		return s
	}
	return "job " + job.Kind
}

// wait holds the lane's head job back for one wait on the clock, without
// a worker: a timer, not a sleeping worker, wakes the lane. (A wait ends
// when the clock's After does, not when Now passes a time: the command's
// simulated clock also ends waits in real time while Now stands still.)
func (d *dispatcher) wait(ctx context.Context, l *lane, wait time.Duration) {
	d.mu.Lock()
	l.waiting = true
	d.mu.Unlock()
	done := d.clock.After(wait)
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
		}
		d.mu.Lock()
		l.waiting = false
		d.mu.Unlock()
		d.kick()
	}()
}

// finish commits a job's outcome together with its removal, retrying the
// commit (never the Slack call) while the database refuses writes.
func (d *dispatcher) finish(ctx context.Context, log zerolog.Logger, job store.Job, commit func(*store.Tx) error) outcome {
	if commit == nil && d.runner.Redoable(job) {
		d.removeLater(ctx, job.Seq)
		return jobDone
	}
	for attempt := 0; ; attempt++ {
		err := d.commit(func(tx *store.Tx) error {
			if !tx.HasJob(job.Seq) {
				return nil // already finished (cannot happen in one process; be safe)
			}
			if commit != nil {
				if err := commit(tx); err != nil {
					return err
				}
			}
			_, err := tx.DeleteJob(job.Seq)
			return err
		})
		if err == nil {
			return jobDone
		}
		if attempt == 0 {
			log.Error().Err(err).Msg("could not record a finished job; retrying the commit")
		}
		if errors.Is(err, context.Canceled) || !d.sleep(ctx, backoff(attempt, d.cfg.Backoff, d.cfg.MaxBackoff, rand.Float64)) {
			return jobStopped
		}
	}
}

// sleep waits d on the clock; it returns false if ctx ended first.
func (d *dispatcher) sleep(ctx context.Context, wait time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-d.clock.After(wait):
		return true
	}
}
