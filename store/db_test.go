package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/store"
)

// MustOpenDB opens a database in a temporary directory and closes it when
// the test ends.
func MustOpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "incidentbot.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { MustCloseDB(tb, db) })
	return db
}

// MustCloseDB closes db and fails the test if that fails.
func MustCloseDB(tb testing.TB, db *store.DB) {
	tb.Helper()
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
}

// mustUpdate runs fn in a read-write transaction and fails the test on error.
func mustUpdate(tb testing.TB, db *store.DB, fn func(*store.Tx) error) {
	tb.Helper()
	if err := db.Update(fn); err != nil {
		tb.Fatal(err)
	}
}

// mustView runs fn in a read-only transaction and fails the test on error.
func mustView(tb testing.TB, db *store.DB, fn func(*store.Tx) error) {
	tb.Helper()
	if err := db.View(fn); err != nil {
		tb.Fatal(err)
	}
}

func TestOpenCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer MustCloseDB(t, db)
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("Open did not create %s: %v", path, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".incidentbot-write-check-*"))
	if len(leftovers) > 0 {
		t.Errorf("Open left its write check behind: %v", leftovers)
	}
}

func TestOpenReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	for i := 0; i < 2; i++ {
		db, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		MustCloseDB(t, db)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of an existing file: %v", err)
	}
	MustCloseDB(t, db)
}

func TestOpenBadPath(t *testing.T) {
	tests := []struct {
		name     string
		path     func(dir string) string
		readOnly bool
		// Every part must be in the error.
		want []string
	}{
		{
			name: "missing directory",
			path: func(dir string) string { return filepath.Join(dir, "nope", "incidentbot.db") },
			want: []string{"nope", "does not exist", "create it"},
		},
		{
			name: "path is a directory",
			path: func(dir string) string {
				p := filepath.Join(dir, "data")
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return p
			},
			want: []string{"data", "is a directory", filepath.Join("data", "incidentbot.db")},
		},
		{
			name: "parent is a file",
			path: func(dir string) string {
				p := filepath.Join(dir, "afile")
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(p, "incidentbot.db")
			},
			want: []string{"afile", "not a directory"},
		},
		{
			name:     "read-only and missing",
			path:     func(dir string) string { return filepath.Join(dir, "missing.db") },
			readOnly: true,
			want:     []string{"missing.db", "does not exist"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.path(dir)
			db, err := store.Open(path, store.Options{ReadOnly: tc.readOnly, Timeout: time.Second})
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) succeeded", path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.readOnly {
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a read-only open created %s", path)
				}
			}
		})
	}
}

func TestOpenUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: every directory is writable, so this cannot be tested")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "incidentbot.db")
	db, err := store.Open(path, store.Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open in a read-only directory succeeded")
	}
	for _, w := range []string{dir, "not writable"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestOpenLocked shows a second Open of a file in use fails with ErrLocked
// after about Timeout, instead of hanging. bbolt's flock also blocks a second
// open within one process, so this needs no second process.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	first, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer MustCloseDB(t, first)

	for _, readOnly := range []bool{false, true} {
		name := map[bool]string{false: "read-write", true: "read-only"}[readOnly]
		t.Run(name, func(t *testing.T) {
			const timeout = 200 * time.Millisecond
			start := time.Now()
			db, err := store.Open(path, store.Options{Timeout: timeout, ReadOnly: readOnly})
			took := time.Since(start)
			if err == nil {
				db.Close()
				t.Fatal("a second Open of a file in use succeeded")
			}
			if !errors.Is(err, store.ErrLocked) {
				t.Fatalf("second Open = %v, want ErrLocked", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "another incidentbot") {
				t.Errorf("error %q should name the file and the likely cause", err)
			}
			if took > timeout+2*time.Second {
				t.Errorf("second Open gave up after %v, want about %v", took, timeout)
			}
		})
	}
}

// TestSchemaNewer writes a schema version from the future with bbolt
// directly: this build must refuse the file rather than misread it.
func TestSchemaNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	MustCloseDB(t, mustOpen(t, path))
	setSchemaVersion(t, path, store.SchemaVersion+1)

	db, err := store.Open(path, store.Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database from a newer incidentbot")
	}
	for _, w := range []string{"newer", "upgrade incidentbot"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	// The refusal must not leave the file locked.
	setSchemaVersion(t, path, store.SchemaVersion)
	MustCloseDB(t, mustOpen(t, path))
}

func TestSchemaCurrentAndOlder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	MustCloseDB(t, mustOpen(t, path))
	if got := schemaVersion(t, path); got != store.SchemaVersion {
		t.Errorf("a new database has schema version %d, want %d", got, store.SchemaVersion)
	}
	setSchemaVersion(t, path, 1)
	MustCloseDB(t, mustOpen(t, path))
	if got := schemaVersion(t, path); got != store.SchemaVersion {
		t.Errorf("a schema 1 database was left at %d after opening, want it migrated to %d", got, store.SchemaVersion)
	}
}

func mustOpen(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(path, store.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func setSchemaVersion(tb testing.TB, path string, v uint64) {
	tb.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return err
		}
		return meta.Put([]byte("schema_version"), bigEndian(v))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func schemaVersion(tb testing.TB, path string) uint64 {
	tb.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer b.Close()
	var v uint64
	err = b.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if meta == nil {
			return errors.New("no meta bucket")
		}
		raw := meta.Get([]byte("schema_version"))
		if len(raw) != 8 {
			return errors.New("schema_version is not 8 bytes")
		}
		for _, c := range raw {
			v = v<<8 | uint64(c)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func bigEndian(v uint64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

func TestWriteTo(t *testing.T) {
	db := MustOpenDB(t)
	putIncidents(t, db, 3)

	var buf bytes.Buffer
	n, err := db.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(backup, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	copyDB, err := store.Open(backup, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer MustCloseDB(t, copyDB)
	if got, want := incidentTitles(t, copyDB), incidentTitles(t, db); strings.Join(got, "|") != strings.Join(want, "|") || len(got) != 3 {
		t.Errorf("backup holds %v, want %v", got, want)
	}
}
