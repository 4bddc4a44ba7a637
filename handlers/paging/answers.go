package paging

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// The answers to a page: Acknowledge and Decline in the page DM. The core
// lets only the person paged click them, in the DM they got (handlers.Paged).

// pagingAction handles a click on a page DM's Acknowledge or Decline.
func (m *Module) pagingAction(r *handlers.Request, _ slack.InteractionCallback, a *slack.BlockAction) error {
	// The core let only the person paged through, from their DM.
	id, ids, err := handlers.ParseValue(a.Value, 2)
	if err != nil {
		m.h.Log().Warn().Err(err).Str("action", a.ActionID).Msg("refused a button with a malformed value")
		return incident.Invalid("Nothing changed: I could not read this button.",
			fmt.Sprintf("Type %s ack in the incident channel instead.", m.command()))
	}
	inc, err := r.Tx.Incident(id)
	if err != nil {
		return err
	}
	e, err := inc.Escalation(ids[0])
	if err != nil {
		return err
	}
	switch a.ActionID {
	case actionPageAck:
		return m.acknowledge(r, inc, e)
	case actionPageDecl:
		return m.decline(r, inc, e)
	}
	return nil
}

// acknowledge stops an escalation because r.User is on it.
func (m *Module) acknowledge(r *handlers.Request, inc *incident.Incident, e *incident.Escalation) error {
	// A resolved incident takes no acknowledgement, even of paging that ran out.
	if !inc.Open() || !e.Acknowledge(r.User, r.Now) {
		return m.pageEnded(r, inc, e)
	}
	if inc.Times.Acknowledged.IsZero() {
		inc.Times.Acknowledged = r.Now
	}
	inc.Members.Join(r.User.ID) // invited below
	text := fmt.Sprintf("Page acknowledged by %s (%s, %s after paging)", handlers.Mention(r.User), e.Name(),
		incident.FormatDuration(r.Now.Sub(e.Started)))
	// The summary and topic show nothing of paging: no refresh needed.
	if err := r.Tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.TimelineEvent(inc, "acknowledged", text); err != nil {
		return err
	}
	if err := r.Invite(inc.ChannelID, r.User.ID); err != nil {
		return err
	}
	if err := r.Post(inc.ChannelID, ":white_check_mark: "+text+". Paging stopped.", nil); err != nil {
		return err
	}
	return m.settlePages(r, inc, e, "acknowledge")
}

// pageEnded tells someone who answered a page that it no longer waits for
// an answer, and where the incident is.
func (m *Module) pageEnded(r *handlers.Request, inc *incident.Incident, e *incident.Escalation) error {
	text := fmt.Sprintf("%s's page was already acknowledged by %s at %s. The incident channel: %s",
		inc.Ref(), handlers.Mention(e.AckedBy), incident.FormatTime(e.AckedAt), handlers.ChannelLink(inc))
	if e.State != incident.EscalationAcknowledged {
		text = fmt.Sprintf("Paging for %s had stopped (%s). The incident channel: %s", inc.Ref(), inc.Status.Title(), handlers.ChannelLink(inc))
	}
	return r.Ephemeral(r.Channel, r.User.ID, text, "")
}

// decline records r.User's decline and, if theirs was the current level,
// moves on at once.
func (m *Module) decline(r *handlers.Request, inc *incident.Incident, e *incident.Escalation) error {
	if !inc.Open() || e.State == incident.EscalationAcknowledged || e.State == incident.EscalationCancelled {
		return m.pageEnded(r, inc, e) // nothing is waiting for this answer any more
	}
	moveOn := e.Decline(r.User)
	if err := r.Tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.TimelineEvent(inc, "declined", fmt.Sprintf("%s declined the page (%s)", handlers.Mention(r.User), e.Name())); err != nil {
		return err
	}
	for _, p := range e.Pages {
		if p.User.ID == r.User.ID {
			if err := r.Enqueue(bot.DMLane(p.User.ID), jobPageUpdateDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: p.ID}); err != nil {
				return err
			}
		}
	}
	if !moveOn {
		return nil
	}
	if err := r.Post(inc.ChannelID, fmt.Sprintf(":no_entry: %s declined the page; moving on now.", handlers.Mention(r.User)), nil); err != nil {
		return err
	}
	return m.escalate(r, inc, e)
}
