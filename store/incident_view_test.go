package store

import (
	"errors"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// IncidentView decodes an incident once per transaction and serves the
// same value while its stored bytes are unchanged; a write in the same
// transaction is seen at once.
func TestIncidentViewFollowsWrites(t *testing.T) {
	db := openTestDB(t)
	inc := incident.New(1, incident.Declaration{Title: "checkout", Severity: 2, By: incident.User{ID: "U1"}, At: t0})
	inc.ChannelID = "C1"
	update(t, db, func(tx *Tx) error { return tx.PutIncident(inc) })
	update(t, db, func(tx *Tx) error {
		a, err := tx.IncidentView("C1")
		if err != nil {
			return err
		}
		b, _ := tx.IncidentView("C1")
		if a != b {
			t.Error("the same bytes were decoded twice in one transaction")
		}
		changed := *a
		changed.Title = "checkout, renamed"
		if err := tx.PutIncident(&changed); err != nil {
			return err
		}
		c, _ := tx.IncidentView("C1")
		if c.Title != "checkout, renamed" || a.Title != "checkout" {
			t.Errorf("after a write: view %q, earlier view %q", c.Title, a.Title)
		}
		if _, err := tx.IncidentView("C2"); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("unknown channel: %v", err)
		}
		return nil
	})
}
