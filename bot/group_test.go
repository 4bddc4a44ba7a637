package bot

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/incidentbot/incidentbot/store"
)

// TestGroupCommitSharesAndIsolates commits outcomes from many goroutines at
// once: they share commits (fewer writes than outcomes), each gets its own
// result, and a failing one fails alone while the others are kept.
func TestGroupCommitSharesAndIsolates(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var writes atomic.Int32
	g := &groupCommit{write: func(fn func(*store.Tx) error) error { writes.Add(1); return db.Update(fn) }}
	bad := errors.New("this outcome cannot be recorded")
	const n = 200
	run := func(failing int) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = g.commit(func(tx *store.Tx) error {
					if i == failing {
						return bad
					}
					return tx.Enqueue(store.Job{Lane: "l", Kind: "k"})
				})
			})
		}
		wg.Wait()
		return errs
	}
	for i, err := range run(-1) {
		if err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	if w := writes.Load(); w >= n {
		t.Errorf("%d writes for %d outcomes committed at once: none were shared", w, n)
	}
	for i, err := range run(7) {
		if i == 7 && !errors.Is(err, bad) || i != 7 && err != nil {
			t.Errorf("outcome %d: %v", i, err)
		}
	}
	var jobs int
	_ = db.View(func(tx *store.Tx) error { jobs = tx.JobCount(); return nil })
	if jobs != 2*n-1 {
		t.Errorf("%d outcomes recorded, want %d (all but the failing one)", jobs, 2*n-1)
	}
}
