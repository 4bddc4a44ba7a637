package handlers

import "github.com/slack-go/slack"

// pagingActionPrefix starts the action ids of page buttons.
const pagingActionPrefix = "page_"

// pagingCommands are the paging commands (page, oncall).
func (h *Handlers) pagingCommands() map[string]commandFunc { return nil }

// pagingRunners are the paging job runners.
func (h *Handlers) pagingRunners() map[string]runFunc { return nil }

// pagingAction handles a click on a page DM's buttons.
func (h *Handlers) pagingAction(r *request, cb slack.InteractionCallback, a *slack.BlockAction) error {
	return nil
}
