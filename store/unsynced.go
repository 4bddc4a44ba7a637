package store

// Unsynced mode: commits are not fsynced, for a store whose durable copy is
// elsewhere (cluster mode: every change is in the Raft log of a quorum, on
// disk, before it is applied here, and a node that loses its file gets it
// back from a snapshot and the log). Without the fsyncs a commit is written
// to the page cache only. A process that dies — SIGKILL, a panic, the OOM
// killer — loses nothing of it: the kernel writes the cache out. Only a
// machine that stops (power, kernel panic) can leave the file torn, and
// bbolt's two meta pages do not guard against that without fsync.
//
// So Open records, in a marker file next to the database and fsynced, the
// boot it opened the file under, and a clean Close syncs the file and
// removes the marker. A read-write Open that finds a marker of another
// boot refuses the file with ErrTorn: the file may be torn, and the caller
// (cmd: the cluster node) rebuilds it from its source of truth. A marker of
// the same boot is a process that died: the file is whole.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrTorn is Open refusing a file written without fsync under an earlier
// boot of the machine that was not closed cleanly: a crash of the machine
// may have torn it.
var ErrTorn = errors.New("the database was written without fsync (cluster mode) and the machine stopped before it was closed: it may be torn")

// unsyncedSuffix names the marker file: <database>.unsynced.
const unsyncedSuffix = ".unsynced"

// bootID identifies the running boot of the machine; ok is false where it
// cannot be known (the store then syncs every commit). A variable so tests
// can play a reboot.
var bootID = func() (id string, ok bool) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	id = strings.TrimSpace(string(b))
	return id, err == nil && id != ""
}

// SetBootIDForTest replaces how the store learns the boot it runs under,
// for tests that play a machine crash (cmd's process tests).
func SetBootIDForTest(fn func() (string, bool)) { bootID = fn }

// checkUnsynced refuses a file left unsynced by an earlier boot.
func checkUnsynced(path string) error {
	b, err := os.ReadFile(path + unsyncedSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: read its marker %s: %w", path, path+unsyncedSuffix, err)
	}
	if id, ok := bootID(); ok && strings.TrimSpace(string(b)) == id {
		return nil // the process died, not the machine: the page cache had it all
	}
	// In cluster mode the caller rebuilds the file; anyone else reads what
	// to do.
	return fmt.Errorf("open %s: %w; a cluster node rebuilds it from the cluster by itself, otherwise restore it from a backup (or, to use it as it is, check it with 'incidentbot list' and delete %s)",
		path, ErrTorn, path+unsyncedSuffix)
}

// markUnsynced records, durably, that path is written without fsync under
// this boot.
func markUnsynced(path, id string) error {
	f, err := os.OpenFile(path+unsyncedSuffix, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: write its marker: %w", path, err)
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("open %s: write its marker: %w", path, err)
	}
	return nil
}

// clearUnsynced removes the marker once the file is synced and closed.
func clearUnsynced(path string) error {
	if err := os.Remove(path + unsyncedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// SetAside renames a database refused with ErrTorn (and its marker) out of
// the way, so Open starts a new file at path; it returns the new name.
func SetAside(path, suffix string) (string, error) {
	aside := path + "." + suffix
	if err := os.Rename(path, aside); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.Remove(path + unsyncedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return aside, syncDir(filepath.Dir(path))
}
