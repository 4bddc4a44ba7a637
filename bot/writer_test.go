package bot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/store"
)

// handlerFunc is a Handler made of a function; envelopes whose id begins
// with "echo" are ignored (acked without a commit), as the bot's own
// reactions are.
type handlerFunc func(tx *store.Tx, env *Envelope) (any, error)

func (f handlerFunc) Handle(tx *store.Tx, env *Envelope) (any, error) { return f(tx, env) }
func (handlerFunc) Ignores(env *Envelope) bool                        { return strings.HasPrefix(env.ID, "echo") }

// recordEnvelope is the usual test handler: each envelope leaves a job
// whose kind is the envelope's id, so its commit can be seen.
func recordEnvelope(tx *store.Tx, env *Envelope) (any, error) {
	return nil, tx.Enqueue(store.Job{Lane: "envelopes", Kind: env.ID})
}

// writerTest runs a Bot's writer (no socket, no dispatcher) on a real
// database: envelopes go in as the receive loop hands them over, outcomes
// as the dispatcher commits them, and acks are recorded.
type writerTest struct {
	t      *testing.T
	db     *store.DB
	b      *Bot
	w      *writer
	writes atomic.Int32 // commits made (shared or alone), refused ones too

	mu   sync.Mutex
	acks []string // envelope ids, in the order acked
	// committedAtAck: for each ack, whether the envelope's effect was
	// already committed (visible to a new read transaction).
	committedAtAck []bool

	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{}
	done   chan struct{}
}

func newWriterTest(t *testing.T, h Handler) *writerTest {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wt := &writerTest{t: t, db: db, stop: make(chan struct{}), done: make(chan struct{})}
	wt.b = New(Config{}, nil, db, h, runFunc(nil), newFakeClock(), zerolog.Nop())
	wt.b.sendAck = wt.ack
	wt.w = wt.b.writer
	wt.b.SetMetrics(commitCounter{&wt.writes})
	wt.ctx, wt.cancel = context.WithCancel(context.Background())
	go func() { wt.w.run(wt.ctx, wt.stop); close(wt.done) }()
	eventually(t, "the writer to start", func() bool {
		wt.w.mu.Lock()
		defer wt.w.mu.Unlock()
		return wt.w.running
	})
	t.Cleanup(func() {
		wt.halt()
		_ = db.Close()
	})
	return wt
}

// halt stops the writer (as Bot.Run does: the context first, then the writer).
func (wt *writerTest) halt() {
	wt.cancel()
	select {
	case <-wt.stop:
	default:
		close(wt.stop)
	}
	<-wt.done
}

// commitCounter counts the bot's commits.
type commitCounter struct{ n *atomic.Int32 }

func (commitCounter) EnvelopeReceived(string)             {}
func (commitCounter) EnvelopeAcked(string, time.Duration) {}
func (commitCounter) EnvelopeWithheld(string)             {}
func (c commitCounter) Commit(time.Duration, error)       { c.n.Add(1) }
func (commitCounter) JobDone(string, string)              {}
func (commitCounter) Connected(bool)                      {}

func (wt *writerTest) ack(_ context.Context, id string, _ any) error {
	var committed bool
	_ = wt.db.View(func(tx *store.Tx) error {
		jobs, err := tx.Jobs()
		committed = slices.ContainsFunc(jobs, func(j store.Job) bool { return j.Kind == id })
		return err
	})
	wt.mu.Lock()
	defer wt.mu.Unlock()
	wt.acks = append(wt.acks, id)
	wt.committedAtAck = append(wt.committedAtAck, committed)
	return nil
}

func (wt *writerTest) acked() []string {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return slices.Clone(wt.acks)
}

// send hands envelopes to the writer, as the receive loop does.
func (wt *writerTest) send(ids ...string) {
	for _, id := range ids {
		if !wt.w.enqueue(wt.ctx, &Envelope{ID: id, Type: "events_api", ReceivedAt: time.Now()}) {
			wt.t.Fatal("the writer took no envelope")
		}
	}
}

// outcomes commits n outcomes from n goroutines, each enqueueing a job of
// kind prefix+i, and returns a function that waits for their results.
func (wt *writerTest) outcomes(prefix string, n int, fail int) func() []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = wt.w.commitOutcome(func(tx *store.Tx) error {
				if i == fail {
					return errOutcome
				}
				return tx.Enqueue(store.Job{Lane: "outcomes", Kind: fmt.Sprintf("%s%d", prefix, i)})
			})
		})
	}
	return func() []error {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			wt.t.Fatal("outcomes still wait for a commit")
		}
		return errs
	}
}

var errOutcome = errors.New("this outcome cannot be recorded")

// waiting reports how many envelopes and outcomes wait for the writer.
func (wt *writerTest) waiting() (envs, outs int) {
	wt.w.mu.Lock()
	defer wt.w.mu.Unlock()
	return len(wt.w.envs), len(wt.w.outs)
}

// block makes the writer's next commit wait until the returned function
// is called: what queues meanwhile waits for the commit after it.
func (wt *writerTest) block() (release func() error) {
	entered, unblock := make(chan struct{}), make(chan struct{})
	result := make(chan error, 1)
	go func() {
		result <- wt.w.commitOutcome(func(*store.Tx) error {
			close(entered)
			<-unblock
			return nil
		})
	}()
	<-entered
	return func() error { close(unblock); return <-result }
}

func (wt *writerTest) kinds() map[string]bool {
	wt.t.Helper()
	out := map[string]bool{}
	if err := wt.db.View(func(tx *store.Tx) error {
		jobs, err := tx.Jobs()
		for _, j := range jobs {
			out[j.Kind] = true
		}
		return err
	}); err != nil {
		wt.t.Fatal(err)
	}
	return out
}

func ids(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// Envelopes are applied and acked in the order they arrived, each only
// once its commit returned, while outcomes from many goroutines commit
// among them.
func TestWriterAcksInOrderAfterCommit(t *testing.T) {
	var mu sync.Mutex
	var applied []string
	wt := newWriterTest(t, handlerFunc(func(tx *store.Tx, env *Envelope) (any, error) {
		mu.Lock()
		applied = append(applied, env.ID)
		mu.Unlock()
		return recordEnvelope(tx, env)
	}))
	wait := wt.outcomes("out", 100, -1)
	want := ids("E", 300)
	wt.send(want...)
	for i, err := range wait() {
		if err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	eventually(t, "every envelope acked", func() bool { return len(wt.acked()) == len(want) })
	if got := wt.acked(); !slices.Equal(got, want) {
		t.Errorf("acked in the order %v, want %v", got, want)
	}
	mu.Lock()
	if !slices.Equal(applied, want) {
		t.Errorf("applied in the order %v, want %v", applied, want)
	}
	mu.Unlock()
	for i, ok := range wt.committedAtAck {
		if !ok {
			t.Errorf("envelope %s acked before its commit", wt.acks[i])
		}
	}
	kinds := wt.kinds()
	for _, k := range append(want, ids("out", 100)...) {
		if !kinds[k] {
			t.Errorf("%s not recorded", k)
		}
	}
}

// Envelopes and outcomes that wait together share one commit; envelopes go
// in the very next commit even when more outcomes wait than one commit
// takes.
func TestWriterSharesCommitsEnvelopesFirst(t *testing.T) {
	var wt *writerTest
	var mu sync.Mutex
	in := map[string]int32{} // envelope → the commit it was applied in
	wt = newWriterTest(t, handlerFunc(func(tx *store.Tx, env *Envelope) (any, error) {
		mu.Lock()
		in[env.ID] = wt.writes.Load() + 1 // counted once committed
		mu.Unlock()
		return recordEnvelope(tx, env)
	}))
	release := wt.block()
	n := maxOutcomes + 100
	wait := wt.outcomes("out", n, -1)
	wt.send(ids("E", 20)...)
	eventually(t, "the envelopes and outcomes to queue", func() bool {
		envs, outs := wt.waiting()
		return envs == 20 && outs == n
	})
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i, err := range wait() {
		if err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	eventually(t, "every envelope acked", func() bool { return len(wt.acked()) == 20 })
	// The blocking commit, then the envelopes with maxOutcomes outcomes,
	// then the other 100 outcomes.
	if w := wt.writes.Load(); w != 3 {
		t.Errorf("%d commits, want 3", w)
	}
	mu.Lock()
	for id, c := range in {
		if c != 2 {
			t.Errorf("envelope %s applied in commit %d, want 2 (the first after the one it waited for)", id, c)
		}
	}
	mu.Unlock()
	if kinds := wt.kinds(); len(kinds) != 20+n {
		t.Errorf("%d recorded, want %d", len(kinds), 20+n)
	}
}

// In a shared commit, an envelope its handler cannot apply and an outcome
// that cannot be recorded fail alone: the others are committed (and the
// envelopes acked), the bad envelope goes to the dead letters and is
// acked, and the bad outcome's caller gets its error.
func TestWriterIsolatesFailures(t *testing.T) {
	badEnvelope := errors.New("cannot apply")
	wt := newWriterTest(t, handlerFunc(func(tx *store.Tx, env *Envelope) (any, error) {
		if env.ID == "E3" {
			return nil, badEnvelope
		}
		return recordEnvelope(tx, env)
	}))
	release := wt.block()
	wait := wt.outcomes("out", 10, 4)
	wt.send(ids("E", 8)...)
	eventually(t, "the envelopes and outcomes to queue", func() bool {
		envs, outs := wt.waiting()
		return envs == 8 && outs == 10
	})
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i, err := range wait() {
		if i == 4 && !errors.Is(err, errOutcome) || i != 4 && err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	eventually(t, "every envelope acked", func() bool { return len(wt.acked()) == 8 })
	kinds := wt.kinds()
	for _, k := range append(ids("E", 8), ids("out", 10)...) {
		if want := k != "E3" && k != "out4"; kinds[k] != want {
			t.Errorf("%s recorded: %v, want %v", k, kinds[k], want)
		}
	}
	var dead []store.DeadLetter
	_ = wt.db.View(func(tx *store.Tx) error { var err error; dead, err = tx.DeadLetters(); return err })
	if len(dead) != 1 || dead[0].Envelope != "E3" {
		t.Errorf("dead letters %+v, want E3", dead)
	}
}

// When the database refuses a shared commit, nothing of it is recorded:
// no envelope is acked (Slack redelivers them), and every outcome gets the
// error with its job still in the outbox, so it is retried or, after a
// crash, runs again — never half-recorded. The writer then goes on.
func TestWriterDatabaseRefusesSharedCommit(t *testing.T) {
	wt := newWriterTest(t, handlerFunc(recordEnvelope))
	// A job whose outcome (a marker, and its removal) must commit together.
	var seq uint64
	if err := wt.db.Update(func(tx *store.Tx) error {
		if err := tx.Enqueue(store.Job{Lane: "l", Kind: "job"}); err != nil {
			return err
		}
		jobs, err := tx.Jobs()
		seq = jobs[0].Seq
		return err
	}); err != nil {
		t.Fatal(err)
	}
	outcome := func(tx *store.Tx) error {
		if err := tx.Enqueue(store.Job{Lane: "l", Kind: "outcome"}); err != nil {
			return err
		}
		_, err := tx.DeleteJob(seq)
		return err
	}
	refused := errors.New("disk full")
	var refuse atomic.Bool
	write := wt.w.write
	wt.w.write = func(fn func(*store.Tx) error) error {
		if refuse.Load() {
			// What a failed commit leaves: the transaction ran, nothing stayed.
			_ = wt.db.Update(func(tx *store.Tx) error { _ = fn(tx); return refused })
			return refused
		}
		return write(fn)
	}
	release := wt.block() // past the refusal's check: this commit succeeds
	refuse.Store(true)
	result := make(chan error, 1)
	go func() { result <- wt.w.commitOutcome(outcome) }()
	wt.send("E1", "E2")
	eventually(t, "the envelopes and the outcome to queue", func() bool {
		envs, outs := wt.waiting()
		return envs == 2 && outs == 1
	})
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-result; !errors.Is(err, refused) {
		t.Fatalf("outcome: %v, want the refusal", err)
	}
	if a := wt.acked(); len(a) != 0 {
		t.Errorf("acked %v after a refused commit", a)
	}
	kinds := wt.kinds()
	if kinds["E1"] || kinds["E2"] || kinds["outcome"] || !kinds["job"] {
		t.Errorf("after a refused commit the database holds %v, want only the job", kinds)
	}
	refuse.Store(false)
	// The dispatcher retries the outcome; Slack redelivers the envelopes.
	if err := wt.w.commitOutcome(outcome); err != nil {
		t.Fatal(err)
	}
	wt.send("E1", "E2")
	eventually(t, "the redelivered envelopes acked", func() bool { return len(wt.acked()) == 2 })
	kinds = wt.kinds()
	if !kinds["E1"] || !kinds["E2"] || !kinds["outcome"] || kinds["job"] {
		t.Errorf("after the retry the database holds %v, want E1, E2 and the outcome, without the job", kinds)
	}
}

// Outcomes still waiting when the writer stops are committed, and an
// outcome committed once it has stopped is committed alone: none is lost
// or left waiting.
func TestWriterStopsWithoutLosingOutcomes(t *testing.T) {
	wt := newWriterTest(t, handlerFunc(recordEnvelope))
	release := wt.block()
	wait := wt.outcomes("out", 10, -1)
	eventually(t, "the outcomes to queue", func() bool { _, outs := wt.waiting(); return outs == 10 })
	wt.cancel()
	close(wt.stop)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	<-wt.done
	for i, err := range wait() {
		if err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	if err := wt.w.commitOutcome(func(tx *store.Tx) error {
		return tx.Enqueue(store.Job{Lane: "outcomes", Kind: "late"})
	}); err != nil {
		t.Fatal(err)
	}
	kinds := wt.kinds()
	for _, k := range append(ids("out", 10), "late") {
		if !kinds[k] {
			t.Errorf("%s not recorded", k)
		}
	}
}

// The receive loop acks envelopes that change nothing (the bot's own
// echoes) at once, while the writer is still committing earlier ones, and
// those that do only after their commit.
func TestReceiveAcksEchoesWhileWriterCommits(t *testing.T) {
	wt := newWriterTest(t, handlerFunc(recordEnvelope))
	wt.b.socket = socketmode.New(slack.New("xoxb-test"))
	ctx, cancel := context.WithCancel(context.Background())
	received := make(chan struct{})
	go func() { wt.b.receive(ctx); close(received) }()
	defer func() { cancel(); <-received }()
	release := wt.block()
	event := func(id string) socketmode.Event {
		return socketmode.Event{Type: socketmode.EventTypeEventsAPI, Request: &socketmode.Request{EnvelopeID: id}}
	}
	wt.b.socket.Events <- event("pin")
	eventually(t, "the pin to reach the writer", func() bool { envs, _ := wt.waiting(); return envs == 1 })
	wt.b.socket.Events <- event("echo")
	eventually(t, "the echo acked", func() bool { return len(wt.acked()) == 1 })
	if a := wt.acked(); a[0] != "echo" {
		t.Fatalf("acked %v while the writer was busy, want the echo", a)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pin acked", func() bool { return len(wt.acked()) == 2 })
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.acks[1] != "pin" || !wt.committedAtAck[1] {
		t.Errorf("acks %v (committed: %v), want the pin, after its commit", wt.acks, wt.committedAtAck)
	}
}
