package paging

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/store"
)

// runPageGroup expands a user group into pages of its members.
func (m *Module) runPageGroup(ctx context.Context, p groupJob) (func(*store.Tx) error, error) {
	members, err := m.h.API().GetUserGroupMembersContext(ctx, p.Group)
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		s, err := m.load(tx, p.subjectKey)
		if err != nil {
			return err
		}
		e, err := s.escalation(p.Escalation)
		if err != nil || !e.Active() || e.Step != p.Step {
			return err // moved on meanwhile: this step's pages would be late
		}
		r := m.h.NewRequest(tx)
		if len(members) == 0 {
			if err := warn(r, s, e, incident.Target(p.Group), fmt.Sprintf("User group %s has no members, so nobody was paged through it.", p.Group)); err != nil {
				return err
			}
			return s.save(r)
		}
		for _, id := range members {
			if pg := e.AddPage(incident.Page{Target: incident.Target(id), User: incident.User{ID: id}, Group: p.Group, At: r.Now}); pg != nil {
				if err := r.Enqueue(bot.DMLane(id), jobPageDM, p.page(e, pg)); err != nil {
					return err
				}
			}
		}
		return s.save(r)
	}, nil
}

// runPageEscalate is an escalation's timer. It calls no Slack API itself:
// its commit checks that the escalation still waits at this step, and only
// then pages the next level. An acknowledgement committed first wins.
func (m *Module) runPageEscalate(_ context.Context, p escalateJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		s, err := m.load(tx, p.subjectKey)
		if err != nil {
			return err
		}
		e, err := s.escalation(p.Escalation)
		if err != nil || !e.Active() || e.Step != p.Step {
			return err
		}
		return m.escalate(m.h.NewRequest(tx), s, e)
	}, nil
}

// runPageProvider sends one event to PagerDuty, Opsgenie or a webhook.
// The bot's retry stage retries 429s and 5xx; after ProviderGiveUp of
// failing, the failure is final and reported (pagingGiveUp).
func (m *Module) runPageProvider(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	p, err := handlers.Decode[providerJob](job)
	if err != nil {
		return nil, err
	}
	var s subject
	if err := m.h.View(func(tx *store.Tx) error { s, err = m.load(tx, p.subjectKey); return err }); err != nil {
		return nil, bot.Final(err)
	}
	e, err := s.escalation(p.Escalation)
	if err != nil {
		return nil, bot.Final(err)
	}
	page := pageJob{subjectKey: p.subjectKey, Escalation: p.Escalation, Page: p.Page}
	if p.Action == "trigger" && !e.Active() {
		return func(tx *store.Tx) error {
			return m.withPage(m.h.NewRequest(tx), page, func(_ *incident.Escalation, pg *incident.Page) error {
				pg.State = incident.PageSkipped
				return nil
			})
		}, nil
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	ab := s.about()
	ev := provider.Event{
		Action: p.Action, DedupKey: "incidentbot-" + m.h.Config().TeamID + "-" + ab.ref, Ref: ab.ref, Title: incident.Markdown(ab.title, nil),
		Severity: ab.severity.String(), Status: ab.status, ChannelURL: m.channelURL(ab.channel),
		Message: incident.Markdown(e.Message, nil), PagedBy: ab.pagedByName(e), Policy: e.Policy, Level: e.Level + 1, At: m.h.Now(),
	}
	if p.Action != "trigger" {
		// What the provider's responders read in the alert's log.
		done := capitalise(actionDone(p.Action))
		ev.Message = fmt.Sprintf("%s in Slack (%s)", done, ab.ref)
		if p.By != "" {
			ev.Message = fmt.Sprintf("%s in Slack by %s (%s)", done, p.By, ab.ref)
		}
	}
	d, err := m.cfg.Providers.Notify(ctx, p.Target, ev)
	left := m.cfg.ProviderGiveUp - m.h.Now().Sub(job.Created)
	switch {
	case err == nil:
	case !d.Retry:
		err = bot.Final(err)
	case left <= 0:
		err = bot.Final(fmt.Errorf("still failing after %s: %w", incident.FormatDuration(m.cfg.ProviderGiveUp), err))
	default:
		// A provider asking to wait longer than we will keep trying is
		// tried once more when the time is up, so the failure is reported
		// on time.
		err = bot.Retry(err, min(d.After, left))
	}
	if err != nil {
		return nil, err
	}
	if p.Page == 0 {
		return nil, nil
	}
	return func(tx *store.Tx) error {
		return m.withPage(m.h.NewRequest(tx), page, func(_ *incident.Escalation, pg *incident.Page) error {
			if pg.State == incident.PageSending {
				pg.State = incident.PageSent
			}
			return nil
		})
	}, nil
}

// channelURL links to a channel, for providers outside Slack.
func (m *Module) channelURL(channel string) string {
	if m.h.Config().TeamID == "" || channel == "" {
		return ""
	}
	return "https://slack.com/app_redirect?team=" + m.h.Config().TeamID + "&channel=" + channel
}

// pagingGiveUp reports a page that failed for good: on the page, and for
// an incident on its timeline and in its channel (an alert's message shows
// the failed page). The escalation goes on regardless.
func (m *Module) pagingGiveUp(tx *store.Tx, job store.Job, cause error) error {
	var p struct {
		providerJob
		Group string `json:"group"`
	}
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return nil
	}
	s, err := m.load(tx, p.subjectKey)
	if err != nil || s.ready() != nil {
		return nil
	}
	r := m.h.NewRequest(tx)
	who := "someone"
	if e, err := s.escalation(p.Escalation); err == nil {
		if pg, err := e.Page(p.Page); err == nil {
			pg.State, pg.Error = incident.PageFailed, handlers.Clip(cause.Error(), 200)
			who = targetName(pg.Target)
			if pg.User.ID != "" {
				who = handlers.Mention(pg.User)
			}
		} else if t := p.Target + p.Group; t != "" {
			who = targetName(incident.Target(t))
			if p.Group != "" { // reading the group failed: nobody was paged through it
				s.keep(r, e, incident.Target(p.Group), cause.Error())
			}
		}
	}
	if err := s.save(r); err != nil {
		return err
	}
	what := "page " + who
	if p.Action == "acknowledge" || p.Action == "resolve" {
		what = fmt.Sprintf("tell %s that the incident was %s", who, actionDone(p.Action))
	}
	text := fmt.Sprintf("Could not %s: %s", what, handlers.Clip(cause.Error(), 300))
	if err := s.record(r, "page_failed", text); err != nil {
		return err
	}
	return s.say(r, ":warning: "+handlers.Safe(text)+". Page someone else with `"+m.command()+" page`.")
}

// actionDone is a provider action in the past tense.
func actionDone(action string) string {
	return map[string]string{"trigger": "paged", "acknowledge": "acknowledged", "resolve": "resolved"}[action]
}
