package store_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

func appendEntries(tb testing.TB, db *store.DB, id int64, entries ...*incident.Entry) {
	tb.Helper()
	mustUpdate(tb, db, func(tx *store.Tx) error {
		for _, e := range entries {
			if err := tx.AppendEntry(id, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func timeline(tb testing.TB, db *store.DB, id int64) []incident.Entry {
	tb.Helper()
	var out []incident.Entry
	mustView(tb, db, func(tx *store.Tx) error {
		var err error
		out, err = tx.Timeline(id)
		return err
	})
	return out
}

func seqs(entries []incident.Entry) []uint64 {
	var out []uint64
	for _, e := range entries {
		out = append(out, e.Seq)
	}
	return out
}

func TestAppendEntrySeq(t *testing.T) {
	db := MustOpenDB(t)
	a, b := &incident.Entry{At: at(10, 0), Text: "a"}, &incident.Entry{At: at(10, 1), Text: "b"}
	appendEntries(t, db, 1, a, b)
	c := &incident.Entry{At: at(10, 2), Text: "c"}
	appendEntries(t, db, 1, c)
	if a.Seq == 0 || !(a.Seq < b.Seq && b.Seq < c.Seq) {
		t.Errorf("Seqs %d, %d, %d are not increasing from 1", a.Seq, b.Seq, c.Seq)
	}
	// Another incident's timeline has its own numbering.
	other := &incident.Entry{At: at(10, 3), Text: "other"}
	appendEntries(t, db, 2, other)
	if other.Seq != 1 {
		t.Errorf("first entry of another incident has Seq %d, want 1", other.Seq)
	}
	if got := timeline(t, db, 1); len(got) != 3 {
		t.Errorf("incident 1 has %d entries, want 3", len(got))
	}
}

func TestTimelineSorted(t *testing.T) {
	db := MustOpenDB(t)
	appendEntries(t, db, 1,
		&incident.Entry{At: at(10, 0), Text: "declared"},
		&incident.Entry{At: at(10, 20), Text: "mitigated"},
		&incident.Entry{At: at(10, 10), Text: "backdated note"},
		&incident.Entry{At: at(10, 0), Text: "same time, recorded later"},
	)
	var texts []string
	for _, e := range timeline(t, db, 1) {
		texts = append(texts, e.Text)
	}
	want := []string{"declared", "same time, recorded later", "backdated note", "mitigated"}
	if !reflect.DeepEqual(texts, want) {
		t.Errorf("Timeline order %q, want %q", texts, want)
	}
	if got := timeline(t, db, 42); len(got) != 0 {
		t.Errorf("an incident without entries has timeline %v", got)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	db := MustOpenDB(t)
	e := &incident.Entry{At: at(10, 5), Kind: incident.KindMessage, Author: incident.User{ID: "U1", Name: "ana"},
		Text: "5xx &lt; 1%", Link: "https://x.example/p1", Files: []incident.Link{{Title: "a.png", URL: "https://x.example/a.png"}},
		Source: "C1/1692266700.000100", PinnedBy: []string{"U1:pushpin"}, RecordedAt: at(10, 6)}
	appendEntries(t, db, 1, e)
	got := timeline(t, db, 1)
	if len(got) != 1 || !reflect.DeepEqual(got[0], *e) {
		t.Errorf("Timeline = %+v\nwant [%+v]", got, *e)
	}
}

func TestEntryBySource(t *testing.T) {
	db := MustOpenDB(t)
	pinned := &incident.Entry{At: at(10, 5), Text: "pinned", Source: "C1/1.000100"}
	appendEntries(t, db, 1, &incident.Entry{At: at(10, 0), Text: "note"}, pinned)

	mustView(t, db, func(tx *store.Tx) error {
		got, err := tx.EntryBySource(1, "C1/1.000100")
		if err != nil || got.Seq != pinned.Seq || got.Text != "pinned" {
			t.Errorf("EntryBySource = %+v, %v; want the pinned entry", got, err)
		}
		if _, err := tx.EntryBySource(2, "C1/1.000100"); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("EntryBySource of another incident = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func TestPutEntry(t *testing.T) {
	db := MustOpenDB(t)
	e := &incident.Entry{At: at(10, 5), Text: "first text", Source: "C1/1.000100"}
	appendEntries(t, db, 1, e)

	e.Edit(at(10, 7), "edited text")
	e.Pin("U2:pushpin")
	mustUpdate(t, db, func(tx *store.Tx) error { return tx.PutEntry(1, e) })
	mustView(t, db, func(tx *store.Tx) error {
		got, err := tx.EntryBySource(1, e.Source)
		if err != nil || got.Text != "edited text" || len(got.History) != 1 || len(got.PinnedBy) != 1 {
			t.Errorf("after PutEntry: %+v, %v", got, err)
		}
		return nil
	})
	if n := len(timeline(t, db, 1)); n != 1 {
		t.Errorf("PutEntry added an entry: %d entries", n)
	}

	tests := []struct {
		name string
		id   int64
		seq  uint64
	}{
		{"unknown seq", 1, 99},
		{"zero seq", 1, 0},
		{"incident without a timeline", 7, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Update(func(tx *store.Tx) error {
				return tx.PutEntry(tc.id, &incident.Entry{Seq: tc.seq, Text: "x"})
			})
			if !errors.Is(err, incident.ErrNotFound) {
				t.Errorf("PutEntry(%d, seq %d) = %v, want ErrNotFound", tc.id, tc.seq, err)
			}
		})
	}
	if got := timeline(t, db, 7); len(got) != 0 {
		t.Errorf("a refused PutEntry created entries: %+v", got)
	}
}

func TestDeleteEntry(t *testing.T) {
	db := MustOpenDB(t)
	keep := &incident.Entry{At: at(10, 0), Text: "keep", Source: "C1/1.1"}
	gone := &incident.Entry{At: at(10, 1), Text: "gone", Source: "C1/2.2"}
	appendEntries(t, db, 1, keep, gone)

	mustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteEntry(1, gone) })
	mustView(t, db, func(tx *store.Tx) error {
		if _, err := tx.EntryBySource(1, gone.Source); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("the deleted entry's source still finds something: %v", err)
		}
		if got, err := tx.EntryBySource(1, keep.Source); err != nil || got.Seq != keep.Seq {
			t.Errorf("the other entry's source: %+v, %v", got, err)
		}
		return nil
	})
	if got := seqs(timeline(t, db, 1)); !reflect.DeepEqual(got, []uint64{keep.Seq}) {
		t.Errorf("after DeleteEntry the timeline holds %v, want [%d]", got, keep.Seq)
	}
	// Deleting again, or from an incident without a timeline, is harmless.
	mustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteEntry(1, gone) })
	mustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteEntry(9, gone) })

	// A new entry never reuses a deleted entry's Seq.
	next := &incident.Entry{At: at(10, 2), Text: "next"}
	appendEntries(t, db, 1, next)
	if next.Seq <= gone.Seq {
		t.Errorf("new entry got Seq %d, after deleted %d", next.Seq, gone.Seq)
	}
}

func TestEachEntryInRecordedOrder(t *testing.T) {
	db := MustOpenDB(t)
	appendEntries(t, db, 1, &incident.Entry{At: at(11, 0)}, &incident.Entry{At: at(10, 0)}, &incident.Entry{At: at(10, 30)})
	var got []uint64
	mustView(t, db, func(tx *store.Tx) error {
		return tx.EachEntry(1, func(e *incident.Entry) error { got = append(got, e.Seq); return nil })
	})
	if !reflect.DeepEqual(got, []uint64{1, 2, 3}) {
		t.Errorf("EachEntry order %v, want [1 2 3]", got)
	}
}
