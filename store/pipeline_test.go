package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// asyncRaft is a pipelined Replicator standing in for the cluster: each
// write-set gets the next index at once and is applied to the leader's
// store in log order by one goroutine, a little later, as Raft's FSM does.
// fail makes the n-th write-set (from 1) not commit: it never enters the
// log and its wait returns an error, while the ones after it do enter it.
type asyncRaft struct {
	leader *DB
	fail   map[int]bool
	// hold, until closed, keeps the applier from starting: every submit
	// made meanwhile is captured on the ones before it, in flight.
	hold chan struct{}

	mu    sync.Mutex
	n     int
	index uint64
	log   []entry
	queue chan func()
}

var errLostLeadership = errors.New("leadership lost")

func newAsyncRaft(leader *DB) *asyncRaft {
	r := &asyncRaft{leader: leader, fail: map[int]bool{}, queue: make(chan func(), 1024), hold: make(chan struct{})}
	go func() {
		<-r.hold
		for fn := range r.queue {
			fn()
		}
	}()
	return r
}

func (r *asyncRaft) Replicate(ws []byte) error { return r.ReplicateAsync(ws)() }

func (r *asyncRaft) ReplicateAsync(ws []byte) func() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	done := make(chan error, 1)
	if r.fail[r.n] {
		r.queue <- func() { done <- errLostLeadership }
		return func() error { return <-done }
	}
	r.index++
	e := entry{r.index, 1, bytes.Clone(ws)}
	r.log = append(r.log, e)
	r.queue <- func() {
		done <- r.leader.ApplyWriteSet(e.index, e.term, e.data)
	}
	return func() error { return <-done }
}

func (r *asyncRaft) entries() []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]entry(nil), r.log...)
}

// declareWithPins is one writer's transaction: a new incident (its number
// from the sequence) and a pin on the incident before it, so each one reads
// what the previous one wrote.
func declareWithPins(i int) func(*Tx) error {
	return func(tx *Tx) error {
		id, err := tx.NextIncidentID()
		if err != nil {
			return err
		}
		inc := incident.New(id, incident.Declaration{Title: fmt.Sprintf("outage %d", i), Severity: 2, By: incident.User{ID: "U1"}, At: t0})
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		if id > 1 {
			e := &incident.Entry{At: t0, Kind: incident.KindMessage, Text: fmt.Sprintf("pin %d", i), Source: fmt.Sprintf("C/%d", i), RecordedAt: t0}
			return tx.AppendEntry(id-1, e)
		}
		return nil
	}
}

// submitAll submits declareWithPins(0..n-1) without waiting for any and
// returns their waits.
func submitAll(t *testing.T, db *DB, n int) []func() error {
	t.Helper()
	var waits []func() error
	for i := range n {
		wait, err := db.Submit(declareWithPins(i))
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, wait)
	}
	return waits
}

// Write-sets submitted one after another without waiting are each captured
// on the ones before (incident numbers follow on, pins land on the
// incident just made), commit in order, and leave leader and follower with
// what the same transactions give one after another in local mode.
func TestPipelinedSubmitsSeeTheOnesInFlight(t *testing.T) {
	leader := openTestDB(t)
	raft := newAsyncRaft(leader)
	leader.SetReplicator(raft)
	if !leader.Pipelined() {
		t.Fatal("an AsyncReplicator does not pipeline")
	}
	waits := submitAll(t, leader, 40)
	close(raft.hold)
	for i, wait := range waits {
		if err := wait(); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	stacked := 0
	for _, e := range raft.entries() {
		if e.data[0] == writeSetStacked {
			stacked++
		}
	}
	if stacked != 39 {
		t.Fatalf("%d write-sets captured on one in flight, want all but the first", stacked)
	}
	local := openTestDB(t)
	for i := range 40 {
		update(t, local, declareWithPins(i))
	}
	sameDump(t, "pipelined leader", dump(t, leader, false), dump(t, local, false))
	follower := openTestDB(t)
	applyAll(t, follower, raft.entries())
	sameDump(t, "follower", dump(t, follower, true), dump(t, leader, true))
	mustCheckIndex(t, follower)
}

// pipelineWithAFailure submits 12 write-sets without waiting, the 5th of
// which never commits, then makes 3 updates after the failures (writers go
// on from the applied state). It returns how many of the 12 failed, each
// with ErrNotCommitted.
func pipelineWithAFailure(t *testing.T) (leader *DB, raft *asyncRaft, failed int) {
	t.Helper()
	leader = openTestDB(t)
	raft = newAsyncRaft(leader)
	raft.fail[5] = true
	leader.SetReplicator(raft)
	waits := submitAll(t, leader, 12)
	close(raft.hold)
	for _, wait := range waits {
		if err := wait(); err != nil {
			if !errors.Is(err, ErrNotCommitted) {
				t.Fatalf("a failed commit: %v, want ErrNotCommitted", err)
			}
			failed++
		}
	}
	for i := 100; i < 103; i++ {
		if err := leader.Update(declareWithPins(i)); err != nil {
			t.Fatalf("an update after the failures: %v", err)
		}
	}
	return leader, raft, failed
}

// An entry that does not commit takes the ones captured on it down with
// it, on the leader and every follower alike, and the writers after that
// start again from what is applied: no incident number is handed out twice
// and nothing is applied on a state it was not captured on.
func TestPipelinedFailureRefusesWhatWasStackedOnIt(t *testing.T) {
	leader, raft, failed := pipelineWithAFailure(t)
	if failed != 8 {
		t.Fatalf("%d of 12 failed, want the 5th and the 7 captured on it", failed)
	}
	follower := openTestDB(t)
	for _, e := range raft.entries() {
		err := follower.ApplyWriteSet(e.index, e.term, e.data)
		if err != nil && !errors.Is(err, ErrConflict) {
			t.Fatalf("follower, entry %d: %v", e.index, err)
		}
	}
	sameDump(t, "follower", dump(t, follower, true), dump(t, leader, true))
	var ids []int64
	_ = leader.View(func(tx *Tx) error {
		all, err := tx.Incidents()
		for _, inc := range all {
			ids = append(ids, inc.ID)
		}
		return err
	})
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("incident numbers %v: not 1..n once each", ids)
		}
	}
	if want := 12 - failed + 3; len(ids) != want {
		t.Fatalf("%d incidents, want %d (12 submitted, %d failed, 3 after)", len(ids), want, failed)
	}
	mustCheckIndex(t, leader)
}

// A stacked write-set whose predecessor was not the last one applied is
// refused on its own too (a follower, or a leader replaying its log).
func TestStackedWriteSetNamesItsPredecessor(t *testing.T) {
	leader := openTestDB(t)
	raft := newAsyncRaft(leader)
	leader.SetReplicator(raft)
	waits := submitAll(t, leader, 6)
	close(raft.hold)
	for _, w := range waits {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	log := raft.entries()
	const k = 3 // stacked on entry 2, as every one after the first
	if log[k].data[0] != writeSetStacked {
		t.Fatalf("entry %d is version %d, want a stacked write-set", k, log[k].data[0])
	}
	follower := openTestDB(t)
	applyAll(t, follower, log[:k-1])
	err := follower.ApplyWriteSet(log[k].index, log[k].term, log[k].data)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("a stacked write-set without its predecessor: %v, want ErrConflict", err)
	}
	before := dump(t, follower, true)
	applyAll(t, follower, log[k-1:])
	if sameLines(before, dump(t, follower, true)) {
		t.Fatal("nothing applied after the refusal")
	}
	sameDump(t, "follower", dump(t, follower, true), dump(t, leader, true))
}

func sameLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
