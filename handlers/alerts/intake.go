package alerts

import (
	"errors"
	"fmt"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// What became of a notification, in the receiver's answer and its log.
const (
	tookNew      = "new"      // a new alert: posted, and paging unless quiet
	tookUpdated  = "updated"  // merged into its open alert: a repeat, or alerts joining
	tookResolved = "resolved" // its alert resolved
	tookStorm    = "storm"    // a new alert gathered into its route's storm alert
	tookIgnored  = "ignored"  // a resolution of an alert not open (already resolved, or never seen)
	tookIncident = "incident" // a refiring of a resolved alert whose incident is open: on its timeline
)

// taken is the receiver's answer for one notification.
type taken struct {
	Result string `json:"result"`
	Alert  string `json:"alert,omitempty"`
	Route  string `json:"route"`
}

// pickRoute is the first of the token's routes whose matchers take the
// labels. When none does, the first of them takes the alert unrouted: it is
// posted there but pages nobody, so an alert nobody routed is still seen.
func (m *Module) pickRoute(names []string, labels map[string]string) (route *incident.AlertRoute, unrouted bool) {
	var first *incident.AlertRoute
	for _, n := range names {
		r, ok := m.route(n)
		if !ok {
			continue
		}
		if first == nil {
			first = r
		}
		if r.Matches(labels) {
			return r, false
		}
	}
	return first, true
}

// take commits one notification of an alert group to route, in r's
// transaction: a new alert, an update of the open one, or its resolution.
func (m *Module) take(r *handlers.Request, route *incident.AlertRoute, unrouted bool, g *incident.AlertGroup) (taken, error) {
	out := taken{Route: route.Name}
	if err := r.Tx.CountAlert(store.CountAlertsReceived, 1); err != nil {
		return out, err
	}
	key := incident.AlertKey(route.Name, g.Source, g.Key)
	a, err := r.Tx.AlertByKey(key)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		a = nil
	case err != nil:
		return out, err
	}
	if a != nil {
		out.Alert = a.Ref()
	}
	switch {
	case a != nil && a.Open():
		out.Result, err = m.update(r, a, g)
	case a != nil && a.Incident != 0 && g.Status == incident.AlertFiring:
		out.Result, err = m.refire(r, route, a, g)
	case g.Status == incident.AlertResolved:
		out.Result = tookIgnored
	default:
		a, out.Result, err = m.open(r, route, unrouted, key, g)
		if a != nil {
			out.Alert = a.Ref()
		}
	}
	return out, err
}

// open records a new alert: posted with its buttons and paging its route
// (after the route's quiet period), or gathered into the route's storm
// alert when the route has taken too many new alerts this minute.
func (m *Module) open(r *handlers.Request, route *incident.AlertRoute, unrouted bool, key string, g *incident.AlertGroup) (*incident.AlertRecord, string, error) {
	id, err := r.Tx.NextAlertID()
	if err != nil {
		return nil, "", err
	}
	a := &incident.AlertRecord{
		ID: id, Route: route.Name, Key: key, Group: *g, Severity: groupSeverity(route, g), Status: incident.AlertFiring,
		Unrouted: unrouted, Received: r.Now, Updated: r.Now, Notifications: 1, Channel: route.Channel,
	}
	if err := r.Tx.CountAlert(store.CountAlertsNew, 1); err != nil {
		return nil, "", err
	}
	w, err := r.Tx.AlertWindow(route.Name)
	if err != nil {
		return nil, "", err
	}
	over := w.Admit(r.Now, m.cfg.StormLimit)
	if over && !unrouted {
		if err := m.gather(r, route, &w, a); err != nil {
			return nil, "", err
		}
		return a, tookStorm, r.Tx.PutAlertWindow(route.Name, w)
	}
	if err := r.Tx.PutAlertWindow(route.Name, w); err != nil {
		return nil, "", err
	}
	if err := m.post(r, a); err != nil {
		return nil, "", err
	}
	if !unrouted && route.AutoDeclare(a.Severity) {
		if err := m.declare(r, a, incident.User{Name: "alert route " + route.Name}); err != nil {
			return nil, "", err
		}
	}
	if err := m.startPaging(r, route, a, ""); err != nil {
		return nil, "", err
	}
	return a, tookNew, nil
}

// post writes a new alert and enqueues its message.
func (m *Module) post(r *handlers.Request, a *incident.AlertRecord) error {
	if err := r.Tx.PutAlert(a); err != nil {
		return err
	}
	return r.EnqueueThrottled(bot.AlertLane(a.ID), jobAlertPost, alertJob{Alert: a.ID})
}

// startPaging pages the route's target for a, now or after the route's
// quiet period. An unrouted alert, or a route without page:, pages nobody.
func (m *Module) startPaging(r *handlers.Request, route *incident.AlertRoute, a *incident.AlertRecord, message string) error {
	if a.Unrouted || route.Page == "" || m.cfg.Pager == nil {
		return nil
	}
	if route.Quiet > 0 && a.PageAt.IsZero() {
		a.PageAt = r.Now.Add(route.Quiet)
		if err := r.Tx.PutAlert(a); err != nil {
			return err
		}
		return r.EnqueueAt(bot.AlertTimerLane(a.ID), jobAlertQuiet, alertJob{Alert: a.ID}, a.PageAt)
	}
	return m.cfg.Pager.PageAlert(r, a, route.Page, message)
}

// update merges a later notification into its open alert: a repeat changes
// nothing but the count, alerts joining are added, a resolution resolves.
// Nobody is paged again.
func (m *Module) update(r *handlers.Request, a *incident.AlertRecord, g *incident.AlertGroup) (string, error) {
	known := make(map[string]bool, len(a.Group.Alerts))
	for _, x := range a.Group.Alerts {
		known[x.Fingerprint] = true
	}
	joined := 0
	for _, x := range g.Alerts {
		if !known[x.Fingerprint] {
			joined++
		}
	}
	a.Group.Merge(g)
	a.Updated = r.Now
	a.Notifications++
	if s := groupSeverity(route0(m, a), &a.Group); s.Valid() && s < a.Severity {
		a.Severity = s // a worse alert joined
	}
	if a.Group.Status == incident.AlertResolved {
		return tookResolved, m.resolve(r, a, incident.User{})
	}
	if joined > 0 {
		if err := m.onIncident(r, a, "alert_joined", fmt.Sprintf("%d more alert%s joined %s: %s", joined, plural(joined), a.Ref(), a.Title())); err != nil {
			return "", err
		}
	}
	return tookUpdated, m.save(r, a)
}

// refire takes a new firing of a resolved alert whose incident is still
// open: it goes on the incident's timeline and the alert is open again,
// paging nobody (the incident is being worked). Once the incident is
// resolved, a refiring is a new alert.
func (m *Module) refire(r *handlers.Request, route *incident.AlertRoute, a *incident.AlertRecord, g *incident.AlertGroup) (string, error) {
	inc, err := r.Tx.Incident(a.Incident)
	if err != nil {
		return "", err
	}
	if !inc.Open() {
		_, result, err := m.open(r, route, a.Unrouted, a.Key, g)
		return result, err
	}
	a.Group.Merge(g)
	a.Status, a.Resolved, a.ResolvedBy = incident.AlertFiring, time.Time{}, incident.User{}
	a.Updated = r.Now
	a.Notifications++
	if err := m.onIncident(r, a, "alert_refired", fmt.Sprintf("%s fires again: %s", a.Ref(), a.Title())); err != nil {
		return "", err
	}
	return tookIncident, m.save(r, a)
}

// resolve resolves an alert (by its source when by is empty): paging
// stops, providers are told, its storm alert resolves once all it
// gathered have, and its incident's timeline says so.
func (m *Module) resolve(r *handlers.Request, a *incident.AlertRecord, by incident.User) error {
	if !a.Resolve(by, r.Now) {
		return m.save(r, a)
	}
	if err := r.Tx.CountAlert(store.CountAlertsResolved, 1); err != nil {
		return err
	}
	if m.cfg.Pager != nil && len(a.Escalations) > 0 {
		if err := m.cfg.Pager.StopAlert(r, a); err != nil {
			return err
		}
	}
	who := "by its source"
	if by.ID != "" {
		who = "by " + handlers.Mention(by)
	}
	if err := m.onIncident(r, a, "alert_resolved", fmt.Sprintf("%s resolved %s: %s", a.Ref(), who, a.Title())); err != nil {
		return err
	}
	if err := m.save(r, a); err != nil {
		return err
	}
	if a.IsStorm() {
		return m.resolveGathered(r, a, by)
	}
	if a.Storm != 0 {
		return m.stormMemberResolved(r, a.Storm)
	}
	return nil
}

// onIncident notes an alert's change on the timeline of the incident
// declared from it, while that incident is open.
func (m *Module) onIncident(r *handlers.Request, a *incident.AlertRecord, event, text string) error {
	if a.Incident == 0 {
		return nil
	}
	inc, err := r.Tx.Incident(a.Incident)
	if err != nil || !inc.Open() {
		return err
	}
	return r.TimelineEvent(inc, event, text)
}

// save writes an alert and redraws what shows it.
func (m *Module) save(r *handlers.Request, a *incident.AlertRecord) error {
	if err := r.Tx.PutAlert(a); err != nil {
		return err
	}
	return m.changed(r, a)
}

// changed is the AlertChanged hook: the alert (written by the caller) is
// redrawn by a job that draws it as it is then. Its version goes up, so of
// several redraws asked for in a burst only the last calls Slack. A
// gathered alert has no message: its storm alert's is redrawn.
func (m *Module) changed(r *handlers.Request, a *incident.AlertRecord) error {
	if a.Storm != 0 {
		storm, err := r.Tx.Alert(a.Storm)
		if err != nil {
			return err
		}
		return m.changed(r, storm)
	}
	a.Version++
	if err := r.Tx.PutAlert(a); err != nil {
		return err
	}
	return r.EnqueueThrottled(bot.AlertLane(a.ID), jobAlertUpdate, alertJob{Alert: a.ID, Version: a.Version})
}

// groupSeverity is the severity of a group: the worst of its firing
// alerts' (each read from the group's labels with its own), as the labels
// the group shares may leave the severity out when its alerts differ.
func groupSeverity(route *incident.AlertRoute, g *incident.AlertGroup) incident.Severity {
	if route == nil {
		return incident.DefaultSeverity
	}
	worst := incident.Severity(0)
	for _, a := range g.Alerts {
		if a.Status != incident.AlertFiring && g.Status == incident.AlertFiring {
			continue
		}
		labels := make(map[string]string, len(g.Labels)+len(a.Labels))
		for k, v := range g.Labels {
			labels[k] = v
		}
		for k, v := range a.Labels {
			labels[k] = v
		}
		if s := route.Severity(labels); s.Valid() && (worst == 0 || s < worst) {
			worst = s
		}
	}
	if worst == 0 {
		return route.Severity(g.Labels)
	}
	return worst
}

// route0 is an alert's route, nil if the file no longer has it.
func route0(m *Module, a *incident.AlertRecord) *incident.AlertRoute {
	r, _ := m.route(a.Route)
	return r
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
