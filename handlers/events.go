package handlers

import (
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// event handles an Events API event. Events the bot does not act on are
// simply recorded as seen.
func (h *Handlers) event(tx *store.Tx, ev slackevents.EventsAPIEvent) error {
	_ = tx
	_ = ev.InnerEvent
	return nil
}

// interaction handles buttons and form submissions.
func (h *Handlers) interaction(tx *store.Tx, cb slack.InteractionCallback) (any, error) {
	r := &request{tx: tx, now: h.now(), user: userOf(cb), channel: cb.Channel.ID,
		triggerID: cb.TriggerID, responseURL: cb.ResponseURL}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		case declareCallback:
			return h.submitDeclare(r, cb.View)
		}
	}
	return nil, nil
}

func userOf(cb slack.InteractionCallback) incident.User {
	name := cb.User.Name
	if name == "" {
		name = cb.User.Username
	}
	return incident.User{ID: cb.User.ID, Name: name}
}
