package paging

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Paging for alerts: the alerts module calls PageAlert, AckAlert and
// StopAlert inside its own transaction, and the same engine as for
// incidents does the rest. An alert has no channel of its own and no
// timeline: every change is written to the alert and shown by redrawing its
// message (r.AlertChanged), problems included, as failed pages.

// PageAlert pages for alert a as its route says. target is the route's
// page: value, a policy's name or schedule:NAME (any case); schedule:NAME
// pages whoever is on call there, as one level of
// incident.DirectPageTimeout asked twice, like a direct page. It starts an
// escalation on a.Escalations by r.User (empty: the route pages, and the
// DMs say "alert route <a.Route>") and pages its first level: page DMs,
// user groups, schedules (overrides included) and providers, with the
// step's timer on bot.AlertEscalationLane. It writes a and calls
// r.AlertChanged. An escalation of the same target still active is left to
// run: then nothing changes. An unknown target is an incident.Invalid
// error, a resolved alert one of incident.ErrResolved.
func (m *Module) PageAlert(r *handlers.Request, a *incident.AlertRecord, target, message string) error {
	if !a.Open() {
		return incident.Problemf(incident.ErrResolved, "%s is resolved, so I page nobody for it", a.Ref())
	}
	policy, levels, repeat, err := m.alertLevels(a, target)
	if err != nil {
		return err
	}
	// As with /incident page: a second escalation of the same target would
	// page the same people twice.
	for _, e := range a.Escalations.Active() {
		if e.Policy == policy && (policy != "" || slices.Equal(e.Levels[0].Targets, levels[0].Targets)) {
			return nil
		}
	}
	e, err := a.Escalations.Start(policy, levels, repeat, r.User, message, r.Now)
	if err != nil {
		return err
	}
	return m.pageStep(r, m.alertSubject(a), e)
}

// alertLevels reads an alert route's page: value.
func (m *Module) alertLevels(a *incident.AlertRecord, target string) (policy string, levels []incident.Level, repeat int, err error) {
	target = strings.TrimSpace(target)
	if p, ok := m.cfg.Policies.Get(target); ok {
		return p.Name, p.Levels, p.Repeat, nil
	}
	const prefix = "schedule:"
	if len(target) > len(prefix) && strings.EqualFold(target[:len(prefix)], prefix) {
		if s, ok := m.schedule(target[len(prefix):]); ok {
			// Named as a policy level names it (incident's scheduleTarget).
			t := incident.Target(prefix + s.Name)
			return "", []incident.Level{{Targets: []incident.Target{t}, Timeout: incident.DirectPageTimeout}}, 1, nil
		}
	}
	hint := "Set its page: to a policy or to schedule:<name>."
	if names := m.policyNames(); len(names) > 0 {
		hint = fmt.Sprintf("Set its page: to a policy (%s) or to schedule:<name>.", strings.Join(names, ", "))
	}
	return "", nil, 0, incident.Invalid(fmt.Sprintf("Alert route %s pages %q, which is neither a policy nor a schedule I know.",
		a.Route, handlers.Clip(target, 60)), hint)
}

// AckAlert records that r.User acknowledged alert a (from its message, or
// from a page DM): a.Acknowledge, and every escalation still waiting for an
// answer (active, or run out: a late answer counts) acknowledged by them,
// so paging stops for everyone: their page DMs are redrawn and the
// providers paged told "acknowledge". It writes a and calls
// r.AlertChanged; a resolved alert is written unchanged.
func (m *Module) AckAlert(r *handlers.Request, a *incident.AlertRecord) error {
	if r.User.ID == "" {
		return fmt.Errorf("acknowledge %s: nobody to acknowledge as: %w", a.Ref(), incident.ErrInvalidInput)
	}
	s := m.alertSubject(a)
	if a.Open() {
		a.Acknowledge(r.User, r.Now)
		for i := range a.Escalations {
			if e := &a.Escalations[i]; e.Acknowledge(r.User, r.Now) {
				if err := m.settlePages(r, s, e, "acknowledge"); err != nil {
					return err
				}
			}
		}
	}
	return s.save(r)
}

// StopAlert ends the paging of alert a, resolved by its source or by
// someone (call it once a is marked resolved): its active escalations are
// cancelled, the page DMs of every escalation redrawn ("Paging stopped …:
// ALERT-7 is resolved", or how it ended), and the providers paged told
// "resolve". It writes a and calls r.AlertChanged.
func (m *Module) StopAlert(r *handlers.Request, a *incident.AlertRecord) error {
	s := m.alertSubject(a)
	if err := m.stop(r, s, a.Escalations); err != nil {
		return err
	}
	return s.save(r)
}

// alertSubject pages for an alert: state in the alert record, written and
// redrawn at every step; nothing said anywhere else.
type alertSubject struct {
	a *incident.AlertRecord
	h *handlers.Handlers
}

func (m *Module) alertSubject(a *incident.AlertRecord) alertSubject {
	return alertSubject{a: a, h: m.h}
}

func (s alertSubject) key() subjectKey { return subjectKey{Alert: s.a.ID} }
func (s alertSubject) open() bool      { return s.a.Open() }

func (s alertSubject) escalation(id int) (*incident.Escalation, error) { return s.a.Escalation(id) }

// ready: an alert's message may still be on its way; the DM links to the
// channel until it is there.
func (alertSubject) ready() error { return nil }

func (s alertSubject) save(r *handlers.Request) error {
	if err := r.Tx.PutAlert(s.a); err != nil {
		return err
	}
	return r.AlertChanged(s.a)
}

func (alertSubject) record(*handlers.Request, string, string) error { return nil }
func (alertSubject) say(*handlers.Request, string) error            { return nil }

func (alertSubject) keep(r *handlers.Request, e *incident.Escalation, t incident.Target, why string) {
	e.AddPage(incident.Page{Target: t, At: r.Now, State: incident.PageFailed, Error: handlers.Clip(strings.TrimSuffix(why, "."), 200)})
}

func (s alertSubject) about() about {
	a := s.a
	where, place := "Alert "+a.Ref(), "The alert is "+a.Ref()
	if a.Channel != "" {
		where, place = "Alert in <#"+a.Channel+">", "The alert is in <#"+a.Channel+">"
		// Until the team URL is known (auth.test), the channel must do.
		link, ok := "", false
		if a.TS != "" {
			link, ok = s.h.LocalPermalink(a.Channel, a.TS, "")
		}
		if ok {
			where += " (<" + link + "|its message>)"
			place = "The alert: <" + link + "|" + a.Ref() + "> in <#" + a.Channel + ">"
		}
	}
	return about{
		ref: a.Ref(), title: a.Title(), severity: a.Severity, status: string(a.Status), state: string(a.Status),
		channel: a.Channel, where: where, place: place, route: a.Route,
	}
}
