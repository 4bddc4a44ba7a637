package paging

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// errNoChannelYet makes an incident's page wait (with backoff) until the
// incident's channel exists, so the page can link to it.
var errNoChannelYet = errors.New("the incident channel is not created yet")

// loadPage reads a job's subject, escalation and page.
func (m *Module) loadPage(p pageJob) (s subject, e *incident.Escalation, pg *incident.Page, err error) {
	err = m.h.View(func(tx *store.Tx) error {
		if s, err = m.load(tx, p.subjectKey); err != nil {
			return err
		}
		if e, err = s.escalation(p.Escalation); err != nil {
			return err
		}
		pg, err = e.Page(p.Page)
		return err
	})
	if err != nil {
		return nil, nil, nil, bot.Final(err)
	}
	return s, e, pg, nil
}

// withPage runs fn on the job's page inside a commit and writes the subject.
func (m *Module) withPage(r *handlers.Request, p pageJob, fn func(e *incident.Escalation, pg *incident.Page) error) error {
	s, err := m.load(r.Tx, p.subjectKey)
	if err != nil {
		return err
	}
	e, err := s.escalation(p.Escalation)
	if err != nil {
		return err
	}
	pg, err := e.Page(p.Page)
	if err != nil {
		return err
	}
	if err := fn(e, pg); err != nil {
		return err
	}
	return s.save(r)
}

// runPageDM sends one person their page: a DM with Acknowledge and Decline.
// An escalation that ended before the DM went out sends nothing.
func (m *Module) runPageDM(ctx context.Context, p pageJob) (func(*store.Tx) error, error) {
	s, e, pg, err := m.loadPage(p)
	if err != nil {
		return nil, err
	}
	if !e.Active() || pg.State != incident.PageSending {
		return func(tx *store.Tx) error {
			return m.withPage(m.h.NewRequest(tx), p, func(_ *incident.Escalation, pg *incident.Page) error {
				if pg.State == incident.PageSending {
					pg.State = incident.PageSkipped
				}
				return nil
			})
		}, nil
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	im, _, _, err := m.h.API().OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{pg.User.ID}, ReturnIM: true})
	if err != nil {
		return nil, err
	}
	text, blocks := pageBlocks(s, e, pg)
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
		return m.withPage(r, p, func(e *incident.Escalation, pg *incident.Page) error {
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
func pageBlocks(s subject, e *incident.Escalation, pg *incident.Page) (string, []slack.Block) {
	ab := s.about()
	head := fmt.Sprintf(":rotating_light: *You are being paged for %s (%s)*: %s", ab.ref, ab.severity.Label(), handlers.Safe(handlers.Clip(ab.title, 300)))
	body := fmt.Sprintf("%s\nPaged by %s · %s, level %d of %d", ab.where, ab.pagedBy(e), e.Name(), pg.Level+1, len(e.Levels))
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
		outcome = fmt.Sprintf(":octagonal_sign: Paging stopped at %s: %s is %s.", incident.FormatTime(e.Ended), ab.ref, ab.state)
	case e.State == incident.EscalationExhausted && !s.open():
		// It ran out unanswered; once resolved, a late ack no longer helps.
		outcome = fmt.Sprintf(":octagonal_sign: Paging stopped at %s (nobody acknowledged): %s is %s.", incident.FormatTime(e.Ended), ab.ref, ab.state)
	}
	blocks := []slack.Block{slack.NewSectionBlock(handlers.Md(head), nil, nil), slack.NewSectionBlock(handlers.Md(handlers.Clip(body, handlers.SectionLimit)), nil, nil)}
	if outcome != "" {
		blocks = append(blocks, slack.NewSectionBlock(handlers.Md(outcome), nil, nil))
		return head + "\n" + outcome, blocks
	}
	value := s.key().value(e, pg)
	ack := slack.NewButtonBlockElement(actionPageAck, value, handlers.Plain("Acknowledge"))
	ack.Style = slack.StylePrimary
	decline := slack.NewButtonBlockElement(actionPageDecl, value, handlers.Plain("Decline"))
	decline.Style = slack.StyleDanger
	blocks = append(blocks, slack.NewActionBlock("page_"+value, ack, decline))
	return head, blocks
}

// runPageUpdateDM redraws a page DM after the escalation or the page changed.
func (m *Module) runPageUpdateDM(ctx context.Context, p pageJob) (func(*store.Tx) error, error) {
	s, e, pg, err := m.loadPage(p)
	if err != nil || pg.TS == "" {
		return nil, err // no DM yet: runPageDM redraws it once sent
	}
	text, blocks := pageBlocks(s, e, pg)
	_, _, _, err = m.h.API().UpdateMessageContext(ctx, pg.Channel, pg.TS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}
