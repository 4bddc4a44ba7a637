package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// In cluster mode a node's database is written without fsync (the Raft
// log of a quorum is the durable copy). A node whose process is killed
// keeps its file (the kernel had it all); a node whose machine crashed
// (played here with kill -9 and a new boot id) sets its file aside, since
// it may be torn, and rebuilds it from the latest snapshot and the log:
// afterwards it holds every note, as the others do.
func TestClusterNodeRebuildsAfterMachineCrash(t *testing.T) {
	r := newClusterRig(t, slackfake.Options{})
	fake, alice := r.w.fake, r.w.alice
	for i := range r.envs {
		r.envs[i]["INCIDENTBOT_CLUSTER_SNAPSHOT_EVERY"] = "16"
		r.envs[i][testBootEnv] = "boot-1"
	}
	for i := range 3 {
		r.start(i)
	}
	all := []int{0, 1, 2}
	lead := r.leader(all...)
	ch := r.w.declare(t, "declare sev2 Checkout is failing")
	note := func(i int) {
		t.Helper()
		id := fake.SlashCommand(alice, ch.ID, fmt.Sprintf("note clue %d", i))
		waitUntil(t, fake, "a note's ack", 30*time.Second, func() bool { _, ok := fake.Ack(id); return ok })
	}
	for i := range 20 {
		note(i)
	}
	follower := (lead + 1) % 3

	// The process dies: the same boot, the file is kept and replayed onto.
	r.procs[follower].kill()
	note(20)
	r.start(follower)
	r.leader(all...)
	if r.procs[follower].log.Has("set aside") {
		t.Fatal("a node whose process died set its file aside")
	}

	// The machine dies: another boot when it comes back. It had taken a
	// snapshot of its own (every 16 entries), which it restores first.
	waitUntil(t, fake, "the follower to snapshot", 30*time.Second, func() bool {
		st, ok := r.status(follower)
		return ok && st.LastSnapshotIndex > 0
	})
	r.procs[follower].kill()
	for i := 21; i < 45; i++ {
		note(i)
	}
	r.envs[follower][testBootEnv] = "boot-2"
	r.start(follower)
	lead = r.leader(all...)
	r.caughtUp("the rebuilt node to catch up", follower, lead)
	if st, _ := r.status(follower); st.LastSnapshotIndex == 0 {
		t.Errorf("the rebuilt node has no snapshot (status %+v)", st)
	}
	if !r.procs[follower].log.Has("set aside") {
		t.Fatal("the node that came back under another boot did not rebuild its file")
	}
	if r.procs[follower].log.Has("rejected an entry") {
		t.Error("the rebuilt node rejected entries of the log")
	}
	// Every node has applied the last note before they stop.
	waitUntil(t, fake, "every node to apply the last note", 30*time.Second, func() bool {
		b, ok := r.status(lead)
		for _, i := range all {
			a, ok2 := r.status(i)
			ok = ok && ok2 && a.StoreApplied == b.StoreApplied
		}
		return ok
	})
	for _, p := range r.procs {
		p.stop()
	}
	aside, _ := filepath.Glob(r.envs[follower]["INCIDENTBOT_DB"] + ".torn-*")
	if len(aside) != 1 {
		t.Errorf("set-aside files %v, want the old file kept once", aside)
	}
	for _, i := range all {
		if got := notesIn(t, r.envs[i]["INCIDENTBOT_DB"]); got != 45 {
			t.Errorf("node %d holds %d of the 45 notes", i, got)
		}
	}
}

// notesIn counts the notes on INC-1's timeline in a stopped node's file.
func notesIn(t *testing.T, path string) int {
	t.Helper()
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	n := 0
	_ = db.View(func(tx *store.Tx) error {
		tl, err := tx.Timeline(1)
		for _, e := range tl {
			if strings.HasPrefix(e.Text, "clue ") {
				n++
			}
		}
		return err
	})
	return n
}
