package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

// A new node catches up as Raft makes it: the leader's snapshot, taken
// while writes go on, restored, then the whole log applied (what the
// snapshot holds is skipped by its applied index). It ends with the
// leader's content, while its own readers and writers carry on through
// the restore.
func TestSnapshotRestoreWhileWriting(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)

	stop := make(chan struct{})
	var writes sync.WaitGroup
	writes.Add(1)
	go func() {
		defer writes.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := leader.Update(func(tx *Tx) error {
				return tx.AppendEntry(2, &incident.Entry{At: t0, Kind: incident.KindNote, Text: fmt.Sprint("note ", i), RecordedAt: t0})
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	snap, err := leader.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	n, err := snap.WriteTo(&stream)
	if err != nil || n != int64(stream.Len()) || n != snap.Size() {
		t.Fatalf("WriteTo: %d bytes of %d, %v", n, snap.Size(), err)
	}
	snapIndex, _ := snap.Applied()
	snap.Release()
	snap.Release()
	time.Sleep(20 * time.Millisecond)
	close(stop)
	writes.Wait()

	node := openTestDB(t)
	update(t, node, func(tx *Tx) error { return tx.Probe(t0) }) // its own state, replaced
	var busy sync.WaitGroup
	var failed atomic.Int32
	done := make(chan struct{})
	for i := range 4 {
		busy.Add(1)
		go func() {
			defer busy.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				if i%2 == 0 {
					err = node.View(func(tx *Tx) error { _, err := tx.Incidents(); return err })
				} else {
					// The value the leader's workload wrote: the content
					// compared at the end is the cluster's alone.
					err = node.Update(func(tx *Tx) error { return tx.Probe(t0) })
				}
				if err != nil {
					failed.Add(1)
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := node.Restore(bytes.NewReader(stream.Bytes())); err != nil {
		t.Fatal(err)
	}
	close(done)
	busy.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	if i, _ := node.Applied(); i != snapIndex || snapIndex == 0 {
		t.Fatalf("restored applied index %d, want the snapshot's %d", i, snapIndex)
	}
	if log := raft.entries(); log[len(log)-1].index <= snapIndex {
		t.Fatalf("no write after the snapshot (index %d)", snapIndex)
	}
	applyAll(t, node, raft.entries())
	sameDump(t, "restored node", dump(t, node, true), dump(t, leader, true))
	mustCheckIndex(t, node)
}

// A stream that is not a sound database (garbage, empty, cut short) is
// refused, and the database goes on as it was.
func TestRestoreRefusesGarbage(t *testing.T) {
	db := openTestDB(t)
	workload(t, db)
	want := dump(t, db, true)
	var good bytes.Buffer
	if _, err := db.WriteTo(&good); err != nil {
		t.Fatal(err)
	}
	for name, stream := range map[string][]byte{
		"garbage": bytes.Repeat([]byte("not a database "), 1000),
		"empty":   nil,
		"cut":     good.Bytes()[:good.Len()/2],
	} {
		if err := db.Restore(bytes.NewReader(stream)); err == nil {
			t.Fatalf("%s: restored", name)
		}
		sameDump(t, name, dump(t, db, true), want)
		update(t, db, func(tx *Tx) error { return tx.Probe(t0) })
		want = dump(t, db, true)
	}
	if err := db.Restore(errReader{}); err == nil {
		t.Fatal("a failing stream restored")
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(db.Path()), ".*restore*"))
	if len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// A snapshot of an older schema is migrated as it is restored, as Open
// migrates an older file.
func TestRestoreMigratesOlderSchema(t *testing.T) {
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := bolt.Open(old, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	inc := incident.New(1, incident.Declaration{Title: "x", Severity: 1, By: incident.User{ID: "U1"}})
	err = raw.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketIncidents, bucketChannels, bucketTimeline, bucketSeen, bucketSeenAt, bucketOutbox, bucketDead} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keySchema, u64(2)); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketIncidents), u64(1), inc)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	stream, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	db := openTestDB(t)
	if err := db.Restore(bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	mustCheckIndex(t, db)
	var c Counts
	if err := db.View(func(tx *Tx) (err error) { c, err = tx.Counts(); return err }); err != nil || c.Open[1] != 1 {
		t.Fatalf("counts %+v, %v: want one open sev1", c, err)
	}
}
