package store_test

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// benchEntry is a typical captured message.
func benchEntry(i int) *incident.Entry {
	at := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &incident.Entry{At: at, Kind: incident.KindMessage, Author: incident.User{ID: "U0123ABCD", Name: "mara"},
		Text:   "Found it: a stale KV value in the FRA POP and several others. Config pushes are not reaching the edge.",
		Link:   "https://example.slack.com/archives/C0123ABCD/p1692269400000000",
		Source: "C0123ABCD/" + strconv.Itoa(1692269400+i) + ".000100", PinnedBy: []string{"U0456EFGH:pushpin"}, RecordedAt: at}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAppend measures timeline appends through the store, one
// transaction each (what an unbatched envelope costs), and the same number
// of raw bbolt Update writes of the same size: the floor.
func BenchmarkAppend(b *testing.B) {
	size := len(must(json.Marshal(benchEntry(0))))
	b.Run("store/Update", func(b *testing.B) {
		db := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
		defer db.Close()
		if err := db.Update(func(tx *store.Tx) error {
			return tx.PutIncident(incident.New(1, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
		}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := db.Update(func(tx *store.Tx) error { return tx.AppendEntry(1, benchEntry(i)) }); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b)
	})
	b.Run("raw-bbolt/Update", func(b *testing.B) {
		raw := mustRaw(b)
		defer raw.Close()
		value := make([]byte, size)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := raw.Update(func(tx *bolt.Tx) error {
				bk := tx.Bucket([]byte("t"))
				seq, _ := bk.NextSequence()
				return bk.Put(bigEndian(seq), value)
			}); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b)
	})
	// Batch: many writers at once share commits, as concurrent incidents do.
	b.Run("store/Batch", func(b *testing.B) {
		db := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
		defer db.Close()
		if err := db.Update(func(tx *store.Tx) error {
			return tx.PutIncident(incident.New(1, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
		}); err != nil {
			b.Fatal(err)
		}
		var n atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1))
				if err := db.Batch(func(tx *store.Tx) error { return tx.AppendEntry(1, benchEntry(i)) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b)
	})
	b.Run("raw-bbolt/Batch", func(b *testing.B) {
		raw := mustRaw(b)
		defer raw.Close()
		value := make([]byte, size)
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := raw.Batch(func(tx *bolt.Tx) error {
					bk := tx.Bucket([]byte("t"))
					seq, _ := bk.NextSequence()
					return bk.Put(bigEndian(seq), value)
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b)
	})
}

func mustRaw(b *testing.B) *bolt.DB {
	raw, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("t")); return err }); err != nil {
		b.Fatal(err)
	}
	return raw
}

func must(data []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return data
}
