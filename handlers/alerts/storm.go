package alerts

import (
	"fmt"
	"strconv"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// The storm guard: when a route takes more than StormLimit new alert groups
// in a minute (a network partition, a bad deploy: everything fires), the
// rest are gathered into one storm alert with one message and one page,
// never one page each. Gathered alerts are still recorded, so their
// repeats and resolutions are understood; the storm alert resolves when
// every alert it gathered has, or by hand.

// gather puts a into the route's open storm alert, opening one (posted and
// paged once) if there is none.
func (m *Module) gather(r *handlers.Request, route *incident.AlertRoute, w *incident.AlertWindow, a *incident.AlertRecord) error {
	var storm *incident.AlertRecord
	if w.Storm != 0 {
		s, err := r.Tx.Alert(w.Storm)
		if err != nil {
			return err
		}
		if s.Open() {
			storm = s
		}
	}
	fresh := storm == nil
	if fresh {
		id, err := r.Tx.NextAlertID()
		if err != nil {
			return err
		}
		key := "storm-" + strconv.FormatInt(id, 10)
		storm = &incident.AlertRecord{
			ID: id, Route: route.Name, Key: incident.AlertKey(route.Name, incident.SourceStorm, key), Severity: a.Severity,
			Status: incident.AlertFiring, Received: r.Now, Updated: r.Now, Notifications: 1, Channel: route.Channel,
			Group: incident.AlertGroup{
				Source: incident.SourceStorm, Key: key, Status: incident.AlertFiring,
				Title: fmt.Sprintf("Alert storm on route %s: more than %d new alert groups in a minute", route.Name, m.cfg.StormLimit),
			},
		}
		w.Storm = id
	}
	a.Storm = storm.ID
	if err := r.Tx.PutAlert(a); err != nil {
		return err
	}
	if err := r.Tx.CountAlert(store.CountAlertsSuppressed, 1); err != nil {
		return err
	}
	storm.Gathered = append(storm.Gathered, a.ID)
	storm.Updated = r.Now
	if a.Severity.Valid() && a.Severity < storm.Severity {
		storm.Severity = a.Severity // the storm is as severe as its worst alert
	}
	if !fresh {
		return m.save(r, storm)
	}
	if err := m.post(r, storm); err != nil {
		return err
	}
	return m.startPaging(r, route, storm, "Alert storm: many alerts at once; paging once for all of them")
}

// resolveGathered resolves, with their storm alert, the alerts it gathered.
func (m *Module) resolveGathered(r *handlers.Request, storm *incident.AlertRecord, by incident.User) error {
	for _, id := range storm.Gathered {
		a, err := r.Tx.Alert(id)
		if err != nil {
			return err
		}
		if a.Resolve(by, r.Now) {
			if err := r.Tx.CountAlert(store.CountAlertsResolved, 1); err != nil {
				return err
			}
			if err := r.Tx.PutAlert(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// stormMemberResolved resolves a storm alert once every alert it gathered
// has resolved.
func (m *Module) stormMemberResolved(r *handlers.Request, stormID int64) error {
	storm, err := r.Tx.Alert(stormID)
	if err != nil || !storm.Open() {
		return err
	}
	for _, id := range storm.Gathered {
		a, err := r.Tx.Alert(id)
		if err != nil {
			return err
		}
		if a.Open() {
			return nil
		}
	}
	return m.resolve(r, storm, incident.User{})
}
