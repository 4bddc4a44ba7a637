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
// is on call, said in the channel, or the person on call declined).
func (m *Module) pageSchedule(r *handlers.Request, inc *incident.Incident, e *incident.Escalation, t incident.Target) (string, error) {
	var s *incident.Schedule
	var ok bool
	if m.cfg.Schedules != nil {
		s, ok = m.cfg.Schedules.Schedule(t.Value())
	} else {
		s, ok = m.cfg.Policies.Schedule(t.Value())
	}
	if !ok { // the file was changed since the escalation started
		return "", r.Post(inc.ChannelID, fmt.Sprintf(":warning: Schedule %s is no longer in the escalation file, so nobody was paged through it.",
			handlers.Safe(t.Value())), nil)
	}
	overrides, err := r.Tx.Overrides(s.Name, r.Now)
	if err != nil {
		return "", err
	}
	sh, ok := s.OnCall(r.Now, overrides)
	if !ok {
		return "", r.Post(inc.ChannelID, fmt.Sprintf(":warning: Nobody is on call in schedule %s right now, so nobody was paged through it.", s.Name), nil)
	}
	if e.Declined(sh.Who) {
		return "", nil
	}
	p := e.AddPage(incident.Page{Target: t, User: incident.User{ID: sh.Who}, Schedule: s.Name, Override: sh.Override != nil, At: r.Now})
	if p != nil {
		if err := r.Enqueue(bot.DMLane(sh.Who), jobPageDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: p.ID}); err != nil {
			return "", err
		}
	}
	return ScheduleName(s.Name, sh.Who, sh.Override != nil), nil
}

// ScheduleName shows who was paged through a schedule.
func ScheduleName(schedule, who string, override bool) string {
	via := "on call for " + schedule
	if override {
		via += ", by override"
	}
	return fmt.Sprintf("<@%s> (%s)", who, via)
}
