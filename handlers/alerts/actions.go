package alerts

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// The buttons of an alert's message. The core let the click through only
// from the channel the alert was posted to (handlers.AlertChannel), by one
// of INCIDENTBOT_RESPONDERS when that is set.

// action handles Acknowledge, Declare incident and Resolve.
func (m *Module) action(r *handlers.Request, _ slack.InteractionCallback, b *slack.BlockAction) error {
	id, _, err := handlers.ParseAlertValue(b.Value, 0)
	if err != nil {
		return incident.Invalid("Nothing changed: I could not read this button.", fmt.Sprintf("Type %s alerts to see the open alerts.", m.command()))
	}
	a, err := r.Tx.Alert(id)
	if err != nil {
		return err
	}
	switch b.ActionID {
	case actionAck:
		return m.acknowledge(r, a)
	case actionDeclare:
		return m.declareClicked(r, a)
	case actionResolve:
		return m.resolveClicked(r, a)
	}
	return nil
}

// acknowledge stops an alert's paging for everyone and says who took it.
func (m *Module) acknowledge(r *handlers.Request, a *incident.AlertRecord) error {
	switch {
	case !a.Open():
		return m.tell(r, fmt.Sprintf("%s is already resolved (%s).", a.Ref(), incident.FormatTime(a.Resolved)))
	case a.Acknowledged():
		return m.tell(r, fmt.Sprintf("%s was already acknowledged by %s at %s.", a.Ref(), handlers.Mention(a.AckedBy), incident.FormatTime(a.AckedAt)))
	}
	if m.cfg.Pager != nil && len(a.Escalations) > 0 {
		if err := m.cfg.Pager.AckAlert(r, a); err != nil {
			return err
		}
	}
	a.Acknowledge(r.User, r.Now) // no-op if AckAlert did it
	if err := m.onIncident(r, a, "alert_acknowledged", fmt.Sprintf("%s acknowledged by %s", a.Ref(), handlers.Mention(r.User))); err != nil {
		return err
	}
	if err := m.inviteToIncident(r, a, r.User.ID); err != nil {
		return err
	}
	return m.save(r, a)
}

// declareClicked declares an incident from the alert, or says where the one
// declared already is.
func (m *Module) declareClicked(r *handlers.Request, a *incident.AlertRecord) error {
	if a.Incident != 0 {
		inc, err := r.Tx.Incident(a.Incident)
		if err != nil {
			return err
		}
		return m.tell(r, fmt.Sprintf("%s was declared from %s already: %s.", inc.Ref(), a.Ref(), handlers.ChannelLink(inc)))
	}
	if !a.Open() {
		return m.tell(r, fmt.Sprintf("%s is resolved. Declare an incident with %s declare if it still matters.", a.Ref(), m.command()))
	}
	return m.declare(r, a, r.User)
}

// resolveClicked resolves an alert by hand: paging stops and providers are
// told. If the source still fires it, its next notification opens a new
// alert, as PagerDuty does for a dedup key whose incident was resolved.
func (m *Module) resolveClicked(r *handlers.Request, a *incident.AlertRecord) error {
	if !a.Open() {
		return m.tell(r, fmt.Sprintf("%s is already resolved (%s).", a.Ref(), incident.FormatTime(a.Resolved)))
	}
	return m.resolve(r, a, r.User)
}

// inviteToIncident brings who acknowledged an alert into the incident
// declared from it.
func (m *Module) inviteToIncident(r *handlers.Request, a *incident.AlertRecord, user string) error {
	if a.Incident == 0 || user == "" {
		return nil
	}
	inc, err := r.Tx.Incident(a.Incident)
	if err != nil || !inc.Open() || inc.ChannelID == "" {
		return err
	}
	return r.Invite(inc.ChannelID, user)
}

// tell answers the person who clicked, privately, where they clicked.
func (m *Module) tell(r *handlers.Request, text string) error {
	if r.ResponseURL != "" {
		return r.Respond(r.User.ID, r.ResponseURL, text)
	}
	return r.Ephemeral(r.Channel, r.User.ID, text, "")
}
