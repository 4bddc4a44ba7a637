package handlers

import "github.com/slack-go/slack"

// updateActionPrefix starts the action ids of status-update preview buttons.
const updateActionPrefix = "update_"

// communicationCommands are the customer-communication and postmortem
// commands (update, postmortem, followup, impact).
func (h *Handlers) communicationCommands() map[string]commandFunc { return nil }

// communicationRunners are their job runners.
func (h *Handlers) communicationRunners() map[string]runFunc { return nil }

// updateAction handles the Post / Edit / Cancel buttons of an update preview.
func (h *Handlers) updateAction(r *request, cb slack.InteractionCallback, a *slack.BlockAction) error {
	return nil
}

// communicationView handles the submission of the edit-update modal.
func (h *Handlers) communicationView(r *request, cb slack.InteractionCallback) (any, error) {
	return nil, nil
}
