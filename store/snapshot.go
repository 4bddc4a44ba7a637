package store

// Snapshots of the whole database, for Raft: a node that falls behind the
// log, or a new one, is sent the leader's snapshot and restores it. A
// snapshot is a bbolt Tx.WriteTo stream, the same bytes as a backup, so a
// snapshot is a valid database file and a backup can seed a cluster.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Snapshot is a point-in-time view of the database, held open until
// Release. Writes go on meanwhile, but bbolt cannot grow the file's
// mapping while a read transaction is open, so a write that needs more
// room waits for Release: release snapshots promptly.
type Snapshot struct {
	db   *DB
	tx   *bolt.Tx
	once sync.Once
}

// BeginSnapshot opens a snapshot. A Restore waits until it is released.
func (db *DB) BeginSnapshot() (*Snapshot, error) {
	db.swap.RLock()
	if db.bolt == nil {
		db.swap.RUnlock()
		return nil, db.lost
	}
	tx, err := db.bolt.Begin(false)
	if err != nil {
		db.swap.RUnlock()
		return nil, err
	}
	return &Snapshot{db: db, tx: tx}, nil
}

// WriteTo writes the snapshot, a complete database file, to w.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) { return s.tx.WriteTo(w) }

// Applied returns the index and term of the last write-set the snapshot
// holds (see DB.Applied).
func (s *Snapshot) Applied() (index, term uint64) { return readApplied(s.tx.Bucket(bucketMeta)) }

// Size is the length of what WriteTo writes.
func (s *Snapshot) Size() int64 { return s.tx.Size() }

// Release ends the snapshot. It may be called more than once.
func (s *Snapshot) Release() {
	s.once.Do(func() {
		_ = s.tx.Rollback()
		s.db.swap.RUnlock()
	})
}

// Restore replaces the whole database with a snapshot read from r (what
// Snapshot.WriteTo or WriteTo wrote). The stream goes to a file beside the
// database, which is fsynced and opened with every check Open makes (and
// migrated if it is of an older schema); only then are the transactions in
// progress waited for, the database closed, the file renamed over it and
// reopened with the same options. Transactions started meanwhile wait. A
// stream that is not a sound incidentbot database is refused and the
// database is left as it was.
func (db *DB) Restore(r io.Reader) error {
	if db.opts.ReadOnly {
		return errors.New("restore: the database is open read-only")
	}
	dir, base := filepath.Split(db.path)
	f, err := os.CreateTemp(dir, "."+base+".restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: write %s: %w", tmp, err)
	}
	check, err := Open(tmp, db.opts)
	if err != nil {
		return fmt.Errorf("restore: the snapshot is not usable: %w", err)
	}
	if err := check.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}

	db.swap.Lock()
	defer db.swap.Unlock()
	if db.bolt == nil {
		return db.lost
	}
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("restore: close %s: %w", db.path, err)
	}
	renamed := os.Rename(tmp, db.path)
	if renamed == nil {
		renamed = syncDir(dir)
	}
	// Reopen whichever file is there now: the snapshot, or if the rename
	// failed the old database, untouched.
	b, err := openBolt(db.path, db.opts)
	if err != nil {
		db.bolt, db.lost = nil, fmt.Errorf("the database is unavailable: reopening it after a restore failed: %w", err)
		return fmt.Errorf("restore: %w", db.lost)
	}
	db.bolt = b
	if renamed != nil {
		return fmt.Errorf("restore: %w", renamed)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
