package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
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

// The encoding is persisted in Raft logs: pinned byte for byte. A change
// is a new writeSetVersion, read alongside this one.
func TestWriteSetEncodingGolden(t *testing.T) {
	ws := newWriteSet(300)
	tl := appendSegment(nil, []byte("tl"))
	entries := appendSegment(slices.Clone(tl), []byte("e"))
	ws.sequence(entries, true, 2)
	ws.put(entries, false, []byte("k"), []byte("vv"))
	ws.createBucket(tl, false, []byte("n"))
	ws.delete(entries, true, []byte("k"))
	ws.deleteBucket(tl, false, []byte("n"))
	ws.put(tl, false, []byte("x"), nil)
	const want = "01ac02" + // version 1, base 300
		"01010502746c0165" + "0402" + // path tl/e appending (#0), sequence 2
		"02016b027676" + // put k=vv
		"01000302746c" + "05016e" + // path tl (#1), create bucket n
		"0700" + "03016b" + // switch to #0, delete k
		"0701" + "06016e" + // switch to #1, delete bucket n (forgets the paths)
		"01000302746c" + "02017800" // path tl (#0 again), put x=""
	if got := hex.EncodeToString(ws.buf); got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	if ws.ops != 6 {
		t.Fatalf("%d ops, want 6", ws.ops)
	}
}

// A stacked write-set's header (pipeline.go) is pinned too: version 2, the
// 16-byte hash (the first half of SHA-256) of the one it was captured on.
func TestStackedWriteSetHeaderGolden(t *testing.T) {
	prev := hashWriteSet([]byte{1, 0})
	ws := newStackedWriteSet(prev)
	ws.put(appendSegment(nil, []byte("tl")), false, []byte("k"), []byte("v"))
	const want = "02" + "47dc540c94ceb704a23875c11273e16b" + // version 2, SHA-256 of {1, 0}, first half
		"01000302746c" + "02016b0176" // path tl (#0), put k=v
	if got := hex.EncodeToString(ws.buf); got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	h, ops, err := parseHeader(ws.buf)
	if err != nil || !h.stacked || h.prev != prev || hex.EncodeToString(ops) != want[34:] {
		t.Fatalf("parseHeader = %+v, %x, %v", h, ops, err)
	}
}

// No write-set, however malformed, crashes a node: it is applied, or
// refused and changes nothing. The base index is set to the one applied,
// so the ops are what is explored.
func FuzzApplyWriteSet(f *testing.F) {
	leader, raft := leaderDB(f)
	workload(f, leader)
	for _, e := range raft.entries() {
		f.Add(e.data)
	}
	db := openTestDB(f)
	var index uint64
	f.Fuzz(func(t *testing.T, data []byte) {
		applied, _ := db.Applied()
		if _, ops, err := decodeHeader(data); err == nil {
			data = append(binary.AppendUvarint([]byte{writeSetVersion}, applied), ops...)
		}
		index++
		err := db.ApplyWriteSet(index, 1, data)
		if now, _ := db.Applied(); (err == nil) != (now == index) || (err != nil && now != applied) {
			t.Fatalf("entry %d: %v, and applied moved from %d to %d", index, err, applied, now)
		}
	})
}

// The names replication keeps on disk are pinned: the meta keys every node
// records with each entry applied, and the marker of an unsynced file.
func TestReplicationNamesGolden(t *testing.T) {
	for got, want := range map[string]string{
		string(keyApplied):     "raft_applied",
		string(keyAppliedHash): "raft_applied_hash",
		unsyncedSuffix:         ".unsynced",
	} {
		if got != want {
			t.Errorf("persisted name %q, want %q", got, want)
		}
	}
}
