package handlers

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// slash handles /incident. Every outcome gets an answer: a bad command is
// told what was wrong and what to type instead.
func (h *Handlers) slash(tx *store.Tx, sc slack.SlashCommand) (any, error) {
	r := &Request{Tx: tx, Now: h.now(), User: incident.User{ID: sc.UserID, Name: sc.UserName},
		Channel: sc.ChannelID, TriggerID: sc.TriggerID, ResponseURL: sc.ResponseURL, h: h}
	reply, err := h.runCommand(r, sc.Text)
	if err != nil || reply == "" {
		return nil, err
	}
	return h.answer(r, reply)
}

// runCommand runs one command typed as a slash command or a mention and
// returns the answer for the user. Only internal failures are errors.
func (h *Handlers) runCommand(r *Request, text string) (string, error) {
	cmd := ParseCommand(text)
	if strings.TrimSpace(text) == "" {
		// Bare "/incident" in an incident channel shows that incident, as
		// "/incident status" does.
		if status, ok := h.reg.commands["status"]; ok {
			if _, err := r.IncidentIn(); err == nil {
				cmd.Name = "status"
				return status.Run(r, "")
			}
		}
	}
	c, ok := h.reg.commands[cmd.Name]
	if !ok {
		return fmt.Sprintf(":warning: I don't know the command %q.\n\n%s", Safe(Clip(cmd.Name, 40)), h.usage()), nil
	}
	reply, err := c.Run(r, cmd.Args)
	switch {
	case err != nil && UserFacing(err):
		// An error may quote what the user typed ("--<!channel>" is not an
		// option): it is shown through Safe like every other user text.
		return Safe(h.UserMessage(err)), nil
	case err != nil:
		return "", fmt.Errorf("%s %s: %w", h.cfg.Command, cmd.Name, err)
	}
	return reply, nil
}

func (h *Handlers) help(*Request, string) (string, error) { return h.usage(), nil }

// usage is the help: every registered command with its usage, the global
// ones first, so a module's commands can never be missing from it.
func (h *Handlers) usage() string {
	c := h.cfg.Command
	lines := []string{"*incidentbot* — run an incident from Slack."}
	var global, local []string
	for _, cmd := range h.reg.Commands() {
		line := fmt.Sprintf("`%s %s` %s", c, cmd.Usage, cmd.Help)
		if cmd.Global {
			global = append(global, line)
		} else {
			local = append(local, line)
		}
	}
	lines = append(lines, global...)
	lines = append(lines, "In an incident channel:", fmt.Sprintf("`%s` this incident's summary", c))
	lines = append(lines, local...)
	lines = append(lines, h.CaptureHelp(),
		"Where slash commands do not work (threads), mention me: `@incidentbot note …`.",
		"Severities: "+SeverityHelp())
	return strings.Join(lines, "\n")
}

// CaptureHelp says how to put a message on the timeline, with the
// configured emoji and prefix.
func (h *Handlers) CaptureHelp() string {
	text := fmt.Sprintf("React with :%s: to a message to add it to the timeline", h.cfg.TimelineEmojis[0])
	if h.cfg.TimelinePrefix != "" {
		text += fmt.Sprintf(", or start a message with `%s`", h.cfg.TimelinePrefix)
	}
	return text + "."
}

// SeverityHelp lists the severities with their meanings, for help texts.
func SeverityHelp() string {
	var parts []string
	for _, s := range incident.Severities {
		parts = append(parts, fmt.Sprintf("*%s* %s", s, s.Meaning()))
	}
	return strings.Join(parts, "; ")
}
