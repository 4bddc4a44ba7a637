package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

// The write-sets a leader captures, applied in order to an empty database,
// give it the leader's content exactly: every bucket, key, value and
// sequence, the applied index included. And that content is what the same
// work writes in local mode.
func TestWriteSetsReplicateEverything(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	follower := openTestDB(t)
	applyAll(t, follower, raft.entries())
	sameDump(t, "follower", dump(t, follower, true), dump(t, leader, true))

	local := openTestDB(t)
	workload(t, local)
	sameDump(t, "local mode", dump(t, leader, false), dump(t, local, false))

	last := raft.entries()[len(raft.entries())-1]
	for _, db := range []*DB{leader, follower} {
		if i, term := db.Applied(); i != last.index || term != last.term {
			t.Fatalf("applied (%d, %d), want (%d, %d)", i, term, last.index, last.term)
		}
	}
	if i, term := local.Applied(); i != 0 || term != 0 {
		t.Fatalf("local mode applied (%d, %d), want (0, 0)", i, term)
	}
	mustCheckIndex(t, follower)
}

func mustCheckIndex(t *testing.T, db *DB) {
	t.Helper()
	if err := db.View(func(tx *Tx) error { return tx.CheckIndex() }); err != nil {
		t.Fatal(err)
	}
}

// Applying is idempotent: every entry twice, then a stretch of the log
// again after the whole of it (a restart that replays from an older
// snapshot index), leaves the same content. The ops set absolute values,
// so even applied past the index check they change nothing.
func TestApplyWriteSetIdempotent(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	log := raft.entries()
	want := dump(t, leader, true)

	twice := openTestDB(t)
	for _, e := range log {
		applyAll(t, twice, []entry{e, e})
	}
	sameDump(t, "each twice", dump(t, twice, true), want)
	applyAll(t, twice, log[:len(log)/2])
	sameDump(t, "a prefix again", dump(t, twice, true), want)
	applyAll(t, twice, log[len(log)/3:])
	sameDump(t, "a suffix again", dump(t, twice, true), want)

	// The ops alone, bypassing the applied index: each write-set applied
	// twice in a row, then a suffix of the log again.
	raw := openTestDB(t)
	applyOpsOf := func(es []entry, times int) {
		t.Helper()
		err := raw.bolt.Update(func(tx *bolt.Tx) error {
			for _, e := range es {
				_, ops, err := decodeHeader(e.data)
				if err != nil {
					return err
				}
				for range times {
					if err := applyOps(tx, ops); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	applyOpsOf(log, 2)
	applyOpsOf(log[len(log)/2:], 1)
	sameDump(t, "ops applied again", dump(t, raw, false), dump(t, leader, false))
}

// A closure that fails replicates nothing and returns its own error; one
// that only reads calls no Replicate and succeeds.
func TestReplicatedUpdateFailsOrReadsOnly(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	calls, before := raft.calls, dump(t, leader, true)
	boom := errors.New("boom")
	err := leader.Update(func(tx *Tx) error {
		if err := tx.PutIncident(incident.New(99, incident.Declaration{Title: "x", Severity: 1, By: incident.User{ID: "U1"}})); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || errors.Is(err, ErrNotCommitted) {
		t.Fatalf("failing closure: %v", err)
	}
	err = leader.Update(func(tx *Tx) error {
		_, err := tx.Incidents()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if raft.calls != calls {
		t.Fatalf("Replicate called %d times, want none", raft.calls-calls)
	}
	sameDump(t, "after", dump(t, leader, true), before)
}

// A Replicator's error comes back wrapped in ErrNotCommitted, and the change
// is not applied here, nor its jobs announced.
func TestReplicateError(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	before := dump(t, leader, true)
	announced := 0
	leader.OnEnqueue(func(jobs []Job) { announced += len(jobs) })
	noQuorum := errors.New("no quorum")
	raft.fail = noQuorum
	err := leader.Update(func(tx *Tx) error {
		return tx.Enqueue(Job{Lane: "C1", Kind: "post", Created: t0})
	})
	if !errors.Is(err, ErrNotCommitted) || !errors.Is(err, noQuorum) {
		t.Fatalf("Update = %v, want ErrNotCommitted wrapping %v", err, noQuorum)
	}
	if announced != 0 {
		t.Fatalf("%d jobs announced of a change not committed", announced)
	}
	sameDump(t, "after", dump(t, leader, true), before)
}

// Replicated writers are serialized until their write-set is applied: 50
// at once, each allocating an incident number, all get distinct numbers
// and every incident is there, on the leader and on a follower.
func TestReplicatedUpdatesSerialized(t *testing.T) {
	leader, raft := leaderDB(t)
	const n = 50
	ids := make(chan int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := leader.Update(func(tx *Tx) error {
				id, err := tx.NextIncidentID()
				if err != nil {
					return err
				}
				ids <- id
				return tx.PutIncident(incident.New(id, incident.Declaration{Title: fmt.Sprint(i), Severity: 2, By: incident.User{ID: "U1"}}))
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(ids)
	var got []int64
	for id := range ids {
		got = append(got, id)
	}
	slices.Sort(got)
	if len(got) != n || got[0] != 1 || got[n-1] != n || len(slices.Compact(slices.Clone(got))) != n {
		t.Fatalf("ids %v, want 1..%d once each", got, n)
	}
	follower := openTestDB(t)
	applyAll(t, follower, raft.entries())
	for _, db := range []*DB{leader, follower} {
		var incs []*incident.Incident
		if err := db.View(func(tx *Tx) (err error) { incs, err = tx.Incidents(); return err }); err != nil || len(incs) != n {
			t.Fatalf("%d incidents (%v), want %d", len(incs), err, n)
		}
	}
	mustCheckIndex(t, follower)
}

// The leader announces the jobs a change enqueued once Replicate returned
// (committed); applying a write-set, on a follower or the leader, never
// announces anything.
func TestOnEnqueueAfterReplicate(t *testing.T) {
	leader, raft := leaderDB(t)
	follower := openTestDB(t)
	var mu sync.Mutex
	var got []Job
	leader.OnEnqueue(func(jobs []Job) {
		mu.Lock()
		defer mu.Unlock()
		if n := len(raft.entries()); n != 1 {
			t.Errorf("announced with %d entries replicated, want 1", n)
		}
		for _, j := range jobs {
			if err := leader.View(func(tx *Tx) error {
				if !tx.HasJob(j.Seq) {
					return fmt.Errorf("job %d announced but not in the outbox", j.Seq)
				}
				return nil
			}); err != nil {
				t.Error(err)
			}
		}
		got = append(got, jobs...)
	})
	follower.OnEnqueue(func(jobs []Job) { t.Errorf("follower announced %d jobs", len(jobs)) })
	update(t, leader, func(tx *Tx) error {
		for _, lane := range []string{"C1", "C2"} {
			if err := tx.Enqueue(Job{Lane: lane, Kind: "post", Created: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	mu.Lock()
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("announced %+v, want jobs 1 and 2", got)
	}
	mu.Unlock()
	applyAll(t, follower, raft.entries())
	var jobs []Job
	if err := follower.View(func(tx *Tx) (err error) { jobs, err = tx.Jobs(); return err }); err != nil || len(jobs) != 2 {
		t.Fatalf("follower holds %d jobs (%v), want 2", len(jobs), err)
	}
}

// An entry of a term lower than one applied is refused and changes
// nothing; so are an unknown version, malformed data and index 0.
func TestApplyWriteSetRefuses(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	log := raft.entries()
	follower := openTestDB(t)
	applyAll(t, follower, log[:3])
	if err := follower.ApplyWriteSet(log[2].index+1, 7, log[3].data); err != nil {
		t.Fatal(err)
	}
	before := dump(t, follower, true)
	err := follower.ApplyWriteSet(log[2].index+2, 6, log[4].data)
	if !errors.Is(err, ErrStaleTerm) {
		t.Fatalf("lower term: %v, want ErrStaleTerm", err)
	}
	bad := [][]byte{nil, {99, 0}, log[4].data[:len(log[4].data)-1], append([]byte{1, 0}, 42), {1, 0, opPut, 1, 'k', 0}}
	for _, data := range bad {
		if err := follower.ApplyWriteSet(log[2].index+2, 7, data); err == nil {
			t.Fatalf("write-set %x applied", data)
		}
	}
	if err := follower.ApplyWriteSet(0, 7, log[4].data); err == nil {
		t.Fatal("index 0 applied")
	}
	sameDump(t, "after refusals", dump(t, follower, true), before)
	if i, term := follower.Applied(); i != log[2].index+1 || term != 7 {
		t.Fatalf("applied (%d, %d), want (%d, 7)", i, term, log[2].index+1)
	}
}

// A write-set captured before the one ahead of it was applied (a
// Replicator that returns early, a leader that has not caught up) is
// refused rather than undoing it: both would have taken incident 1.
func TestApplyWriteSetConflict(t *testing.T) {
	leader, raft := leaderDB(t)
	raft.noApply = true
	for range 2 {
		update(t, leader, func(tx *Tx) error {
			id, err := tx.NextIncidentID()
			if err != nil {
				return err
			}
			return tx.PutIncident(incident.New(id, incident.Declaration{Title: "x", Severity: 2, By: incident.User{ID: "U1"}}))
		})
	}
	log := raft.entries()
	follower := openTestDB(t)
	applyAll(t, follower, log[:1])
	if err := follower.ApplyWriteSet(log[1].index, log[1].term, log[1].data); !errors.Is(err, ErrConflict) {
		t.Fatalf("second write-set: %v, want ErrConflict", err)
	}
	if i, _ := follower.Applied(); i != log[0].index {
		t.Fatalf("applied %d, want %d", i, log[0].index)
	}
}

// Buckets created and deleted by a transaction are created and deleted by
// its write-set, nested ones too.
func TestWriteSetBuckets(t *testing.T) {
	leader, raft := leaderDB(t)
	workload(t, leader)
	update(t, leader, func(tx *Tx) error {
		tl := tx.bucket(bucketTimeline)
		if err := tl.DeleteBucket(u64(1)); err != nil {
			return err
		}
		b, err := tl.CreateBucketIfNotExists([]byte("x"))
		if err != nil {
			return err
		}
		c, err := b.CreateBucket([]byte("y"))
		if err != nil {
			return err
		}
		if _, err := c.NextSequence(); err != nil {
			return err
		}
		return c.Put([]byte("k"), []byte("v"))
	})
	// Written, deleted and made again in one transaction: the handle of the
	// first is not the bucket of the last.
	update(t, leader, func(tx *Tx) error {
		x := tx.bucket(bucketTimeline).Bucket([]byte("x"))
		if err := x.Bucket([]byte("y")).Put([]byte("old"), []byte("1")); err != nil {
			return err
		}
		if err := tx.bucket(bucketTimeline).DeleteBucket([]byte("x")); err != nil {
			return err
		}
		x, err := tx.bucket(bucketTimeline).CreateBucket([]byte("x"))
		if err != nil {
			return err
		}
		y, err := x.CreateBucket([]byte("y"))
		if err != nil {
			return err
		}
		return y.Put([]byte("k"), []byte("v"))
	})
	follower := openTestDB(t)
	applyAll(t, follower, raft.entries())
	sameDump(t, "follower", dump(t, follower, true), dump(t, leader, true))
	err := follower.View(func(tx *Tx) error {
		if v := tx.bucket(bucketTimeline).Bucket([]byte("x")).Bucket([]byte("y")).Get([]byte("old")); v != nil {
			return errors.New("x/y/old survived its bucket")
		}
		tl := tx.bucket(bucketTimeline)
		if tl.Bucket(u64(1)).exists() {
			return errors.New("timeline 1 still there")
		}
		if v := tl.Bucket([]byte("x")).Bucket([]byte("y")).Get([]byte("k")); string(v) != "v" {
			return fmt.Errorf("x/y/k = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Back in local mode, Update commits locally again.
func TestSetReplicatorNil(t *testing.T) {
	leader, raft := leaderDB(t)
	leader.SetReplicator(nil)
	workload(t, leader)
	if raft.calls != 0 {
		t.Fatalf("%d Replicate calls in local mode", raft.calls)
	}
}
