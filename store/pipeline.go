package store

// Pipelined replication: a leader's writer does not wait for one write-set
// to be committed before it captures the next.
//
// Without it every commit is a round trip (the leader's Raft log fsync, a
// follower's, the apply), and the envelopes arriving meanwhile wait a whole
// round before theirs starts. With it, Submit captures a transaction on
// top of the write-sets still in flight — their ops are replayed into the
// capturing transaction first, which is rolled back as before — and hands
// it to Raft at once, which batches the entries queued behind one another
// into one append. The caller waits for its own entry afterwards.
//
// A write-set captured on in-flight ones says so (version 2: the hash of
// the write-set it was stacked on), and ApplyWriteSet refuses it, changing
// nothing, unless that very write-set was the last one applied: if an
// entry fails (a lost leadership, a timeout), those stacked on it fail too
// on every node alike, and nothing is applied on a state it was not
// captured on. The base-index check of an entry stacked on nothing is
// unchanged (version 1, which a node of the previous release reads).

import (
	"crypto/sha256"
	"fmt"
)

// AsyncReplicator is a Replicator that can take the next write-set before
// the last one is committed (cluster.Node, on hashicorp/raft).
type AsyncReplicator interface {
	Replicator
	// ReplicateAsync appends a write-set after every one given before and
	// returns at once; wait returns what Replicate would have.
	ReplicateAsync(writeSet []byte) (wait func() error)
}

// writeSetStacked is the version of a write-set captured on top of
// another still in flight: its header holds that one's hash instead of
// being checked against the applied index.
const writeSetStacked = 2

// keyAppliedHash (meta) is the hash of the last write-set applied, the one
// a stacked write-set names.
var keyAppliedHash = []byte("raft_applied_hash")

// wsHash identifies a write-set by its bytes: the same bytes applied to
// the same state give the same state, so a stacked write-set can name its
// predecessor without knowing its Raft index, which is assigned later.
type wsHash [16]byte

func hashWriteSet(data []byte) wsHash {
	sum := sha256.Sum256(data)
	return wsHash(sum[:16])
}

// inflight is a write-set handed to the Replicator and not yet known to be
// applied here.
type inflight struct {
	hash wsHash
	prev wsHash // the applied hash, or the in-flight one, it was captured on
	ops  []byte
	gen  uint64
}

// pipeline holds the write-sets in flight, oldest first, under writeMu.
type pipeline struct {
	queue []inflight
	// gen counts the times the queue was given up: a failed entry clears
	// it only if nothing newer was captured since its own generation.
	gen uint64
}

// pending returns the in-flight write-sets that the state with lastHash
// applied does not include yet, dropping the applied ones; if the queue
// does not continue that state (an entry failed, or the state was replaced
// by a restore), it is given up and nil returned.
func (p *pipeline) pending(lastHash wsHash) []inflight {
	for i, e := range p.queue {
		if e.hash == lastHash {
			p.queue = p.queue[i+1:]
			return p.queue
		}
	}
	if len(p.queue) > 0 && p.queue[0].prev != lastHash {
		p.giveUp()
	}
	return p.queue
}

func (p *pipeline) giveUp() {
	p.queue = nil
	p.gen++
}

// Submit is Update for a pipelined Replicator: it captures fn (stacked on
// the write-sets in flight), hands the write-set over and returns; wait
// returns the commit's outcome (nil, or an error matching ErrNotCommitted)
// and announces the jobs fn enqueued. err is fn's own error, or a failure
// to capture: nothing was handed over then and wait is nil. Without a
// pipelined Replicator it is Update, and wait returns nil.
func (db *DB) Submit(fn func(*Tx) error) (wait func() error, err error) {
	db.swap.RLock()
	r, ok := db.rep.(AsyncReplicator)
	db.swap.RUnlock()
	if !ok {
		if err := db.Update(fn); err != nil {
			return nil, err
		}
		return func() error { return nil }, nil
	}
	db.writeMu.Lock()
	c, err := db.captureStacked(fn)
	if err != nil || c.data == nil {
		db.writeMu.Unlock()
		if err != nil {
			return nil, err
		}
		return func() error { return nil }, nil
	}
	db.pipe.queue = append(db.pipe.queue, c.entry)
	replicated := r.ReplicateAsync(c.data)
	db.writeMu.Unlock()
	return func() error {
		if rerr := replicated(); rerr != nil {
			db.writeMu.Lock()
			if db.pipe.gen == c.entry.gen {
				db.pipe.giveUp()
			}
			db.writeMu.Unlock()
			return fmt.Errorf("%w: %w", ErrNotCommitted, rerr)
		}
		if len(c.jobs) > 0 {
			db.enqueued(c.jobs)
		}
		return nil
	}, nil
}

// Pipelined reports whether Submit pipelines (a Replicator that can).
func (db *DB) Pipelined() bool {
	db.swap.RLock()
	defer db.swap.RUnlock()
	_, ok := db.rep.(AsyncReplicator)
	return ok
}

type captured struct {
	data  []byte
	jobs  []Job
	entry inflight
}

// captureStacked is capture on top of the write-sets in flight. Called
// with writeMu held.
func (db *DB) captureStacked(fn func(*Tx) error) (c captured, err error) {
	db.swap.RLock()
	defer db.swap.RUnlock()
	if db.bolt == nil {
		return c, db.lost
	}
	btx, err := db.bolt.Begin(true)
	if err != nil {
		return c, err
	}
	defer func() { _ = btx.Rollback() }()
	meta := btx.Bucket(bucketMeta)
	base, _ := readApplied(meta)
	last := readAppliedHash(meta)
	prev := last
	pending := db.pipe.pending(last)
	for _, e := range pending {
		// Replayed, not recorded: they are in the log already.
		if err := applyOps(btx, e.ops); err != nil {
			db.pipe.giveUp()
			return c, fmt.Errorf("replay a write-set in flight: %w", err)
		}
		prev = e.hash
	}
	ws := newWriteSet(base)
	if len(pending) > 0 {
		ws = newStackedWriteSet(prev)
	}
	t := &Tx{tx: btx, db: db, ws: ws}
	if err := fn(t); err != nil {
		return c, err
	}
	if t.ws.ops == 0 {
		return c, nil
	}
	data := t.ws.buf
	c = captured{data: data, jobs: t.pending, entry: inflight{hash: hashWriteSet(data), prev: last, gen: db.pipe.gen}}
	if len(pending) > 0 {
		c.entry.prev = prev
	}
	_, c.entry.ops, _ = parseHeader(data)
	return c, nil
}

// newStackedWriteSet starts a version 2 write-set on top of prev.
func newStackedWriteSet(prev wsHash) *writeSet {
	ws := &writeSet{buf: make([]byte, 0, 256), cur: -1}
	ws.buf = append(ws.buf, writeSetStacked)
	ws.buf = append(ws.buf, prev[:]...)
	return ws
}

func readAppliedHash(meta interface{ Get([]byte) []byte }) wsHash {
	var h wsHash
	if meta != nil {
		copy(h[:], meta.Get(keyAppliedHash))
	}
	return h
}

// checkStacked refuses a stacked write-set whose predecessor is not the
// last one applied.
func checkStacked(index uint64, prev, last wsHash) error {
	if prev == last {
		return nil
	}
	return fmt.Errorf("apply entry %d: captured on write-set %x, but %x is the last applied: %w", index, prev[:4], last[:4], ErrConflict)
}
