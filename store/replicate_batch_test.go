package store

import (
	"errors"
	"testing"
)

// batches splits log into batches of 1, 2, 3, … entries, as raft hands
// over what committed together.
func batches(log []entry) [][]Entry {
	var out [][]Entry
	for n := 1; len(log) > 0; n++ {
		k := min(n, len(log))
		b := make([]Entry, k)
		for i, e := range log[:k] {
			b[i] = Entry{Index: e.index, Term: e.term, Data: e.data}
		}
		out = append(out, b)
		log = log[k:]
	}
	return out
}

// Entries applied together in one commit end in the same state, with the
// same outcome for each entry, as entries applied one by one: refusals
// (here the write-sets stacked on one that never committed) stay the
// refused entry's alone.
func TestApplyWriteSetsAsOneByOne(t *testing.T) {
	leader, raft, _ := pipelineWithAFailure(t)
	log := raft.entries()
	one, batched := openTestDB(t), openTestDB(t)
	var want []error
	for _, e := range log {
		want = append(want, one.ApplyWriteSet(e.index, e.term, e.data))
	}
	var got []error
	for _, b := range batches(log) {
		got = append(got, batched.ApplyWriteSets(b)...)
	}
	refused := 0
	for i := range log {
		if (want[i] == nil) != (got[i] == nil) || (want[i] != nil && !errors.Is(got[i], ErrConflict)) {
			t.Fatalf("entry %d: %v together, %v alone", log[i].index, got[i], want[i])
		}
		if got[i] != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no entry was refused: the test shows nothing")
	}
	sameDump(t, "applied together", dump(t, batched, true), dump(t, one, true))
	sameDump(t, "applied together, against the leader", dump(t, batched, true), dump(t, leader, true))
	mustCheckIndex(t, batched)
	// Applied again (a replay after a restart), the batches change nothing.
	before := dump(t, batched, true)
	for _, b := range batches(log) {
		for _, err := range batched.ApplyWriteSets(b) {
			if err != nil {
				t.Fatalf("a replayed entry: %v", err)
			}
		}
	}
	sameDump(t, "replayed", dump(t, batched, true), before)
}

// An entry that cannot be applied (malformed here; a failed disk in life)
// keeps what came before it in its batch, and nothing after it: the node
// stops there, as it would have applying one by one.
func TestApplyWriteSetsStopAtAFailure(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	log := raft.entries()
	if len(log) < 5 {
		t.Fatalf("the workload made %d entries, want 5 or more", len(log))
	}
	const bad = 3
	b := make([]Entry, len(log))
	for i, e := range log {
		b[i] = Entry{Index: e.index, Term: e.term, Data: e.data}
	}
	b[bad].Data = []byte{99, 0} // an unknown version
	db := openTestDB(t)
	errs := db.ApplyWriteSets(b)
	for i, err := range errs {
		switch {
		case i < bad && err != nil:
			t.Fatalf("entry %d before the failure: %v", b[i].Index, err)
		case i >= bad && err == nil:
			t.Fatalf("entry %d at or after the failure was applied", b[i].Index)
		case i >= bad && (errors.Is(err, ErrConflict) || errors.Is(err, ErrStaleTerm)):
			t.Fatalf("entry %d: %v, a refusal, not a failure", b[i].Index, err)
		}
	}
	want := openTestDB(t)
	applyAll(t, want, log[:bad])
	sameDump(t, "up to the failure", dump(t, db, true), dump(t, want, true))
	if i, _ := db.Applied(); i != log[bad-1].index {
		t.Fatalf("applied index %d, want %d", i, log[bad-1].index)
	}
}
