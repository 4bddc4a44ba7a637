package paging

import (
	"fmt"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// pageSchedule pages whoever is on call in a schedule: target's person at
// this moment, overrides (from the database, read in the step's
// transaction) included, through the same page DM as a person named in the
// file. It returns how the page is shown ("" when nobody was paged: nobody
// is on call, which is reported (warn), or the person on call declined).
func (m *Module) pageSchedule(r *handlers.Request, s subject, e *incident.Escalation, t incident.Target) (string, error) {
	sc, ok := m.schedule(t.Value())
	if !ok { // the file was changed since the escalation started
		return "", warn(r, s, e, t, fmt.Sprintf("Schedule %s is no longer in the escalation file, so nobody was paged through it.", t.Value()))
	}
	overrides, err := r.Tx.Overrides(sc.Name, r.Now)
	if err != nil {
		return "", err
	}
	sh, ok := sc.OnCall(r.Now, overrides)
	if !ok {
		return "", warn(r, s, e, t, fmt.Sprintf("Nobody is on call in schedule %s right now, so nobody was paged through it.", sc.Name))
	}
	if e.Declined(sh.Who) {
		return "", nil
	}
	p := e.AddPage(incident.Page{Target: t, User: incident.User{ID: sh.Who}, Schedule: sc.Name, Override: sh.Override != nil, At: r.Now})
	if p != nil {
		if err := r.Enqueue(bot.DMLane(sh.Who), jobPageDM, s.key().page(e, p)); err != nil {
			return "", err
		}
	}
	return ScheduleName(sc.Name, sh.Who, sh.Override != nil), nil
}

// schedule looks a schedule up by name (any case): as the on-call module
// has it now when it is wired, else as the escalation file has it.
func (m *Module) schedule(name string) (*incident.Schedule, bool) {
	if m.cfg.Schedules != nil {
		return m.cfg.Schedules.Schedule(name)
	}
	return m.cfg.Policies.Schedule(name)
}

// ScheduleName shows who was paged through a schedule.
func ScheduleName(schedule, who string, override bool) string {
	via := "on call for " + schedule
	if override {
		via += ", by override"
	}
	return fmt.Sprintf("<@%s> (%s)", who, via)
}
