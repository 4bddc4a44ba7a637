package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

func playBoot(t *testing.T, id string) {
	t.Helper()
	old := bootID
	bootID = func() (string, bool) { return id, true }
	t.Cleanup(func() { bootID = old })
}

// A file written without fsync survives its process (the page cache has
// it): reopened under the same boot it opens with everything. Under
// another boot it is refused as possibly torn; a clean Close leaves no
// marker, so the next boot opens it as usual.
func TestUnsyncedFileAndMachineCrash(t *testing.T) {
	playBoot(t, "boot-1")
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	db, err := Open(path, Options{Unsynced: true})
	if err != nil {
		t.Fatal(err)
	}
	if !db.Unsynced() {
		t.Fatal("Unsynced with a known boot did not skip fsync")
	}
	update(t, db, func(tx *Tx) error {
		return tx.PutIncident(incident.New(1, incident.Declaration{Title: "checkout", Severity: 2, By: incident.User{ID: "U1"}, At: t0}))
	})
	// The process dies: no Close, the lock goes with it.
	_ = db.bolt.Close()
	if _, err := os.Stat(path + unsyncedSuffix); err != nil {
		t.Fatalf("no marker while the file is open unsynced: %v", err)
	}

	again, err := Open(path, Options{Unsynced: true})
	if err != nil {
		t.Fatalf("same boot, after the process died: %v", err)
	}
	_ = again.View(func(tx *Tx) error {
		if _, err := tx.Incident(1); err != nil {
			t.Errorf("the incident written before the process died: %v", err)
		}
		return nil
	})
	_ = again.bolt.Close() // dies again

	playBoot(t, "boot-2")
	if _, err := Open(path, Options{Unsynced: true}); !errors.Is(err, ErrTorn) {
		t.Fatalf("another boot: %v, want ErrTorn", err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrTorn) {
		t.Fatalf("another boot, opened in fsync mode: %v, want ErrTorn (the file is the same)", err)
	}
	aside, err := SetAside(path, "torn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(aside); err != nil {
		t.Fatalf("the torn file was not kept aside: %v", err)
	}
	fresh, err := Open(path, Options{Unsynced: true})
	if err != nil {
		t.Fatalf("a new file after SetAside: %v", err)
	}
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + unsyncedSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a clean Close left the marker: %v", err)
	}
	playBoot(t, "boot-3")
	clean, err := Open(path, Options{Unsynced: true})
	if err != nil {
		t.Fatalf("after a clean close, another boot: %v", err)
	}
	_ = clean.Close()
}

// Where the boot cannot be known, Unsynced is ignored: every commit is
// fsynced and no marker is written.
func TestUnsyncedNeedsABootID(t *testing.T) {
	old := bootID
	bootID = func() (string, bool) { return "", false }
	t.Cleanup(func() { bootID = old })
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	db, err := Open(path, Options{Unsynced: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Unsynced() || db.bolt.NoSync {
		t.Fatal("unsynced without a boot id")
	}
	if _, err := os.Stat(path + unsyncedSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a marker without a boot id: %v", err)
	}
}
