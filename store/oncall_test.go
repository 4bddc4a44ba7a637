package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// TestOverridesAndHandoffs: overrides get ids in order, are listed by
// schedule (case-insensitively) and by end, can be removed once; the last
// handoff of a schedule survives a reopen.
func TestOverridesAndHandoffs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)
	err = db.Update(func(tx *store.Tx) error {
		for i, o := range []incident.Override{
			{Schedule: "platform-primary", Who: "U01ANA0001", From: at, To: at.Add(4 * time.Hour)},
			{Schedule: "vendor", Who: "U02BOB0002", From: at, To: at.Add(time.Hour)},
			{Schedule: "Platform-Primary", Who: "U03CAROL03", From: at.Add(-48 * time.Hour), To: at.Add(-24 * time.Hour)},
		} {
			if err := tx.AddOverride(&o); err != nil || o.ID != i+1 {
				t.Fatalf("AddOverride %d: id %d, %v", i, o.ID, err)
			}
		}
		return tx.SetHandoff("platform-primary", store.Handoff{Who: "U01ANA0001", Start: at})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *store.Tx) error {
		all, _ := tx.Overrides("platform-primary", time.Time{})
		current, _ := tx.Overrides("PLATFORM-PRIMARY", at)
		if len(all) != 2 || len(current) != 1 || current[0].ID != 1 {
			t.Errorf("overrides: all %+v, current %+v", all, current)
		}
		return nil
	})
	_ = db.Update(func(tx *store.Tx) error {
		if ok, err := tx.RemoveOverride(1); !ok || err != nil {
			t.Errorf("RemoveOverride(1) = %v, %v", ok, err)
		}
		if ok, _ := tx.RemoveOverride(1); ok {
			t.Errorf("override 1 removed twice")
		}
		return nil
	})
	_ = db.Close()
	db, err = store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *store.Tx) error {
		h, ok, err := tx.LastHandoff("Platform-Primary")
		if !ok || err != nil || h.Who != "U01ANA0001" || !h.Start.Equal(at) {
			t.Errorf("LastHandoff = %+v, %v, %v", h, ok, err)
		}
		if _, err := tx.Override(1); err == nil {
			t.Errorf("a removed override is still there")
		}
		return nil
	})
}
