package store

import (
	"path/filepath"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// BenchmarkReplicated measures a pin through replicated mode with the
// network left out: capture (a bbolt transaction rolled back), then
// ApplyWriteSet on the same node through a fakeRaft, each with its commit.
// ws-bytes is the write-set's size: the Raft entry's.
func BenchmarkReplicated(b *testing.B) {
	for _, nosync := range []bool{false, true} {
		name := "fsync"
		if nosync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{NoSync: nosync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			r := &fakeRaft{leader: db}
			db.SetReplicator(r)
			update(b, db, func(tx *Tx) error {
				return tx.PutIncident(incident.New(1, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
			})
			b.ReportAllocs()
			b.ResetTimer()
			size := 0
			for i := 0; i < b.N; i++ {
				update(b, db, func(tx *Tx) error { return tx.AppendEntry(1, pin(i)) })
				size = len(r.log[len(r.log)-1].data)
				if len(r.log) > 1000 {
					r.log = r.log[:0] // the fake's log is not the point
				}
			}
			b.ReportMetric(float64(size), "ws-bytes")
		})
	}
}
