package store

// Replicated mode: the store as the state machine of a Raft cluster.
//
// A transaction's closure reads the clock, allocates ids and decides what
// to enqueue, so it cannot be replayed on another node. The leader runs it
// once, in a bbolt transaction that records its writes (its write-set,
// writeset.go) and is then rolled back; the write-set goes through the
// Replicator into the Raft log, and every node, the leader included,
// applies it with ApplyWriteSet when it is committed. The leader's writers
// are serialized from capture until their write-set is applied here, so
// each one sees the effects of the one before.
//
// What stays local: Open's bucket creation and schema migrations
// (migrate.go, rebuildLive) run on every node at open, before it takes part
// in the cluster, with the same result on every node of one version (they
// are functions of the data and the binary), so they are not replicated;
// nodes of one cluster run the same SchemaVersion. ApplyWriteSet's own
// record of the applied index is local too, as is everything a read-only
// or local-mode DB writes.

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Replicator commits a write-set through consensus. It returns once the
// write-set is committed by a quorum and applied to this node's store
// (through ApplyWriteSet), returning the error that ApplyWriteSet gave for
// it here, or with an error (not leader, no quorum, timeout). After an
// error the write-set may still be committed later: an ambiguous outcome,
// which callers treat like a failed disk write (the bot withholds the ack,
// and the redelivery is deduplicated by what the write-set recorded).
type Replicator interface {
	Replicate(writeSet []byte) error
}

var (
	// ErrNotCommitted wraps the Replicator's error when Update could not
	// commit a change through it: the change is not applied here (though a
	// timed-out one may still be, later, on every node alike).
	ErrNotCommitted = errors.New("the change was not committed by the cluster")
	// ErrStaleTerm is ApplyWriteSet refusing an entry of a Raft term lower
	// than one already applied: the write of a deposed leader. Raft never
	// produces one; it is a cheap guard. The entry changes nothing.
	ErrStaleTerm = errors.New("write-set of an older Raft term than one already applied")
	// ErrConflict is ApplyWriteSet refusing a write-set captured on a state
	// that another entry changed since (its base index is not the last one
	// applied): applying it could undo that entry, e.g. hand out one
	// incident number twice. It happens when a leader captures before it
	// has applied all of the log (just elected; or a Replicator that
	// returned before applying). The entry changes nothing, on every node
	// alike; the caller sees ErrNotCommitted and retries.
	ErrConflict = errors.New("write-set captured on a state that has changed since")
)

// keyApplied (meta) holds the index and term of the last write-set applied.
var keyApplied = []byte("raft_applied")

// SetReplicator switches the database to replicated mode (r non-nil) or
// back to local mode (nil). It waits for the transactions in progress. The
// Raft wrapper needs the DB to exist before it can replicate, hence a
// setter rather than an Open option.
func (db *DB) SetReplicator(r Replicator) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	db.swap.Lock()
	defer db.swap.Unlock()
	db.rep = r
}

// updateReplicated is Update with a Replicator: capture, replicate, and
// announce the enqueued jobs once committed. A closure that fails, or
// writes nothing, replicates nothing.
func (db *DB) updateReplicated(r Replicator, fn func(*Tx) error) error {
	if _, ok := r.(AsyncReplicator); ok {
		// On top of the write-sets in flight, like every writer's.
		wait, err := db.Submit(fn)
		if err != nil {
			return err
		}
		return wait()
	}
	db.writeMu.Lock()
	data, jobs, err := db.capture(fn)
	if err == nil && data != nil {
		if rerr := r.Replicate(data); rerr != nil {
			err = fmt.Errorf("%w: %w", ErrNotCommitted, rerr)
		}
	}
	db.writeMu.Unlock()
	// As OnCommit hooks do in local mode: after the write lock is released,
	// so the dispatcher told may start a transaction.
	if err == nil && len(jobs) > 0 {
		db.enqueued(jobs)
	}
	return err
}

// capture runs fn in a read-write transaction that records its writes and
// is rolled back. It returns the write-set (nil if fn wrote nothing) and
// the jobs fn enqueued.
func (db *DB) capture(fn func(*Tx) error) (data []byte, jobs []Job, err error) {
	db.swap.RLock()
	defer db.swap.RUnlock()
	if db.bolt == nil {
		return nil, nil, db.lost
	}
	btx, err := db.bolt.Begin(true)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = btx.Rollback() }()
	base, _ := readApplied(btx.Bucket(bucketMeta))
	t := &Tx{tx: btx, db: db, ws: newWriteSet(base)}
	if err := fn(t); err != nil {
		return nil, nil, err
	}
	if t.ws.ops == 0 {
		return nil, nil, nil
	}
	return t.ws.buf, t.pending, nil
}

// ApplyWriteSet applies a committed write-set, the Raft log entry at index
// of term, in one fsynced transaction that also records (index, term) as
// applied. Every node calls it for every entry, in log order; it never
// tells OnEnqueue (followers run no jobs; the leader's Update announces its
// own). data is not kept after it returns.
//
// It is idempotent: an entry at or below the applied index was applied
// already and is skipped, so re-applying a stretch of the log after a crash
// or a restore changes nothing (and the ops themselves set absolute values).
// It refuses, changing nothing, an entry of a term below the applied one
// (ErrStaleTerm), one captured on another state (ErrConflict), and an
// unknown version or malformed data. Those refusals are deterministic, the
// same on every node; any other error means this node could not apply a
// committed entry, and must not go on applying later ones.
func (db *DB) ApplyWriteSet(index, term uint64, data []byte) error {
	return db.ApplyWriteSets([]Entry{{Index: index, Term: term, Data: data}})[0]
}

// Entry is one committed Raft log entry holding a write-set.
type Entry struct {
	Index, Term uint64
	Data        []byte
}

// ApplyWriteSets applies committed entries, in log order, as ApplyWriteSet
// applies each, in one transaction and one commit for all (raft hands over
// what committed together; on a busy cluster one commit per entry was most
// of what applying cost). The i-th error is entry i's outcome: nil, or a
// refusal that changed nothing for that entry alone. Should anything else
// fail (an error that is not a deterministic refusal), nothing of the
// batch is kept and the entries are applied again one by one, so each gets
// exactly the outcome it would have had alone, and the first that cannot
// be applied says why.
func (db *DB) ApplyWriteSets(entries []Entry) []error {
	errs := make([]error, len(entries))
	db.swap.RLock()
	defer db.swap.RUnlock()
	if db.bolt == nil {
		for i := range errs {
			errs[i] = db.lost
		}
		return errs
	}
	err := db.applyEntries(entries, errs)
	if err == nil || len(entries) == 1 {
		if err != nil {
			errs[0] = err
		}
		return errs
	}
	for i, e := range entries {
		if err := db.applyEntries([]Entry{e}, errs[i:i+1]); err != nil {
			errs[i] = err
		}
		if errs[i] != nil && !errors.Is(errs[i], ErrStaleTerm) && !errors.Is(errs[i], ErrConflict) {
			// This node cannot go on: later entries are not applied.
			for j := i + 1; j < len(errs); j++ {
				errs[j] = fmt.Errorf("apply entry %d: not applied after entry %d failed: %w", entries[j].Index, e.Index, errs[i])
			}
			break
		}
	}
	return errs
}

// applyEntries applies entries in one transaction, recording each
// deterministic refusal in errs; any other error (malformed data, a failed
// write or commit) is returned and nothing is kept. The caller holds
// db.swap.
func (db *DB) applyEntries(entries []Entry, errs []error) error {
	btx, err := db.bolt.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = btx.Rollback() }()
	meta := btx.Bucket(bucketMeta)
	for i, e := range entries {
		refused, err := applyEntry(btx, meta, e)
		if err != nil {
			return err
		}
		errs[i] = refused
	}
	return btx.Commit()
}

// applyEntry applies one entry in btx: refused is a deterministic refusal
// (nothing written for it), err anything else.
func applyEntry(btx *bolt.Tx, meta *bolt.Bucket, e Entry) (refused, err error) {
	index, term, data := e.Index, e.Term, e.Data
	if index == 0 {
		return nil, errors.New("apply write-set: Raft indexes start at 1")
	}
	h, ops, err := parseHeader(data)
	if err != nil {
		return nil, fmt.Errorf("apply entry %d: %w", index, err)
	}
	applied, appliedTerm := readApplied(meta)
	switch {
	case index <= applied:
		return nil, nil
	case term < appliedTerm:
		return fmt.Errorf("apply entry %d of term %d: %w (term %d applied)", index, term, ErrStaleTerm, appliedTerm), nil
	case h.stacked:
		if err := checkStacked(index, h.prev, readAppliedHash(meta)); err != nil {
			return err, nil
		}
	case h.base != applied:
		return fmt.Errorf("apply entry %d: captured after entry %d, but entry %d is the last applied: %w", index, h.base, applied, ErrConflict), nil
	}
	if err := applyOps(btx, ops); err != nil {
		return nil, fmt.Errorf("apply entry %d: %w", index, err)
	}
	rec := binary.BigEndian.AppendUint64(u64(index), term)
	if err := meta.Put(keyApplied, rec); err != nil {
		return nil, err
	}
	hash := hashWriteSet(data)
	if err := meta.Put(keyAppliedHash, hash[:]); err != nil {
		return nil, err
	}
	return nil, nil
}

// Applied returns the index and term of the last write-set applied, 0, 0
// for none (a database that was never part of a cluster, or one whose
// file cannot be read).
func (db *DB) Applied() (index, term uint64) {
	_ = db.View(func(tx *Tx) error {
		index, term = readApplied(tx.tx.Bucket(bucketMeta))
		return nil
	})
	return index, term
}

func readApplied(meta *bolt.Bucket) (index, term uint64) {
	if meta == nil {
		return 0, 0
	}
	v := meta.Get(keyApplied)
	if len(v) != 16 {
		return 0, 0
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
}
