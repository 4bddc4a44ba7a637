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

// pagingAction handles a click on a page DM's Acknowledge or Decline, for
// an incident's page or (an alert value, "a7:1:2") an alert's.
func (m *Module) pagingAction(r *handlers.Request, _ slack.InteractionCallback, a *slack.BlockAction) error {
	if handlers.IsAlertValue(a.Value) {
		return m.alertPageAction(r, a)
	}
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
		return m.decline(r, incidentSubject{inc}, e)
	}
	return nil
}

// alertPageAction answers the page DM of an alert. Acknowledge
// acknowledges the alert itself, which stops its paging for everyone.
func (m *Module) alertPageAction(r *handlers.Request, a *slack.BlockAction) error {
	id, ids, err := handlers.ParseAlertValue(a.Value, 2)
	if err != nil {
		m.h.Log().Warn().Err(err).Str("action", a.ActionID).Msg("refused a button with a malformed value")
		return incident.Invalid("Nothing changed: I could not read this button.", "Use the Acknowledge button on the alert's message instead.")
	}
	al, err := r.Tx.Alert(id)
	if err != nil {
		return err
	}
	e, err := al.Escalation(ids[0])
	if err != nil {
		return err
	}
	s := m.alertSubject(al)
	switch a.ActionID {
	case actionPageAck:
		// As for an incident: a late answer to paging that ran out counts,
		// one to an alert resolved does not.
		if !al.Open() || !e.Active() && e.State != incident.EscalationExhausted {
			return m.pageEnded(r, s, e)
		}
		return m.AckAlert(r, al)
	case actionPageDecl:
		return m.decline(r, s, e)
	}
	return nil
}

// acknowledge stops an incident's escalation because r.User is on it.
func (m *Module) acknowledge(r *handlers.Request, inc *incident.Incident, e *incident.Escalation) error {
	s := incidentSubject{inc}
	// A resolved incident takes no acknowledgement, even of paging that ran out.
	if !inc.Open() || !e.Acknowledge(r.User, r.Now) {
		return m.pageEnded(r, s, e)
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
	return m.settlePages(r, s, e, "acknowledge")
}

// pageEnded tells someone who answered a page that it no longer waits for
// an answer, and where the incident or alert is.
func (m *Module) pageEnded(r *handlers.Request, s subject, e *incident.Escalation) error {
	ab := s.about()
	text := fmt.Sprintf("%s's page was already acknowledged by %s at %s. %s",
		ab.ref, handlers.Mention(e.AckedBy), incident.FormatTime(e.AckedAt), ab.place)
	if e.State != incident.EscalationAcknowledged {
		text = fmt.Sprintf("Paging for %s had stopped (%s). %s", ab.ref, ab.state, ab.place)
	}
	return r.Ephemeral(r.Channel, r.User.ID, text, "")
}

// decline records r.User's decline and, if theirs was the current level,
// moves on at once.
func (m *Module) decline(r *handlers.Request, s subject, e *incident.Escalation) error {
	if !s.open() || e.State == incident.EscalationAcknowledged || e.State == incident.EscalationCancelled {
		return m.pageEnded(r, s, e) // nothing is waiting for this answer any more
	}
	moveOn := e.Decline(r.User)
	if err := s.record(r, "declined", fmt.Sprintf("%s declined the page (%s)", handlers.Mention(r.User), e.Name())); err != nil {
		return err
	}
	for i := range e.Pages {
		if p := &e.Pages[i]; p.User.ID == r.User.ID {
			if err := r.Enqueue(bot.DMLane(p.User.ID), jobPageUpdateDM, s.key().page(e, p)); err != nil {
				return err
			}
		}
	}
	if !moveOn {
		return s.save(r)
	}
	// escalate writes the subject (once: an alert is redrawn once).
	if err := s.say(r, fmt.Sprintf(":no_entry: %s declined the page; moving on now.", handlers.Mention(r.User))); err != nil {
		return err
	}
	return m.escalate(r, s, e)
}
