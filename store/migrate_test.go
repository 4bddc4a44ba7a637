package store_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// A schema 1 file whose indexes went stale (here: emptied by hand) is
// upgraded on open: the schema version moves to the current one and the
// channel and captured-message indexes are rebuilt from the records, so
// lookups that users rely on (commands in the incident channel, a second
// pin of the same message) work again.
func TestMigrateFromSchema1RebuildsIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	db := mustOpen(t, path)
	now := time.Date(2023, 8, 17, 10, 48, 0, 0, time.UTC)
	err := db.Update(func(tx *store.Tx) error {
		inc := incident.New(1, incident.Declaration{Title: "KV outage", Severity: incident.Sev2,
			By: incident.User{ID: "U1"}, At: now})
		inc.ChannelID = "C0INC1"
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		return tx.AppendEntry(1, &incident.Entry{At: now, Kind: incident.KindMessage, Text: "stale KV in FRA",
			Source: "C0INC1/1692269400.000100", RecordedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	MustCloseDB(t, db)

	// Make it a schema 1 file with empty indexes.
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("channels")); err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte("channels")); err != nil {
			return err
		}
		tl := tx.Bucket([]byte("timeline")).Bucket(bigEndian(1))
		if err := tl.DeleteBucket([]byte("sources")); err != nil {
			return err
		}
		if _, err := tl.CreateBucket([]byte("sources")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), bigEndian(1))
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, path)
	err = db.View(func(tx *store.Tx) error {
		inc, err := tx.IncidentByChannel("C0INC1")
		if err != nil {
			return errors.Join(errors.New("the channel index was not rebuilt"), err)
		}
		if inc.ID != 1 {
			t.Errorf("channel C0INC1 → incident %d, want 1", inc.ID)
		}
		e, err := tx.EntryBySource(1, "C0INC1/1692269400.000100")
		if err != nil {
			return errors.Join(errors.New("the captured-message index was not rebuilt"), err)
		}
		if e.Text != "stale KV in FRA" {
			t.Errorf("entry text = %q", e.Text)
		}
		return tx.CheckIndex()
	})
	MustCloseDB(t, db)
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaVersion(t, path); got != store.SchemaVersion {
		t.Fatalf("schema version after open = %d, want %d", got, store.SchemaVersion)
	}
}
