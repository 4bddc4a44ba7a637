package store

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

// entry is one write-set as a Raft log holds it.
type entry struct {
	index, term uint64
	data        []byte
}

// fakeRaft is a Replicator standing in for the cluster: it gives each
// write-set the next index (skipping one now and then, as Raft's own
// entries do), keeps it, and applies it to the leader's store on another
// goroutine, as Raft's FSM does, before it returns.
type fakeRaft struct {
	leader *DB

	mu      sync.Mutex
	term    uint64
	index   uint64
	log     []entry
	fail    error // returned instead of replicating
	noApply bool  // return without applying (a broken Replicator)
	calls   int
}

func (r *fakeRaft) Replicate(ws []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return r.fail
	}
	r.index++
	if r.index%5 == 0 {
		r.index++ // a no-op or configuration entry the FSM never sees
	}
	e := entry{r.index, max(r.term, 1), bytes.Clone(ws)}
	r.log = append(r.log, e)
	if r.noApply {
		return nil
	}
	done := make(chan error)
	go func() { done <- r.leader.ApplyWriteSet(e.index, e.term, e.data) }()
	return <-done
}

func (r *fakeRaft) entries() []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

func openTestDB(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(filepath.Join(tb.TempDir(), "incidentbot.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// leaderDB opens a database in replicated mode through a fakeRaft.
func leaderDB(tb testing.TB) (*DB, *fakeRaft) {
	db := openTestDB(tb)
	r := &fakeRaft{leader: db}
	db.SetReplicator(r)
	return db, r
}

func applyAll(tb testing.TB, db *DB, log []entry) {
	tb.Helper()
	for _, e := range log {
		if err := db.ApplyWriteSet(e.index, e.term, e.data); err != nil {
			tb.Fatalf("apply entry %d: %v", e.index, err)
		}
	}
}

// dump lists a database's logical content: every bucket with its
// sequence, and every key and value, nested buckets included, in order.
// Without meta, it leaves out the applied index (a local record).
func dump(tb testing.TB, db *DB, withApplied bool) []string {
	tb.Helper()
	var out []string
	var walk func(path string, b *bolt.Bucket) error
	walk = func(path string, b *bolt.Bucket) error {
		out = append(out, fmt.Sprintf("%s seq=%d", path, b.Sequence()))
		return b.ForEach(func(k, v []byte) error {
			if !withApplied && path == "/meta" && (bytes.Equal(k, keyApplied) || bytes.Equal(k, keyAppliedHash)) {
				return nil
			}
			if c := b.Bucket(k); c != nil {
				return walk(path+"/"+hex.EncodeToString(k), c)
			}
			out = append(out, fmt.Sprintf("%s %q=%q", path, k, v))
			return nil
		})
	}
	err := db.View(func(tx *Tx) error {
		return tx.tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk("/"+string(name), b) })
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func sameDump(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if slices.Equal(got, want) {
		return
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			tb.Fatalf("%s: line %d is %s, want %s (%d and %d lines)", what, i, got[i], want[i], len(got), len(want))
		}
	}
	tb.Fatalf("%s: %d lines, want %d", what, len(got), len(want))
}

func update(tb testing.TB, db *DB, fn func(*Tx) error) {
	tb.Helper()
	if err := db.Update(fn); err != nil {
		tb.Fatal(err)
	}
}

var t0 = time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC)

// workload is a realistic mix of the store's writes, each its own Update:
// incidents and their index and counters, timelines (nested buckets),
// jobs enqueued and done, dedupe keys marked and expired, alerts, storm
// windows, counters, overrides, handoffs, dead letters and a probe.
func workload(tb testing.TB, db *DB) {
	tb.Helper()
	user := incident.User{ID: "U1", Name: "mara"}
	var incs []*incident.Incident
	for i := range 3 {
		update(tb, db, func(tx *Tx) error {
			if _, err := tx.MarkSeen(fmt.Sprintf("Ev%d", i), t0.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
			id, err := tx.NextIncidentID()
			if err != nil {
				return err
			}
			inc := incident.New(id, incident.Declaration{Title: fmt.Sprintf("checkout %d", i), Severity: incident.Severities[i], By: user, At: t0})
			inc.ChannelID = fmt.Sprintf("C%d", id)
			if i == 2 {
				inc.Escalations = append(inc.Escalations, incident.Escalation{ID: 1, State: incident.EscalationActive})
			}
			incs = append(incs, inc)
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			return tx.EnqueueJSON(inc.ChannelID, "post", map[string]int64{"incident": id}, t0, time.Time{})
		})
	}
	for i := range 12 {
		update(tb, db, func(tx *Tx) error {
			e := &incident.Entry{At: t0.Add(time.Duration(i) * time.Second), Kind: incident.KindMessage, Author: user,
				Text: fmt.Sprintf("pinned %d", i), Source: fmt.Sprintf("C1/17000000%02d.000100", i), RecordedAt: t0}
			return tx.AppendEntry(incs[i%2].ID, e)
		})
	}
	update(tb, db, func(tx *Tx) error {
		tl, err := tx.Timeline(incs[0].ID)
		if err != nil {
			return err
		}
		tl[0].Text = "edited"
		if err := tx.PutEntry(incs[0].ID, &tl[0]); err != nil {
			return err
		}
		return tx.DeleteEntry(incs[0].ID, &tl[1])
	})
	update(tb, db, func(tx *Tx) error {
		jobs, err := tx.Jobs()
		if err != nil {
			return err
		}
		_, err = tx.DeleteJob(jobs[0].Seq)
		return err
	})
	update(tb, db, func(tx *Tx) error {
		if err := incs[0].Resolve(t0.Add(time.Hour), "fixed"); err != nil {
			return err
		}
		if err := tx.PutIncident(incs[0]); err != nil {
			return err
		}
		_, err := tx.ExpireSeen(t0.Add(90 * time.Second))
		return err
	})
	update(tb, db, func(tx *Tx) error {
		for i := range 2 {
			id, err := tx.NextAlertID()
			if err != nil {
				return err
			}
			a := &incident.AlertRecord{ID: id, Route: "platform", Key: fmt.Sprintf("k%d", i), Severity: incident.Sev2,
				Status: incident.AlertFiring, Received: t0, Updated: t0, Channel: "CALERTS"}
			if err := tx.PutAlert(a); err != nil {
				return err
			}
			if err := tx.CountAlert(CountAlertsNew, 1); err != nil {
				return err
			}
		}
		return tx.PutAlertWindow("Platform", incident.AlertWindow{})
	})
	update(tb, db, func(tx *Tx) error {
		a, err := tx.AlertByKey("k0")
		if err != nil {
			return err
		}
		a.Status = incident.AlertResolved
		if err := tx.PutAlert(a); err != nil {
			return err
		}
		return tx.CountAlert(CountAlertsResolved, 1)
	})
	update(tb, db, func(tx *Tx) error {
		for i := range 3 {
			o := incident.Override{Schedule: "primary", Who: fmt.Sprintf("U%d", i), From: t0, To: t0.Add(time.Hour), Created: t0, By: user}
			if err := tx.AddOverride(&o); err != nil {
				return err
			}
		}
		if _, err := tx.RemoveOverride(2); err != nil {
			return err
		}
		return tx.SetHandoff("Primary", Handoff{Who: "U0", Start: t0})
	})
	update(tb, db, func(tx *Tx) error {
		if err := tx.PutDeadLetter(DeadLetter{Type: "events_api", Envelope: "E1", Payload: []byte(`{}`), Error: "boom", At: t0}); err != nil {
			return err
		}
		return tx.Probe(t0)
	})
}
