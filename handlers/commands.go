package handlers

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// commandFunc handles one subcommand and returns the text to answer the
// user with (ephemeral), or "" for no answer.
type commandFunc func(r *request, args string) (string, error)

func (h *Handlers) commands() map[string]commandFunc {
	return map[string]commandFunc{
		"help":    h.help,
		"declare": h.declareCommand,
		"resolve": h.resolveCommand,
	}
}

// slash handles /incident. Every outcome gets an answer: a bad command is
// told what was wrong and what to type instead.
func (h *Handlers) slash(tx *store.Tx, sc slack.SlashCommand) (any, error) {
	cmd := ParseCommand(sc.Text)
	r := &request{tx: tx, now: h.now(), user: incident.User{ID: sc.UserID, Name: sc.UserName},
		channel: sc.ChannelID, triggerID: sc.TriggerID, responseURL: sc.ResponseURL}
	run, ok := h.commands()[cmd.Name]
	if !ok {
		return ephemeral(fmt.Sprintf(":warning: I don't know the command %q.\n\n%s", safe(clip(cmd.Name, 40)), h.usage())), nil
	}
	reply, err := run(r, cmd.Args)
	switch {
	case err != nil && userFacing(err):
		return ephemeral(h.userMessage(err)), nil
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", h.cfg.Command, cmd.Name, err)
	case reply == "":
		return nil, nil
	}
	return ephemeral(reply), nil
}

func (h *Handlers) help(*request, string) (string, error) { return h.usage(), nil }

func (h *Handlers) usage() string {
	c := h.cfg.Command
	lines := []string{
		"*incidentbot* — run an incident from Slack.",
		fmt.Sprintf("`%s declare [sev1-4] [--private] <title>` open an incident (no title: a form)", c),
		fmt.Sprintf("`%s resolve [note]` resolve this channel's incident and get the postmortem draft", c),
		fmt.Sprintf("`%s help` this help", c),
		"Severities: " + severityHelp(),
		"React with :pushpin: to a message in an incident channel to add it to the timeline.",
	}
	return strings.Join(lines, "\n")
}

func severityHelp() string {
	var parts []string
	for _, s := range incident.Severities {
		parts = append(parts, fmt.Sprintf("*%s* %s", s, s.Meaning()))
	}
	return strings.Join(parts, "; ")
}
