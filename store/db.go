// Package store keeps incidentbot's state in a bbolt file. It is the only
// package that imports bbolt. Every change goes through Update (or Batch) with
// a *Tx whose methods speak the domain's types, so a Slack event's effects
// and the Slack calls it causes are committed together or not at all.
//
// In a cluster the store is Raft's state machine: a transaction's writes are
// captured as a write-set and committed through a Replicator, and every node
// applies the write-sets in log order (replicate.go, writeset.go); a node
// that falls behind is sent a snapshot (snapshot.go).
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrLocked means another process holds the database file.
var ErrLocked = errors.New("database is in use by another process")

// SchemaVersion is the layout this build reads and writes. Opening an older
// file for writing migrates it (migrate.go); a newer one is refused.
const SchemaVersion = 3

var (
	bucketMeta      = []byte("meta")
	bucketIncidents = []byte("incidents")
	bucketChannels  = []byte("channels")
	bucketTimeline  = []byte("timeline")
	bucketSeen      = []byte("seen")
	bucketSeenAt    = []byte("seen_at")
	bucketOutbox    = []byte("outbox")
	bucketDead      = []byte("deadletter")
	allBuckets      = [][]byte{bucketMeta, bucketIncidents, bucketChannels, bucketTimeline,
		bucketSeen, bucketSeenAt, bucketOutbox, bucketDead, bucketLive, bucketCounts}

	keySchema = []byte("schema_version")
)

// appendFill is the FillPercent of the buckets whose keys only grow: a
// timeline's entries and captured-message index (message timestamps, in
// the order they are pinned, nearly always), the time index of the seen
// keys, the outbox and the dead letters. bbolt splits a full page at its
// FillPercent, 0.5 by default, and with increasing keys nothing is ever
// written to the left half again, so such a bucket's pages stay half
// empty. It is a variable so the scale benchmark can compare with the
// default.
var appendFill = 0.95

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock; past it Open returns ErrLocked
	// instead of hanging. Default 2s.
	Timeout time.Duration
	// ReadOnly opens the file with a shared lock, for offline commands.
	ReadOnly bool
	// NoSync skips fsync on commit. Only for benchmarks of the floor.
	NoSync bool
	// Unsynced skips fsync on commit for a store whose changes are durable
	// elsewhere first (cluster mode), guarded against a machine crash
	// (unsynced.go). Where the boot cannot be identified it is ignored.
	Unsynced bool
}

// DB is an open incidentbot database.
type DB struct {
	path string
	opts Options

	// swap guards bolt, lost and rep: every transaction holds it for
	// reading, Restore and SetReplicator (snapshot.go, replicate.go) for
	// writing, so a restore waits for the transactions open on the old
	// file and the ones after it use the new one. An uncontended RLock is
	// an atomic add, nothing next to a commit's fsync.
	swap sync.RWMutex
	bolt *bolt.DB
	lost error      // why bolt is nil: a restore failed to reopen the file
	rep  Replicator // nil: local mode

	// writeMu serializes replicated writers from capture until their
	// write-set is applied here (replicate.go).
	writeMu sync.Mutex
	pipe    pipeline // write-sets in flight (pipeline.go), under writeMu

	mu        sync.Mutex
	onEnqueue func([]Job)
}

// Open opens or creates the database at path. It fails fast with a clear
// error when the directory is missing or unwritable or another process
// holds the file, and refuses a damaged file (ErrDamaged) without writing
// to it: an existing file passes checkFile, then bbolt's consistency check
// on a read-only open (for a read-write open, a separate read-only open
// first, when the file is at most MaxCheckSize), before it is opened for
// writing.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if err := checkPath(path, opts.ReadOnly); err != nil {
		return nil, err
	}
	var boot string
	if !opts.ReadOnly {
		if err := checkUnsynced(path); err != nil {
			return nil, err
		}
		var ok bool
		if boot, ok = bootID(); !ok {
			opts.Unsynced = false
		}
	}
	fi, statErr := os.Stat(path)
	if statErr == nil {
		if err := checkFile(path); err != nil {
			return nil, err
		}
	}
	if statErr == nil && (opts.ReadOnly || fi.Size() <= MaxCheckSize) {
		ro, err := openBolt(path, Options{ReadOnly: true, Timeout: opts.Timeout})
		if err != nil {
			return nil, err
		}
		if err := verify(path, ro); err != nil {
			_ = ro.Close()
			return nil, err
		}
		if opts.ReadOnly {
			return ready(&DB{bolt: ro, path: path, opts: opts}, true)
		}
		if err := ro.Close(); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	if opts.Unsynced {
		// Before the first unsynced write (ready creates buckets).
		if err := markUnsynced(path, boot); err != nil {
			return nil, err
		}
	}
	b, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	return ready(&DB{bolt: b, path: path, opts: opts}, opts.ReadOnly)
}

// Unsynced reports whether commits skip fsync (Options.Unsynced, where the
// boot can be identified).
func (db *DB) Unsynced() bool { return db.opts.Unsynced }

// openBolt is bolt.Open with incidentbot's errors. A panic inside bbolt (an
// assertion on a page it read, or a fault on the mapped file, which
// SetPanicOnFault turns into a panic on this goroutine) becomes ErrDamaged
// instead of a crash.
func openBolt(path string, opts Options) (b *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, damaged(path, "bbolt failed reading it (%v)", r)
		}
	}()
	b, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  opts.Timeout,
		ReadOnly: opts.ReadOnly,
		NoSync:   opts.NoSync || opts.Unsynced,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (another incidentbot is probably running with this file; stop it or point this one at another file)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return b, nil
}

// ready creates the buckets and checks the schema (read-write), or only
// checks the schema (read-only), closing db if that fails.
func ready(db *DB, readOnly bool) (*DB, error) {
	check := db.init
	if readOnly {
		check = db.checkSchema
	}
	if err := check(); err != nil {
		_ = db.bolt.Close()
		return nil, err
	}
	return db, nil
}

func checkPath(path string, readOnly bool) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("database directory %s does not exist: create it or choose another path", dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("database directory %s is not a directory", dir)
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("database path %s is a directory; give a file name such as %s", path, filepath.Join(path, "incidentbot.db"))
		}
		flag := os.O_RDWR
		if readOnly {
			flag = os.O_RDONLY
		}
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			return fmt.Errorf("database file %s cannot be opened for %s: %w", path, map[bool]string{true: "reading", false: "writing"}[readOnly], err)
		}
		return f.Close()
	} else if readOnly {
		return fmt.Errorf("database file %s does not exist: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".incidentbot-write-check-*")
	if err != nil {
		return fmt.Errorf("database directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// init creates the buckets once and checks the schema version.
func (db *DB) init() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keySchema)
		if v == nil {
			return meta.Put(keySchema, u64(SchemaVersion))
		}
		if err := schemaOK(v); err != nil {
			return err
		}
		return migrate(tx, binary.BigEndian.Uint64(v))
	})
}

// checkSchema is init for read-only opens: it changes nothing, but refuses a
// file written by a newer incidentbot rather than misreading it.
func (db *DB) checkSchema() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("%s is not an incidentbot database (no meta bucket)", db.path)
		}
		return schemaOK(meta.Get(keySchema))
	})
}

func schemaOK(v []byte) error {
	if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 {
		return fmt.Errorf("the database's schema version is unreadable: is this an incidentbot database?")
	}
	if len(v) == 8 && binary.BigEndian.Uint64(v) > SchemaVersion {
		return fmt.Errorf("database schema version %d is newer than this incidentbot understands (%d): upgrade incidentbot", binary.BigEndian.Uint64(v), SchemaVersion)
	}
	return nil
}

// Path returns the file the database lives in.
func (db *DB) Path() string { return db.path }

// Close closes the database, waiting for open transactions.
func (db *DB) Close() error {
	db.swap.Lock()
	defer db.swap.Unlock()
	if db.bolt == nil {
		return nil
	}
	if !db.opts.Unsynced {
		return db.bolt.Close()
	}
	// The marker goes only once the file is on disk.
	err := db.bolt.Sync()
	if cerr := db.bolt.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = clearUnsynced(db.path)
	}
	return err
}

// OnEnqueue registers the function told, after each commit, about the jobs
// that commit enqueued. The dispatcher uses it to avoid rescanning the outbox.
func (db *DB) OnEnqueue(fn func([]Job)) {
	db.mu.Lock()
	db.onEnqueue = fn
	db.mu.Unlock()
}

func (db *DB) enqueued(jobs []Job) {
	db.mu.Lock()
	fn := db.onEnqueue
	db.mu.Unlock()
	if fn != nil {
		fn(jobs)
	}
}

// Update runs fn in a read-write transaction, committed if fn returns nil.
// With a Replicator set (replicate.go) the transaction's writes are
// committed through it instead, and an error matching ErrNotCommitted
// means they were not (known to be) committed.
func (db *DB) Update(fn func(*Tx) error) error {
	db.swap.RLock()
	if r := db.rep; r != nil {
		db.swap.RUnlock()
		return db.updateReplicated(r, fn)
	}
	defer db.swap.RUnlock()
	if db.bolt == nil {
		return db.lost
	}
	return db.bolt.Update(func(btx *bolt.Tx) error { return fn(db.wrap(btx)) })
}

// Batch runs fn in a transaction shared with concurrent Batch callers, which
// saves fsyncs. fn may run more than once and must have no other side
// effects. With a Replicator set it is Update: replicated writers are
// serialized anyway, and the bot gathers envelopes into one Update itself.
func (db *DB) Batch(fn func(*Tx) error) error {
	db.swap.RLock()
	if r := db.rep; r != nil {
		db.swap.RUnlock()
		return db.updateReplicated(r, fn)
	}
	defer db.swap.RUnlock()
	if db.bolt == nil {
		return db.lost
	}
	return db.bolt.Batch(func(btx *bolt.Tx) error { return fn(db.wrap(btx)) })
}

// View runs fn in a read-only transaction. Do not start a transaction
// inside fn: while a Restore waits, the inner one would wait for it.
func (db *DB) View(fn func(*Tx) error) error {
	db.swap.RLock()
	defer db.swap.RUnlock()
	if db.bolt == nil {
		return db.lost
	}
	return db.bolt.View(func(btx *bolt.Tx) error { return fn(db.wrap(btx)) })
}

// WriteTo writes a consistent copy of the whole database to w, while other
// transactions go on. It is how backups are taken from a running bot.
func (db *DB) WriteTo(w io.Writer) (int64, error) {
	db.swap.RLock()
	defer db.swap.RUnlock()
	if db.bolt == nil {
		return 0, db.lost
	}
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

func (db *DB) wrap(btx *bolt.Tx) *Tx { return &Tx{tx: btx, db: db} }

// count returns the number of keys in b.
func count(b bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// u64 encodes n big-endian, so keys sort in numeric order.
func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}
