package store_test

import (
	"path/filepath"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// BenchmarkUpdateNoSync is BenchmarkAppend's store/Update without fsync:
// what the store's own code costs per transaction (encoding, bucket
// handles, locks), which the disk's fsync hides in BenchmarkAppend.
func BenchmarkUpdateNoSync(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *store.Tx) error {
		return tx.PutIncident(incident.New(1, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.Update(func(tx *store.Tx) error { return tx.AppendEntry(1, benchEntry(i)) }); err != nil {
			b.Fatal(err)
		}
	}
}
