package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

var errRollback = errors.New("roll back")

func at(hh, mm int) time.Time { return time.Date(2023, 8, 17, hh, mm, 0, 0, time.UTC) }

// newIncident returns a fully populated incident, so a round trip checks
// every field.
func newIncident(id int64, channel string) *incident.Incident {
	ana := incident.User{ID: "U1", Name: "ana"}
	inc := incident.New(id, incident.Declaration{
		Title: fmt.Sprintf("Incident %d", id), Description: "Checkout &amp; payments", Severity: incident.Sev2,
		Private: true, Services: []string{"checkout"}, By: ana, At: at(10, 22),
	})
	inc.ChannelID, inc.ChannelName, inc.SummaryTS = channel, incident.ChannelName(id, inc.Title, 1), "1692267720.000100"
	inc.Roles[incident.RoleComms] = incident.User{ID: "U2", Name: "bo"}
	inc.Times.Started, inc.Times.Detected = at(10, 5), at(10, 18)
	inc.ResolutionNote = "note"
	return inc
}

// putIncidents allocates and stores n incidents in one transaction.
func putIncidents(tb testing.TB, db *store.DB, n int) []*incident.Incident {
	tb.Helper()
	var out []*incident.Incident
	mustUpdate(tb, db, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			id, err := tx.NextIncidentID()
			if err != nil {
				return err
			}
			inc := newIncident(id, fmt.Sprintf("C%07d", id))
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			out = append(out, inc)
		}
		return nil
	})
	return out
}

func incidentTitles(tb testing.TB, db *store.DB) []string {
	tb.Helper()
	var titles []string
	mustView(tb, db, func(tx *store.Tx) error {
		return tx.EachIncident(func(inc *incident.Incident) error {
			titles = append(titles, inc.Title)
			return nil
		})
	})
	return titles
}

func nextID(tb testing.TB, db *store.DB, commit bool) int64 {
	tb.Helper()
	var id int64
	err := db.Update(func(tx *store.Tx) error {
		var err error
		if id, err = tx.NextIncidentID(); err != nil {
			return err
		}
		if !commit {
			return errRollback
		}
		return nil
	})
	if err != nil && !errors.Is(err, errRollback) {
		tb.Fatal(err)
	}
	return id
}

// TestNextIncidentID checks numbers start at 1, follow each other, and a
// committed number is never handed out again, also after a rolled-back
// allocation and after reopening the file.
func TestNextIncidentID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	db := mustOpen(t, path)
	committed := map[int64]bool{}
	last := int64(0)
	steps := []struct {
		name   string
		commit bool
	}{
		{"first", true}, {"second", true}, {"rolled back", false}, {"after a rollback", true}, {"another", true},
	}
	for _, s := range steps {
		id := nextID(t, db, s.commit)
		if committed[id] {
			t.Errorf("%s: %d was already used by a committed incident", s.name, id)
		}
		if s.commit {
			if id <= last {
				t.Errorf("%s: %d does not follow %d", s.name, id, last)
			}
			committed[id], last = true, id
		}
	}
	if !committed[1] || !committed[2] {
		t.Errorf("numbers do not start at 1, 2: %v", committed)
	}
	MustCloseDB(t, db)

	db = mustOpen(t, path)
	defer MustCloseDB(t, db)
	if id := nextID(t, db, true); id != last+1 {
		t.Errorf("after reopening, next number is %d, want %d", id, last+1)
	}

	var ids []int64
	mustUpdate(t, db, func(tx *store.Tx) error {
		for i := 0; i < 3; i++ {
			id, err := tx.NextIncidentID()
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if want := []int64{last + 2, last + 3, last + 4}; !reflect.DeepEqual(ids, want) {
		t.Errorf("three numbers in one transaction: %v, want %v", ids, want)
	}
}

func TestIncidentRoundTrip(t *testing.T) {
	db := MustOpenDB(t)
	want := putIncidents(t, db, 3)

	mustView(t, db, func(tx *store.Tx) error {
		for _, w := range want {
			got, err := tx.Incident(w.ID)
			if err != nil {
				t.Errorf("Incident(%d): %v", w.ID, err)
				continue
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("Incident(%d) = %+v\nwant %+v", w.ID, got, w)
			}
			byChannel, err := tx.IncidentByChannel(w.ChannelID)
			if err != nil || byChannel.ID != w.ID {
				t.Errorf("IncidentByChannel(%s) = %v, %v; want %s", w.ChannelID, byChannel, err, w.Ref())
			}
		}
		all, err := tx.Incidents()
		if err != nil || !reflect.DeepEqual(all, want) {
			t.Errorf("Incidents() = %v, %v; want the three, in number order", all, err)
		}
		return nil
	})
}

func TestPutIncidentOverwrites(t *testing.T) {
	db := MustOpenDB(t)
	inc := putIncidents(t, db, 1)[0]
	inc.Status = incident.Monitoring
	inc.Severity = incident.Sev1
	mustUpdate(t, db, func(tx *store.Tx) error { return tx.PutIncident(inc) })
	mustView(t, db, func(tx *store.Tx) error {
		got, err := tx.Incident(inc.ID)
		if err != nil || got.Status != incident.Monitoring || got.Severity != incident.Sev1 {
			t.Errorf("after an update, Incident = %+v, %v", got, err)
		}
		if all, _ := tx.Incidents(); len(all) != 1 {
			t.Errorf("an update added an incident: %d incidents", len(all))
		}
		return nil
	})
}

func TestIncidentNotFound(t *testing.T) {
	db := MustOpenDB(t)
	putIncidents(t, db, 1)
	tests := []struct {
		name string
		get  func(tx *store.Tx) error
	}{
		{"by number", func(tx *store.Tx) error { _, err := tx.Incident(99); return err }},
		{"by channel", func(tx *store.Tx) error { _, err := tx.IncidentByChannel("CNOPE"); return err }},
		{"entry by source", func(tx *store.Tx) error { _, err := tx.EntryBySource(1, "C1/1.2"); return err }},
		{"entry by source, no timeline", func(tx *store.Tx) error { _, err := tx.EntryBySource(99, "C1/1.2"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.View(tc.get)
			if !errors.Is(err, incident.ErrNotFound) {
				t.Errorf("got %v, want an error matching incident.ErrNotFound", err)
			}
		})
	}
}

func TestPutIncidentRefusesBadID(t *testing.T) {
	db := MustOpenDB(t)
	for _, id := range []int64{0, -1} {
		err := db.Update(func(tx *store.Tx) error { return tx.PutIncident(&incident.Incident{ID: id}) })
		if !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("PutIncident(id %d) = %v, want ErrInvalidInput", id, err)
		}
	}
}

func TestEachIncidentStops(t *testing.T) {
	db := MustOpenDB(t)
	putIncidents(t, db, 5)
	stop := errors.New("stop")
	var seen []int64
	err := db.View(func(tx *store.Tx) error {
		return tx.EachIncident(func(inc *incident.Incident) error {
			seen = append(seen, inc.ID)
			if len(seen) == 2 {
				return stop
			}
			return nil
		})
	})
	if !errors.Is(err, stop) || !reflect.DeepEqual(seen, []int64{1, 2}) {
		t.Errorf("EachIncident = %v after %v, want it to stop after 1, 2", err, seen)
	}
}

func TestIncidentRolledBack(t *testing.T) {
	db := MustOpenDB(t)
	err := db.Update(func(tx *store.Tx) error {
		if err := tx.PutIncident(newIncident(1, "C1")); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if err := db.View(func(tx *store.Tx) error { _, err := tx.IncidentByChannel("C1"); return err }); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("a rolled-back incident is there: %v", err)
	}
}

func TestMarkSeen(t *testing.T) {
	db := MustOpenDB(t)
	steps := []struct {
		key  string
		want bool
	}{{"Ev1", true}, {"Ev1", false}, {"Ev2", true}, {"Ev1", false}, {"Ev2", false}}
	for _, s := range steps {
		var isNew bool
		mustUpdate(t, db, func(tx *store.Tx) error {
			var err error
			isNew, err = tx.MarkSeen(s.key, at(10, 0))
			return err
		})
		if isNew != s.want {
			t.Errorf("MarkSeen(%s) = %v, want %v", s.key, isNew, s.want)
		}
	}
	mustView(t, db, func(tx *store.Tx) error {
		if n := tx.SeenCount(); n != 2 {
			t.Errorf("SeenCount() = %d, want 2", n)
		}
		return nil
	})
}

func TestExpireSeen(t *testing.T) {
	keys := map[string]time.Time{"a": at(9, 0), "b": at(9, 30), "c": at(10, 0), "d": at(10, 30), "e": at(11, 0)}
	tests := []struct {
		name   string
		cutoff time.Time
		gone   int
		kept   []string
	}{
		{"before all", at(8, 0), 0, []string{"a", "b", "c", "d", "e"}},
		{"exactly at a key is not older", at(10, 0), 2, []string{"c", "d", "e"}},
		{"between keys", at(10, 15), 3, []string{"d", "e"}},
		{"after all", at(12, 0), 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			mustUpdate(t, db, func(tx *store.Tx) error {
				for k, when := range keys {
					if _, err := tx.MarkSeen(k, when); err != nil {
						return err
					}
				}
				return nil
			})
			var n int
			mustUpdate(t, db, func(tx *store.Tx) error {
				var err error
				n, err = tx.ExpireSeen(tc.cutoff)
				return err
			})
			if n != tc.gone {
				t.Errorf("ExpireSeen(%v) = %d, want %d", tc.cutoff, n, tc.gone)
			}
			err := db.Update(func(tx *store.Tx) error {
				if got := tx.SeenCount(); got != len(tc.kept) {
					t.Errorf("SeenCount() = %d, want %d", got, len(tc.kept))
				}
				for _, k := range tc.kept {
					if isNew, err := tx.MarkSeen(k, at(12, 0)); err != nil || isNew {
						t.Errorf("key %s was forgotten (MarkSeen = %v, %v)", k, isNew, err)
					}
				}
				return errRollback // leave the keys as they were
			})
			if !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
		})
	}
}

func TestDeadLetters(t *testing.T) {
	db := MustOpenDB(t)
	mustView(t, db, func(tx *store.Tx) error {
		if got, err := tx.DeadLetters(); err != nil || len(got) != 0 {
			t.Errorf("DeadLetters() of a new database = %v, %v", got, err)
		}
		return nil
	})
	want := []store.DeadLetter{
		{Type: "events_api", Envelope: "env-1", Payload: []byte(`{"a":1}`), Error: "decode: boom", At: at(10, 0)},
		{Type: "slash_commands", Envelope: "env-2", Payload: []byte(`{"b":2}`), Error: "apply: boom", At: at(10, 1)},
	}
	for _, d := range want {
		mustUpdate(t, db, func(tx *store.Tx) error { return tx.PutDeadLetter(d) })
	}
	mustView(t, db, func(tx *store.Tx) error {
		got, err := tx.DeadLetters()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DeadLetters() = %+v, %v\nwant %+v, oldest first", got, err, want)
		}
		return nil
	})
}
