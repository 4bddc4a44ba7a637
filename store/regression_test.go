package store_test

// Regression tests: each pins a defect found in review (behaviour the code
// documented but did not have) so it cannot come back.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// Open refuses a database written by a newer incidentbot, but only when it
// opens it read-write: the offline commands (export, list) open read-only
// and read a layout they may not understand.
func TestRegressionReadOnlyOpenChecksSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	MustCloseDB(t, mustOpen(t, path))
	setSchemaVersion(t, path, store.SchemaVersion+1)

	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err == nil {
		db.Close()
		t.Fatal("a read-only Open accepted a database from a newer incidentbot")
	}
	if !strings.Contains(err.Error(), "upgrade incidentbot") {
		t.Errorf("error %q does not say to upgrade", err)
	}
}

// ExpireSeen deletes with a bbolt cursor and then calls Next. When the
// transaction has already written to the seen_at bucket (so bbolt works on
// in-memory nodes), each delete shifts the next key under the cursor and
// Next skips it: every second key survives.
func TestRegressionExpireSeenAfterMarkSeenInOneTx(t *testing.T) {
	for _, n := range []int{2, 5, 100} {
		t.Run(fmt.Sprint(n, " keys"), func(t *testing.T) {
			db := MustOpenDB(t)
			var expired int
			mustUpdate(t, db, func(tx *store.Tx) error {
				for i := 0; i < n; i++ {
					if _, err := tx.MarkSeen(fmt.Sprintf("Ev%03d", i), at(9, 0).Add(time.Duration(i)*time.Second)); err != nil {
						return err
					}
				}
				var err error
				expired, err = tx.ExpireSeen(at(12, 0))
				return err
			})
			var left int
			mustView(t, db, func(tx *store.Tx) error { left = tx.SeenCount(); return nil })
			if expired != n || left != 0 {
				t.Errorf("all %d keys are older than the cutoff: ExpireSeen returned %d and %d keys are left", n, expired, left)
			}
		})
	}
}

// SeenCount and JobCount use bbolt's Bucket.Stats, which reads the pages
// committed before the transaction began: inside a read-write transaction
// they miss what that transaction added or removed.
func TestRegressionCountsInsideWriteTx(t *testing.T) {
	db := MustOpenDB(t)
	var seen, jobs int
	mustUpdate(t, db, func(tx *store.Tx) error {
		for _, k := range []string{"Ev1", "Ev2"} {
			if _, err := tx.MarkSeen(k, at(9, 0)); err != nil {
				return err
			}
			if err := tx.Enqueue(store.Job{Kind: k}); err != nil {
				return err
			}
		}
		seen, jobs = tx.SeenCount(), tx.JobCount()
		return nil
	})
	if seen != 2 || jobs != 2 {
		t.Errorf("after 2 MarkSeen and 2 Enqueue in this transaction: SeenCount() = %d, JobCount() = %d; want 2 and 2", seen, jobs)
	}
}
