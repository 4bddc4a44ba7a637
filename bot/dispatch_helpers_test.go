package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/store"
)

// runFunc is a Runner made of a function, as alertmanager's notify tests
// make a notifier of one. GiveUp does nothing; Describe names the kind.
type runFunc func(ctx context.Context, job store.Job) (func(*store.Tx) error, error)

func (f runFunc) Run(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	return f(ctx, job)
}
func (runFunc) GiveUp(*store.Tx, store.Job, error) error { return nil }
func (runFunc) Describe(job store.Job) string            { return "do " + job.Kind }
func (runFunc) Redoable(job store.Job) bool              { return job.Kind == "redoable" }

// giveUpRunner is a runFunc whose GiveUp is a function too.
type giveUpRunner struct {
	runFunc
	giveUp func(tx *store.Tx, job store.Job, err error) error
}

func (r giveUpRunner) GiveUp(tx *store.Tx, job store.Job, err error) error {
	return r.giveUp(tx, job, err)
}

// fakeClock moves only when the test moves it: no wait ends on real time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	added   chan struct{} // a token each time a waiter is added
}

type fakeWaiter struct {
	from, at time.Time // when the wait began and when it ends
	ch       chan time.Time
}

var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: t0, added: make(chan struct{}, 1)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{from: c.now, at: c.now.Add(d), ch: ch})
	select {
	case c.added <- struct{}{}:
	default:
	}
	return ch
}

// set moves the clock to at and ends the waits due by then.
func (c *fakeClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.Before(c.now) {
		return
	}
	c.now = at
	c.waiters = slices.DeleteFunc(c.waiters, func(w fakeWaiter) bool {
		if w.at.After(at) {
			return false
		}
		w.ch <- at
		return true
	})
}

func (c *fakeClock) advance(d time.Duration) { c.set(c.Now().Add(d)) }

// deadlines returns when the pending waits end.
func (c *fakeClock) deadlines() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, w := range c.waiters {
		out = append(out, w.at)
	}
	return out
}

// waitFor waits until some pending wait ends at at.
func (c *fakeClock) waitFor(t *testing.T, at time.Time) {
	t.Helper()
	eventually(t, "a wait until "+at.Sub(t0).String(), func() bool { return slices.ContainsFunc(c.deadlines(), at.Equal) })
}

// waitForFrom waits until a wait that began at from and ends at at is pending.
func (c *fakeClock) waitForFrom(t *testing.T, from, at time.Time) {
	t.Helper()
	eventually(t, "a wait from "+from.Sub(t0).String()+" until "+at.Sub(t0).String(), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return slices.ContainsFunc(c.waiters, func(w fakeWaiter) bool { return w.from.Equal(from) && w.at.Equal(at) })
	})
}

// next waits for a pending wait, moves the clock to the earliest one's end
// and returns the time. It never moves past a wait the dispatcher has
// started, so spacing measured on the clock is exact.
func (c *fakeClock) next(t *testing.T) time.Time {
	t.Helper()
	for range 2000 {
		if ds := c.deadlines(); len(ds) > 0 {
			at := slices.MinFunc(ds, time.Time.Compare)
			c.set(at)
			return at
		}
		select {
		case <-c.added:
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("nothing waits on the clock at %s", c.Now().Sub(t0))
	return time.Time{}
}

// runUntil moves the clock from one pending wait's end to the next until
// cond holds.
func (c *fakeClock) runUntil(t *testing.T, cond func() bool) {
	t.Helper()
	eventually(t, "the jobs to run", func() bool {
		if cond() {
			return true
		}
		if ds := c.deadlines(); len(ds) > 0 {
			c.set(slices.MinFunc(ds, time.Time.Compare))
		}
		return false
	})
}

// eventually fails the test if cond does not hold within 10 s of real
// time: a guard against hanging, not a measurement.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// jobMetrics records JobDone.
type jobMetrics struct {
	nopMetrics
	mu   sync.Mutex
	done []string // kind/outcome
}

func (m *jobMetrics) JobDone(kind, outcome string) {
	m.mu.Lock()
	m.done = append(m.done, kind+"/"+outcome)
	m.mu.Unlock()
}

func (m *jobMetrics) outcomes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.done)
}

// syncBuffer is a log sink safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dispatchTest runs a dispatcher on a real database and a fake clock.
type dispatchTest struct {
	t       *testing.T
	db      *store.DB
	clock   *fakeClock
	d       *dispatcher
	metrics *jobMetrics
	logs    *syncBuffer
	fatal   chan error
	cancel  context.CancelFunc
	done    chan struct{}
}

func newDispatchTest(t *testing.T, cfg Config, clock *fakeClock, r Runner) *dispatchTest {
	t.Helper()
	cfg.defaults()
	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dt := &dispatchTest{t: t, db: db, clock: clock, metrics: &jobMetrics{}, logs: &syncBuffer{},
		fatal: make(chan error, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	dt.cancel = cancel
	onFatal := func(err error) {
		dt.fatal <- err
		cancel() // as Bot.Run does on a fatal error
	}
	dt.d = newDispatcher(cfg, db, r, dt.clock, zerolog.New(dt.logs), func() Metrics { return dt.metrics }, onFatal)
	dt.d.commit = db.Update
	dt.done = make(chan struct{})
	go func() { dt.d.run(ctx); close(dt.done) }()
	t.Cleanup(func() {
		// Past any shutdown grace, so a test that failed with a job in
		// flight still ends.
		cancel()
		for deadline := time.Now().Add(10 * time.Second); ; dt.clock.advance(time.Hour) {
			select {
			case <-dt.done:
				_ = db.Close()
				return
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Error("the dispatcher did not stop")
				return
			}
		}
	})
	return dt
}

// enqueue commits jobs, as a handler does; the dispatcher hears of them.
func (dt *dispatchTest) enqueue(jobs ...store.Job) {
	dt.t.Helper()
	err := dt.db.Update(func(tx *store.Tx) error {
		for _, j := range jobs {
			if j.Created.IsZero() {
				j.Created = dt.clock.Now()
			}
			if err := tx.Enqueue(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		dt.t.Fatal(err)
	}
}

// stopped waits for run to return (after a fatal error or a cancel).
func (dt *dispatchTest) stopped() {
	dt.t.Helper()
	select {
	case <-dt.done:
	case <-time.After(10 * time.Second):
		dt.t.Fatal("the dispatcher did not stop")
	}
}

// outbox returns the jobs still in the database.
func (dt *dispatchTest) outbox() []store.Job {
	dt.t.Helper()
	var jobs []store.Job
	if err := dt.db.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.Jobs()
		return err
	}); err != nil {
		dt.t.Fatal(err)
	}
	return jobs
}

// drained waits until the dispatcher has nothing left and the outbox is empty.
func (dt *dispatchTest) drained() {
	dt.t.Helper()
	eventually(dt.t, "the outbox to drain", func() bool { return dt.d.pending() == 0 && len(dt.outbox()) == 0 })
}

// calls records the jobs a runner ran and when, on the fake clock.
type calls struct {
	mu    sync.Mutex
	clock Clock
	runs  []call
}

type call struct {
	job store.Job
	at  time.Time
}

func (c *calls) add(job store.Job) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs = append(c.runs, call{job: job, at: c.clock.Now()})
	return len(c.runs)
}

func (c *calls) all() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.runs)
}

func (c *calls) count() int { return len(c.all()) }

// in returns the times of the calls in lane.
func (c *calls) in(lane string) []time.Duration {
	var out []time.Duration
	for _, r := range c.all() {
		if r.job.Lane == lane {
			out = append(out, r.at.Sub(t0))
		}
	}
	return out
}

// logLines decodes the dispatcher's JSON log.
func logLines(t *testing.T, logs *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// linesWith returns the log lines whose message begins with prefix.
func linesWith(lines []map[string]any, prefix string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if msg, _ := l["message"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// linesContaining returns the log lines whose message contains part.
func linesContaining(lines []map[string]any, part string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if msg, _ := l["message"].(string); strings.Contains(msg, part) {
			out = append(out, l)
		}
	}
	return out
}
