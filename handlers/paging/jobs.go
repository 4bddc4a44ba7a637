package paging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/store"
)

// errNoChannelYet makes a page wait (with backoff) until the incident's
// channel exists, so the page can link to it.
var errNoChannelYet = errors.New("the incident channel is not created yet")

// loadPage reads a job's incident, escalation and page.
func (m *Module) loadPage(p pageJob) (inc *incident.Incident, e *incident.Escalation, pg *incident.Page, err error) {
	err = m.h.View(func(tx *store.Tx) error {
		if inc, err = tx.Incident(p.Incident); err != nil {
			return err
		}
		if e, err = inc.Escalation(p.Escalation); err != nil {
			return err
		}
		pg, err = e.Page(p.Page)
		return err
	})
	if err != nil {
		return nil, nil, nil, bot.Final(err)
	}
	return inc, e, pg, nil
}

// withPage runs fn on the job's page inside a commit and writes the incident.
func withPage(tx *store.Tx, p pageJob, fn func(inc *incident.Incident, e *incident.Escalation, pg *incident.Page) error) error {
	inc, err := tx.Incident(p.Incident)
	if err != nil {
		return err
	}
	e, err := inc.Escalation(p.Escalation)
	if err != nil {
		return err
	}
	pg, err := e.Page(p.Page)
	if err != nil {
		return err
	}
	if err := fn(inc, e, pg); err != nil {
		return err
	}
	return tx.PutIncident(inc)
}

// runPageDM sends one person their page: a DM with Acknowledge and Decline.
// An escalation that ended before the DM went out sends nothing.
func (m *Module) runPageDM(ctx context.Context, p pageJob) (func(*store.Tx) error, error) {
	inc, e, pg, err := m.loadPage(p)
	if err != nil {
		return nil, err
	}
	if !e.Active() || pg.State != incident.PageSending {
		return func(tx *store.Tx) error {
			return withPage(tx, p, func(_ *incident.Incident, _ *incident.Escalation, pg *incident.Page) error {
				if pg.State == incident.PageSending {
					pg.State = incident.PageSkipped
				}
				return nil
			})
		}, nil
	}
	if inc.ChannelID == "" {
		return nil, errNoChannelYet
	}
	im, _, _, err := m.h.API().OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{pg.User.ID}, ReturnIM: true})
	if err != nil {
		return nil, err
	}
	text, blocks := pageBlocks(inc, e, pg)
	// A page resumed after a crash finds the DM it already sent (marker.go).
	ts, err := m.h.PostOnce(ctx, im.ID, "", slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return nil, err
	}
	// The postmortem names who was paged. Best effort: the page is out, and
	// failing now would send it again.
	name := pg.User.Name
	if name == "" {
		if u, err := m.h.API().GetUserInfoContext(ctx, pg.User.ID); err == nil {
			name = handlers.DisplayName(u)
		}
	}
	if m.cfg.OnPaged != nil {
		m.cfg.OnPaged(pg.Schedule, pg.User.ID)
	}
	return func(tx *store.Tx) error {
		r := m.h.NewRequest(tx)
		return withPage(tx, p, func(inc *incident.Incident, e *incident.Escalation, pg *incident.Page) error {
			pg.Channel, pg.TS = im.ID, ts
			if pg.User.Name == "" {
				pg.User.Name = name
			}
			if pg.State == incident.PageSending {
				pg.State = incident.PageSent
			}
			if !e.Active() { // it ended while the DM was on its way: show how
				return r.Enqueue(bot.DMLane(pg.User.ID), jobPageUpdateDM, p)
			}
			return nil
		})
	}, nil
}

// pageBlocks renders a page DM from the current state: buttons while an
// answer can still help, the outcome once there is one.
func pageBlocks(inc *incident.Incident, e *incident.Escalation, pg *incident.Page) (string, []slack.Block) {
	head := fmt.Sprintf(":rotating_light: *You are being paged for %s (%s)*: %s", inc.Ref(), inc.Severity.Label(), handlers.Safe(handlers.Clip(inc.Title, 300)))
	body := fmt.Sprintf("Channel: %s\nPaged by %s · %s, level %d of %d", handlers.ChannelLink(inc), handlers.Mention(e.By), e.Name(), pg.Level+1, len(e.Levels))
	if pg.Group != "" {
		body += " · through user group " + pg.Group
	}
	if pg.Schedule != "" {
		body += " · you are on call for schedule " + pg.Schedule
		if pg.Override {
			body += " (by override)"
		}
	}
	if e.Message != "" {
		body += "\n" + handlers.Quote(handlers.Safe(handlers.Clip(e.Message, 1000)))
	}
	var outcome string
	switch {
	case pg.State == incident.PageDeclined:
		outcome = ":no_entry: You declined this page; I page the next people on the list."
		if !e.Active() {
			outcome = ":no_entry: You declined this page."
		}
	case e.State == incident.EscalationAcknowledged:
		outcome = fmt.Sprintf(":white_check_mark: Acknowledged by %s at %s.", handlers.Mention(e.AckedBy), incident.FormatTime(e.AckedAt))
	case e.State == incident.EscalationCancelled:
		outcome = fmt.Sprintf(":octagonal_sign: Paging stopped at %s: %s is %s.", incident.FormatTime(e.Ended), inc.Ref(), inc.Status.Title())
	case e.State == incident.EscalationExhausted && !inc.Open():
		// It ran out unanswered; once resolved, a late ack no longer helps.
		outcome = fmt.Sprintf(":octagonal_sign: Paging stopped at %s (nobody acknowledged): %s is %s.", incident.FormatTime(e.Ended), inc.Ref(), inc.Status.Title())
	}
	blocks := []slack.Block{slack.NewSectionBlock(handlers.Md(head), nil, nil), slack.NewSectionBlock(handlers.Md(handlers.Clip(body, handlers.SectionLimit)), nil, nil)}
	if outcome != "" {
		blocks = append(blocks, slack.NewSectionBlock(handlers.Md(outcome), nil, nil))
		return head + "\n" + outcome, blocks
	}
	value := handlers.EncodeValue(inc.ID, e.ID, pg.ID)
	ack := slack.NewButtonBlockElement(actionPageAck, value, handlers.Plain("Acknowledge"))
	ack.Style = slack.StylePrimary
	decline := slack.NewButtonBlockElement(actionPageDecl, value, handlers.Plain("Decline"))
	decline.Style = slack.StyleDanger
	blocks = append(blocks, slack.NewActionBlock("page_"+value, ack, decline))
	return head, blocks
}

// runPageUpdateDM redraws a page DM after the escalation or the page changed.
func (m *Module) runPageUpdateDM(ctx context.Context, p pageJob) (func(*store.Tx) error, error) {
	inc, e, pg, err := m.loadPage(p)
	if err != nil || pg.TS == "" {
		return nil, err // no DM yet: runPageDM redraws it once sent
	}
	text, blocks := pageBlocks(inc, e, pg)
	_, _, _, err = m.h.API().UpdateMessageContext(ctx, pg.Channel, pg.TS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}

// runPageGroup expands a user group into pages of its members.
func (m *Module) runPageGroup(ctx context.Context, p groupJob) (func(*store.Tx) error, error) {
	members, err := m.h.API().GetUserGroupMembersContext(ctx, p.Group)
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		e, err := inc.Escalation(p.Escalation)
		if err != nil || !e.Active() || e.Step != p.Step {
			return err // moved on meanwhile: this step's pages would be late
		}
		r := m.h.NewRequest(tx)
		if len(members) == 0 {
			return r.Post(inc.ChannelID, fmt.Sprintf(":warning: User group %s has no members, so nobody was paged through it.", p.Group), nil)
		}
		for _, id := range members {
			if pg := e.AddPage(incident.Page{Target: incident.Target(id), User: incident.User{ID: id}, Group: p.Group, At: r.Now}); pg != nil {
				if err := r.Enqueue(bot.DMLane(id), jobPageDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: pg.ID}); err != nil {
					return err
				}
			}
		}
		return tx.PutIncident(inc)
	}, nil
}

// runPageEscalate is an escalation's timer. It calls no Slack API itself:
// its commit checks that the escalation still waits at this step, and only
// then pages the next level. An acknowledgement committed first wins.
func (m *Module) runPageEscalate(_ context.Context, p escalateJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		e, err := inc.Escalation(p.Escalation)
		if err != nil || !e.Active() || e.Step != p.Step {
			return err
		}
		return m.escalate(m.h.NewRequest(tx), inc, e)
	}, nil
}

// runPageProvider sends one event to PagerDuty, Opsgenie or a webhook.
// The bot's retry stage retries 429s and 5xx; after ProviderGiveUp of
// failing, the failure is final and reported in the channel.
func (m *Module) runPageProvider(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	p, err := handlers.Decode[providerJob](job)
	if err != nil {
		return nil, err
	}
	inc, err := m.h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	e, err := inc.Escalation(p.Escalation)
	if err != nil {
		return nil, bot.Final(err)
	}
	if p.Action == "trigger" && !e.Active() {
		return func(tx *store.Tx) error {
			return withPage(tx, pageJob{Incident: p.Incident, Escalation: p.Escalation, Page: p.Page},
				func(_ *incident.Incident, _ *incident.Escalation, pg *incident.Page) error {
					pg.State = incident.PageSkipped
					return nil
				})
		}, nil
	}
	if inc.ChannelID == "" {
		return nil, errNoChannelYet
	}
	ev := provider.Event{
		Action: p.Action, DedupKey: "incidentbot-" + m.h.Config().TeamID + "-" + inc.Ref(), Ref: inc.Ref(), Title: incident.Markdown(inc.Title, nil),
		Severity: inc.Severity.String(), Status: string(inc.Status), ChannelURL: m.channelURL(inc),
		Message: incident.Markdown(e.Message, nil), PagedBy: e.By.Name, Policy: e.Policy, Level: e.Level + 1, At: m.h.Now(),
	}
	if p.Action != "trigger" {
		// What the provider's responders read in the alert's log.
		done := capitalise(actionDone(p.Action))
		ev.Message = fmt.Sprintf("%s in Slack (%s)", done, inc.Ref())
		if p.By != "" {
			ev.Message = fmt.Sprintf("%s in Slack by %s (%s)", done, p.By, inc.Ref())
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
		return withPage(tx, pageJob{Incident: p.Incident, Escalation: p.Escalation, Page: p.Page},
			func(_ *incident.Incident, _ *incident.Escalation, pg *incident.Page) error {
				if pg.State == incident.PageSending {
					pg.State = incident.PageSent
				}
				return nil
			})
	}, nil
}

// channelURL links to the incident's channel, for providers outside Slack.
func (m *Module) channelURL(inc *incident.Incident) string {
	if m.h.Config().TeamID == "" || inc.ChannelID == "" {
		return ""
	}
	return "https://slack.com/app_redirect?team=" + m.h.Config().TeamID + "&channel=" + inc.ChannelID
}

// pagingGiveUp reports a page that failed for good: on the page, on the
// timeline and in the channel. The escalation goes on regardless.
func (m *Module) pagingGiveUp(tx *store.Tx, job store.Job, cause error) error {
	var p struct {
		providerJob
		Group string `json:"group"`
	}
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return nil
	}
	inc, err := tx.Incident(p.Incident)
	if err != nil || inc.ChannelID == "" {
		return nil
	}
	r := m.h.NewRequest(tx)
	who := "someone"
	if e, err := inc.Escalation(p.Escalation); err == nil {
		if pg, err := e.Page(p.Page); err == nil {
			pg.State, pg.Error = incident.PageFailed, handlers.Clip(cause.Error(), 200)
			who = targetName(pg.Target)
			if pg.User.ID != "" {
				who = handlers.Mention(pg.User)
			}
		} else if t := p.Target + p.Group; t != "" {
			who = targetName(incident.Target(t))
		}
	}
	if err := tx.PutIncident(inc); err != nil {
		return err
	}
	what := "page " + who
	if p.Action == "acknowledge" || p.Action == "resolve" {
		what = fmt.Sprintf("tell %s that the incident was %s", who, actionDone(p.Action))
	}
	text := fmt.Sprintf("Could not %s: %s", what, handlers.Clip(cause.Error(), 300))
	if err := r.TimelineEvent(inc, "page_failed", text); err != nil {
		return err
	}
	return r.Post(inc.ChannelID, ":warning: "+handlers.Safe(text)+". Page someone else with `"+m.command()+" page`.", nil)
}

// actionDone is a provider action in the past tense.
func actionDone(action string) string {
	return map[string]string{"trigger": "paged", "acknowledge": "acknowledged", "resolve": "resolved"}[action]
}
