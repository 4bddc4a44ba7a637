package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// counts reads the counters and checks them, and the live index, against
// the incidents.
func counts(tb testing.TB, db *store.DB) store.Counts {
	tb.Helper()
	var c store.Counts
	mustView(tb, db, func(tx *store.Tx) error {
		if err := tx.CheckIndex(); err != nil {
			return err
		}
		var err error
		c, err = tx.Counts()
		return err
	})
	return c
}

// openIDs lists the incidents OpenIncidents returns.
func openIDs(tb testing.TB, db *store.DB) []int64 {
	tb.Helper()
	var ids []int64
	mustView(tb, db, func(tx *store.Tx) error {
		open, err := tx.OpenIncidents()
		for _, inc := range open {
			ids = append(ids, inc.ID)
		}
		return err
	})
	return ids
}

func wantCounts(tb testing.TB, got store.Counts, open map[incident.Severity]int, escalations int) {
	tb.Helper()
	var want store.Counts
	for s, n := range open {
		want.Open[s] = n
	}
	want.EscalationsPending = escalations
	if got != want {
		tb.Fatalf("counts = %+v; want %+v", got, want)
	}
}

func paging(inc *incident.Incident, n int) {
	for i := 0; i < n; i++ {
		inc.Escalations = append(inc.Escalations, incident.Escalation{ID: len(inc.Escalations) + 1, State: incident.EscalationActive})
	}
}

// Every change PutIncident can see moves the counters and the live index:
// declaring, changing severity, paging and acknowledging, going private,
// resolving (with an escalation still paging, which keeps it counted) and
// reopening.
func TestIndexFollowsIncidents(t *testing.T) {
	db := MustOpenDB(t)
	put := func(inc *incident.Incident) {
		t.Helper()
		mustUpdate(t, db, func(tx *store.Tx) error { return tx.PutIncident(inc) })
	}
	wantCounts(t, counts(t, db), map[incident.Severity]int{}, 0)

	a, b, c := newIncident(1, "C1"), newIncident(2, "C2"), newIncident(3, "C3")
	a.Severity, b.Severity, c.Severity = incident.Sev1, incident.Sev2, incident.Sev2
	put(a)
	put(b)
	put(c)
	wantCounts(t, counts(t, db), map[incident.Severity]int{incident.Sev1: 1, incident.Sev2: 2}, 0)

	put(a) // unchanged
	if _, err := b.SetSeverity(incident.Sev1, incident.User{ID: "U1"}, at(11, 0)); err != nil {
		t.Fatal(err)
	}
	put(b)
	paging(c, 2)
	c.Private = true
	put(c)
	wantCounts(t, counts(t, db), map[incident.Severity]int{incident.Sev1: 2, incident.Sev2: 1}, 2)

	if err := c.Resolve(at(12, 0), "fixed"); err != nil {
		t.Fatal(err)
	}
	put(c) // resolved, but still paging: counted, not listed
	wantCounts(t, counts(t, db), map[incident.Severity]int{incident.Sev1: 2}, 2)
	if got := openIDs(t, db); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("open incidents = %v, want [1 2]", got)
	}
	c.Escalations[0].State = incident.EscalationAcknowledged
	c.Escalations[1].State = incident.EscalationCancelled
	put(c)
	if err := a.Resolve(at(12, 5), "fixed"); err != nil {
		t.Fatal(err)
	}
	put(a)
	wantCounts(t, counts(t, db), map[incident.Severity]int{incident.Sev1: 1}, 0)

	if err := a.Reopen(); err != nil {
		t.Fatal(err)
	}
	put(a)
	wantCounts(t, counts(t, db), map[incident.Severity]int{incident.Sev1: 2}, 0)
	if got := openIDs(t, db); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("open incidents = %v, want [1 2]", got)
	}
}

// A transaction that fails leaves the counters as they were.
func TestIndexRolledBack(t *testing.T) {
	db := MustOpenDB(t)
	putIncidents(t, db, 2)
	before := counts(t, db)
	err := db.Update(func(tx *store.Tx) error {
		inc := newIncident(3, "C3")
		paging(inc, 1)
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if err == nil {
		t.Fatal("want the error")
	}
	if got := counts(t, db); got != before {
		t.Fatalf("counts = %+v after a rollback, want %+v", got, before)
	}
}

// schema2 writes a database as incidentbot wrote it at schema 2, with raw
// bbolt: its buckets, incidents as JSON and their channel index, and no live
// index or counters.
func schema2(tb testing.TB, path string, incs []*incident.Incident) {
	tb.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	err = raw.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "incidents", "channels", "timeline", "seen", "seen_at", "outbox", "deadletter"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for _, inc := range incs {
			data, err := json.Marshal(inc)
			if err != nil {
				return err
			}
			if err := tx.Bucket([]byte("incidents")).Put(bigEndian(uint64(inc.ID)), data); err != nil {
				return err
			}
			if err := tx.Bucket([]byte("channels")).Put([]byte(inc.ChannelID), bigEndian(uint64(inc.ID))); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte("incidents")).SetSequence(uint64(len(incs))); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), bigEndian(2))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// schema2Incidents are 50 incidents: every third open, of each severity,
// some private, some paging (two of them resolved while still paging).
func schema2Incidents() []*incident.Incident {
	var incs []*incident.Incident
	for id := int64(1); id <= 50; id++ {
		inc := newIncident(id, fmt.Sprintf("C%d", id))
		inc.Severity = incident.Severities[id%4]
		inc.Private = id%5 == 0
		if id%3 != 0 {
			_ = inc.Resolve(at(12, 0), "fixed")
		}
		if id%7 == 0 {
			paging(inc, int(id%2)+1)
		}
		incs = append(incs, inc)
	}
	return incs
}

// A file written at schema 2 is migrated on open: the live index and the
// counters are built from its incidents, the schema moves to the current
// version, and from then on the bot's writes keep them right.
func TestMigrateFromSchema2BuildsLiveIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	incs := schema2Incidents()
	schema2(t, path, incs)

	open := map[incident.Severity]int{}
	escalations := 0
	var openIDsWant []int64
	for _, inc := range incs {
		if inc.Open() {
			open[inc.Severity]++
			openIDsWant = append(openIDsWant, inc.ID)
		}
		escalations += len(inc.ActiveEscalations())
	}

	db := mustOpen(t, path)
	wantCounts(t, counts(t, db), open, escalations)
	if got := openIDs(t, db); !slices.Equal(got, openIDsWant) {
		t.Fatalf("open incidents = %v, want %v", got, openIDsWant)
	}
	mustUpdate(t, db, func(tx *store.Tx) error {
		inc, err := tx.Incident(3)
		if err != nil {
			return err
		}
		if err := inc.Resolve(at(13, 0), "fixed"); err != nil {
			return err
		}
		return tx.PutIncident(inc)
	})
	open[incs[2].Severity]--
	wantCounts(t, counts(t, db), open, escalations)
	MustCloseDB(t, db)
	if got := schemaVersion(t, path); got != store.SchemaVersion {
		t.Fatalf("schema version after open = %d, want %d", got, store.SchemaVersion)
	}
}

// A schema 2 file opened read-only (list, export of an old backup) is not
// migrated; Counts and OpenIncidents read the incidents instead.
func TestReadOnlySchema2Counts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "incidentbot.db")
	incs := schema2Incidents()
	schema2(t, path, incs)
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var c store.Counts
	mustView(t, db, func(tx *store.Tx) error {
		c, err = tx.Counts()
		return err
	})
	if c.EscalationsPending == 0 || c.Open == [len(c.Open)]int{} {
		t.Fatalf("counts = %+v", c)
	}
	if n := len(openIDs(t, db)); n != 16 {
		t.Fatalf("%d open incidents, want 16", n)
	}
	MustCloseDB(t, db)
	if got := schemaVersion(t, path); got != 2 {
		t.Fatalf("a read-only open changed the schema to %d", got)
	}
}
