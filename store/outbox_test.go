package store_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/incidentbot/incidentbot/store"
)

// listener records what OnEnqueue is told, call by call.
type listener struct {
	mu    sync.Mutex
	calls [][]store.Job
}

func (l *listener) hear(jobs []store.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, append([]store.Job(nil), jobs...))
}

func (l *listener) take() [][]store.Job {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

func kinds(jobs []store.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Kind)
	}
	return out
}

func jobs(tb testing.TB, db *store.DB) []store.Job {
	tb.Helper()
	var out []store.Job
	mustView(tb, db, func(tx *store.Tx) error {
		var err error
		out, err = tx.Jobs()
		return err
	})
	return out
}

func TestEnqueue(t *testing.T) {
	db := MustOpenDB(t)
	var seqs []uint64
	mustUpdate(t, db, func(tx *store.Tx) error {
		for _, kind := range []string{"create_channel", "post", "pin"} {
			j := store.Job{Lane: "C1", Kind: kind, Created: at(10, 0)}
			if err := tx.Enqueue(j); err != nil {
				return err
			}
		}
		return tx.EnqueueJSON("C2", "invite", map[string]string{"user": "U1"}, at(10, 1), at(10, 5))
	})
	got := jobs(t, db)
	for _, j := range got {
		seqs = append(seqs, j.Seq)
	}
	if !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4}) || !reflect.DeepEqual(kinds(got), []string{"create_channel", "post", "pin", "invite"}) {
		t.Fatalf("Jobs() = seqs %v kinds %v, want 1..4 in the order enqueued", seqs, kinds(got))
	}
	inv := got[3]
	if inv.Lane != "C2" || string(inv.Payload) != `{"user":"U1"}` || !inv.Created.Equal(at(10, 1)) || !inv.NotBefore.Equal(at(10, 5)) {
		t.Errorf("EnqueueJSON stored %+v", inv)
	}
	mustView(t, db, func(tx *store.Tx) error {
		if n := tx.JobCount(); n != 4 {
			t.Errorf("JobCount() = %d, want 4", n)
		}
		if !tx.HasJob(2) || tx.HasJob(99) {
			t.Errorf("HasJob(2) = %v, HasJob(99) = %v", tx.HasJob(2), tx.HasJob(99))
		}
		return nil
	})
}

func TestEnqueueJSONRefusesUnencodable(t *testing.T) {
	db := MustOpenDB(t)
	err := db.Update(func(tx *store.Tx) error {
		return tx.EnqueueJSON("C1", "post", map[string]any{"bad": make(chan int)}, at(10, 0), at(10, 0))
	})
	var ue *json.UnsupportedTypeError
	if !errors.As(err, &ue) {
		t.Errorf("EnqueueJSON of a channel = %v, want a JSON encoding error", err)
	}
	if n := len(jobs(t, db)); n != 0 {
		t.Errorf("%d jobs after a failed enqueue", n)
	}
}

func TestDeleteJob(t *testing.T) {
	db := MustOpenDB(t)
	mustUpdate(t, db, func(tx *store.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.Enqueue(store.Job{Lane: "C1", Kind: k}); err != nil {
				return err
			}
		}
		return nil
	})
	steps := []struct {
		name string
		seq  uint64
		was  bool
		left []string
	}{
		{"delete the middle", 2, true, []string{"a", "c"}},
		{"delete it again", 2, false, []string{"a", "c"}},
		{"never existed", 42, false, []string{"a", "c"}},
		{"delete the first", 1, true, []string{"c"}},
	}
	for _, s := range steps {
		var was bool
		mustUpdate(t, db, func(tx *store.Tx) error {
			var err error
			was, err = tx.DeleteJob(s.seq)
			return err
		})
		if was != s.was {
			t.Errorf("%s: DeleteJob(%d) = %v, want %v", s.name, s.seq, was, s.was)
		}
		if got := kinds(jobs(t, db)); !reflect.DeepEqual(got, s.left) {
			t.Errorf("%s: jobs left %v, want %v", s.name, got, s.left)
		}
	}
	// A new job never reuses a finished job's Seq.
	mustUpdate(t, db, func(tx *store.Tx) error { return tx.Enqueue(store.Job{Kind: "d"}) })
	if all := jobs(t, db); all[len(all)-1].Seq != 4 {
		t.Errorf("new job got Seq %d, want 4", all[len(all)-1].Seq)
	}
}

func TestOnEnqueue(t *testing.T) {
	db := MustOpenDB(t)
	var l listener
	db.OnEnqueue(l.hear)

	enqueue := func(kinds ...string) func(*store.Tx) error {
		return func(tx *store.Tx) error {
			for _, k := range kinds {
				if err := tx.Enqueue(store.Job{Lane: "C1", Kind: k}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	tests := []struct {
		name string
		run  func() error
		want [][]string // kinds heard, per call
	}{
		{"committed", func() error { return db.Update(enqueue("a", "b")) }, [][]string{{"a", "b"}}},
		{"rolled back", func() error {
			err := db.Update(func(tx *store.Tx) error {
				if err := enqueue("lost")(tx); err != nil {
					return err
				}
				return errRollback
			})
			if errors.Is(err, errRollback) {
				return nil
			}
			return err
		}, nil},
		{"no jobs", func() error { return db.Update(func(*store.Tx) error { return nil }) }, nil},
		{"batch", func() error { return db.Batch(enqueue("c")) }, [][]string{{"c"}}},
		{"next commit after a rollback", func() error { return db.Update(enqueue("d")) }, [][]string{{"d"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			var got [][]string
			for _, call := range l.take() {
				got = append(got, kinds(call))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("listener heard %v, want %v", got, tc.want)
			}
		})
	}
	if got := kinds(jobs(t, db)); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("outbox holds %v, want [a b c d]", got)
	}
}

// TestOnEnqueueSeqs checks the listener is told the jobs with their Seqs, so
// the dispatcher can run and delete them without rereading the outbox.
func TestOnEnqueueSeqs(t *testing.T) {
	db := MustOpenDB(t)
	var l listener
	db.OnEnqueue(l.hear)
	mustUpdate(t, db, func(tx *store.Tx) error {
		if err := tx.Enqueue(store.Job{Kind: "a"}); err != nil {
			return err
		}
		return tx.Enqueue(store.Job{Kind: "b"})
	})
	calls := l.take()
	if len(calls) != 1 || len(calls[0]) != 2 {
		t.Fatalf("listener heard %v", calls)
	}
	stored := jobs(t, db)
	for i, j := range calls[0] {
		if j.Seq == 0 || j.Seq != stored[i].Seq {
			t.Errorf("job %s heard with Seq %d, stored with %d", j.Kind, j.Seq, stored[i].Seq)
		}
	}
}

func TestConcurrentBatchEnqueue(t *testing.T) {
	db := MustOpenDB(t)
	var l listener
	db.OnEnqueue(l.hear)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Batch(func(tx *store.Tx) error { return tx.Enqueue(store.Job{Kind: "post"}) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	heard := 0
	for _, call := range l.take() {
		heard += len(call)
	}
	if got := len(jobs(t, db)); got != n || heard != n {
		t.Errorf("%d jobs stored, %d heard; want %d of each", got, heard, n)
	}
}
