package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

func pin(i int) *incident.Entry {
	return &incident.Entry{At: t0, Kind: incident.KindMessage, Author: incident.User{ID: "U0123ABCD", Name: "mara"},
		Text: "Found it: a stale KV value in the FRA POP. Config pushes are not reaching the edge.", RecordedAt: t0,
		Source: "C0123ABCD/" + strconv.Itoa(1692269400+i) + ".000100", PinnedBy: []string{"U0456EFGH:pushpin"}}
}

// A pin's write-set is the entry, its source index and the sequence, each
// bucket named once: little more than the keys and values bbolt stores.
func TestWriteSetCompact(t *testing.T) {
	leader, raft := leaderDB(t)
	update(t, leader, func(tx *Tx) error {
		return tx.PutIncident(incident.New(1, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
	})
	for i := range 2 {
		update(t, leader, func(tx *Tx) error { return tx.AppendEntry(1, pin(i)) })
	}
	log := raft.entries()
	ws := log[len(log)-1].data
	e := pin(1)
	e.Seq = 2
	js, _ := json.Marshal(e)
	stored := len(js) + 8 + len(e.Source) + 8 // entries: seq → entry; sources: source → seq
	if overhead := len(ws) - stored; overhead > 80 {
		t.Fatalf("write-set of %d bytes for %d bytes stored: %d bytes of overhead", len(ws), stored, overhead)
	}
	if n := bytes.Count(ws, []byte("entries")); n != 1 {
		t.Fatalf("the entries bucket is named %d times", n)
	}
	if ws[0] != writeSetVersion {
		t.Fatalf("version byte %d", ws[0])
	}
}

// Replicas apply appends with the FillPercent the leader's transactions
// set, so their files are as compact as a single node's.
func TestApplyKeepsFillPercent(t *testing.T) {
	// The leaf pages allocated: the file itself grows in large steps.
	size := func(db *DB) (n int) {
		_ = db.View(func(tx *Tx) error {
			for _, name := range [][]byte{bucketTimeline, bucketSeenAt} {
				n += tx.tx.Bucket(name).Stats().LeafAlloc
			}
			return nil
		})
		return n
	}
	write := func(db *DB) {
		update(t, db, func(tx *Tx) error {
			return tx.PutIncident(incident.New(1, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
		})
		for i := range 200 {
			update(t, db, func(tx *Tx) error {
				for j := range 10 {
					if err := tx.AppendEntry(1, pin(i*10+j)); err != nil {
						return err
					}
				}
				_, err := tx.MarkSeen("E"+strconv.Itoa(i), t0)
				return err
			})
		}
	}
	local := openTestDB(t)
	write(local)
	leader, raft := leaderDB(t)
	write(leader)
	follower := openTestDB(t)
	applyAll(t, follower, raft.entries())
	sameDump(t, "follower", dump(t, follower, false), dump(t, local, false))
	if l, f := size(local), size(follower); f > l+l/10 {
		t.Fatalf("follower's leaf pages take %d bytes, a single node's %d", f, l)
	}
}
