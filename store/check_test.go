package store_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// layout is what a test needs to know of a bbolt file to cut it where it
// hurts, read straight from its meta pages (independently of store's own
// parser): the page size and the high-water mark of the newest meta page.
type layout struct{ pageSize, pages int64 }

func readLayout(tb testing.TB, data []byte) layout {
	tb.Helper()
	meta := func(off int) (ps, pages, txid uint64) {
		m := data[off+16:]
		ne := binary.NativeEndian
		return uint64(ne.Uint32(m[8:])), ne.Uint64(m[40:]), ne.Uint64(m[48:])
	}
	ps, pages, txid := meta(0)
	if _, p1, t1 := meta(int(ps)); t1 > txid {
		pages = p1
	}
	return layout{int64(ps), int64(pages)}
}

// filledDB writes a database with a few hundred timeline entries, enough
// for a multi-page timeline bucket, and returns its path and bytes.
func filledDB(tb testing.TB) (string, []byte) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "incidentbot.db")
	db := mustOpen(tb, path)
	putIncidents(tb, db, 3)
	for i := range 8 {
		entries := make([]*incident.Entry, 50)
		for j := range entries {
			entries[j] = benchEntry(i*50 + j)
		}
		appendEntries(tb, db, 1, entries...)
	}
	MustCloseDB(tb, db)
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, data
}

// wantDamaged checks that both kinds of Open refuse path with an error that
// names it and says how to restore, and that the file is unchanged.
func wantDamaged(t *testing.T, path string, want []byte, reason string) {
	t.Helper()
	for _, ro := range []bool{false, true} {
		db, err := store.Open(path, store.Options{ReadOnly: ro, Timeout: time.Second})
		if err == nil {
			_ = db.Close()
			t.Errorf("Open(ReadOnly: %v) accepted the damaged file", ro)
			continue
		}
		var de *store.DamagedError
		if !errors.Is(err, store.ErrDamaged) || !errors.As(err, &de) || de.Path != path {
			t.Errorf("Open(ReadOnly: %v) = %v; want a *store.DamagedError for %s", ro, err, path)
		}
		msg := err.Error()
		for _, part := range []string{path, reason, "incidentbot backup", "cp backup.db " + path} {
			if !strings.Contains(msg, part) {
				t.Errorf("Open(ReadOnly: %v): error %q does not say %q", ro, msg, part)
			}
		}
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the damaged file changed (%d bytes before, %d after, %v)", len(want), len(got), err)
	}
}

// TestOpenRefusesTruncatedFile: bbolt maps the file and follows its page
// numbers, so a file cut short meant a SIGBUS or an assertion panic, and a
// read-write open wrote to it. Open refuses it at every cut, without
// changing a byte.
func TestOpenRefusesTruncatedFile(t *testing.T) {
	_, full := filledDB(t)
	l := readLayout(t, full)
	end := l.pages * l.pageSize
	if l.pages < 12 {
		t.Fatalf("the test database has %d pages; want a bigger one", l.pages)
	}
	cuts := []struct {
		name   string
		at     int64
		reason string
	}{
		{"empty", 0, "it is empty"},
		{"inside the first meta page", 40, "too short"},
		{"inside the second meta page", l.pageSize + 40, "cut short"},
		{"after the meta pages", 2 * l.pageSize, "cut short"},
		{"mid-file", end / 2, "cut short"},
		{"the last page", end - l.pageSize, "cut short"},
		{"the last byte", end - 1, "cut short"},
	}
	for _, c := range cuts {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "incidentbot.db")
			if err := os.WriteFile(path, full[:c.at], 0o600); err != nil {
				t.Fatal(err)
			}
			wantDamaged(t, path, full[:c.at], c.reason)
		})
	}
	// Space bbolt allocated past the high-water mark holds nothing: a file
	// cut there is whole.
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	if err := os.WriteFile(path, full[:end], 0o600); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, path)
	if n := len(timeline(t, db, 1)); n != 400 {
		t.Errorf("a file cut at its high-water mark holds %d entries, want 400", n)
	}
	MustCloseDB(t, db)
}

// TestOpenMetaPages: bbolt keeps two meta pages so that one torn by a crash
// leaves the other; a file with one bad meta page opens (on the other, and
// after the full consistency check), one with both bad is refused.
func TestOpenMetaPages(t *testing.T) {
	_, full := filledDB(t)
	l := readLayout(t, full)
	for _, c := range []struct {
		name     string
		offsets  []int64
		accepted bool
	}{
		{"first torn", []int64{16 + 20}, true},
		{"second torn", []int64{l.pageSize + 16 + 20}, true},
		{"both torn", []int64{16 + 20, l.pageSize + 16 + 20}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := bytes.Clone(full)
			for _, off := range c.offsets {
				data[off] ^= 0xff
			}
			path := filepath.Join(t.TempDir(), "incidentbot.db")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if !c.accepted {
				wantDamaged(t, path, data, "neither of its two meta pages is valid")
				return
			}
			db := mustOpen(t, path)
			defer MustCloseDB(t, db)
			if n := len(timeline(t, db, 1)); n < 350 {
				t.Errorf("opened on the other meta page: %d entries, want about 400", n)
			}
		})
	}
}

// TestOpenRunsConsistencyCheck: a page in the middle of the file zeroed (a
// bad sector, a bad restore): the file is long enough and its meta pages
// are fine, so only bbolt's consistency check finds it, in a read-only
// open and in a read-write one before anything is written.
func TestOpenRunsConsistencyCheck(t *testing.T) {
	path, full := filledDB(t)
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	_ = b.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte("timeline")); bk != nil {
			root = uint64(bk.Root())
		}
		return nil
	})
	_ = b.Close()
	if root == 0 {
		t.Fatal("the timeline bucket has no page of its own")
	}
	l := readLayout(t, full)
	data := bytes.Clone(full)
	clear(data[int64(root)*l.pageSize : int64(root+1)*l.pageSize])
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	wantDamaged(t, path, data, "consistency check found")
}

// TestOpenNewFileUnchecked: a path with no file yet is created as before.
func TestOpenNewFileUnchecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	db := mustOpen(t, path)
	MustCloseDB(t, db)
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("a database Open created does not reopen: %v", err)
	}
	MustCloseDB(t, db)
}
