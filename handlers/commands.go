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
	cmds := map[string]commandFunc{
		"help":     h.help,
		"declare":  h.declareCommand,
		"resolve":  h.resolveCommand,
		"reopen":   h.reopenCommand,
		"status":   h.statusCommand,
		"severity": h.severityCommand,
		"lead":     h.roleCommand(incident.RoleLead),
		"comms":    h.roleCommand(incident.RoleComms),
		"scribe":   h.roleCommand(incident.RoleScribe),
		"started":  h.keyTimeCommand(incident.KeyStarted),
		"detected": h.keyTimeCommand(incident.KeyDetected),
		"note":     h.noteCommand,
		"timeline": h.timelineCommand,
		"list":     h.listCommand,
	}
	// Each capability adds its own commands, from its own file.
	for _, more := range []map[string]commandFunc{h.pagingCommands(), h.communicationCommands()} {
		for name, fn := range more {
			cmds[name] = fn
		}
	}
	return cmds
}

// slash handles /incident. Every outcome gets an answer: a bad command is
// told what was wrong and what to type instead.
func (h *Handlers) slash(tx *store.Tx, sc slack.SlashCommand) (any, error) {
	r := &request{tx: tx, now: h.now(), user: incident.User{ID: sc.UserID, Name: sc.UserName},
		channel: sc.ChannelID, triggerID: sc.TriggerID, responseURL: sc.ResponseURL}
	reply, err := h.runCommand(r, sc.Text)
	if err != nil || reply == "" {
		return nil, err
	}
	return ephemeral(reply), nil
}

// runCommand runs one command typed as a slash command or a mention and
// returns the answer for the user. Only internal failures are errors.
func (h *Handlers) runCommand(r *request, text string) (string, error) {
	cmd := ParseCommand(text)
	if strings.TrimSpace(text) == "" {
		// Bare "/incident" in an incident channel shows that incident.
		if inc, err := r.incidentIn(); err == nil {
			return summaryText(inc, r.now), nil
		}
	}
	run, ok := h.commands()[cmd.Name]
	if !ok {
		return fmt.Sprintf(":warning: I don't know the command %q.\n\n%s", safe(clip(cmd.Name, 40)), h.usage()), nil
	}
	reply, err := run(r, cmd.Args)
	switch {
	case err != nil && userFacing(err):
		return h.userMessage(err), nil
	case err != nil:
		return "", fmt.Errorf("%s %s: %w", h.cfg.Command, cmd.Name, err)
	}
	return reply, nil
}

func (h *Handlers) help(*request, string) (string, error) { return h.usage(), nil }

func (h *Handlers) usage() string {
	c := h.cfg.Command
	lines := []string{
		"*incidentbot* — run an incident from Slack.",
		fmt.Sprintf("`%s declare [sev1-4] [--private] <title>` open an incident (no title: a form)", c),
		fmt.Sprintf("`%s list` open incidents", c),
		"In an incident channel:",
		fmt.Sprintf("`%s` this incident's summary · `%s status [investigating|identified|monitoring]` show or change the status", c, c),
		fmt.Sprintf("`%s severity sev1-4` · `%s lead|comms|scribe @someone` assign a role", c, c),
		fmt.Sprintf("`%s note [--at 10:28] <text>` add to the timeline (times in UTC) · `%s timeline [page]` show it", c, c),
		fmt.Sprintf("`%s started 10:18` · `%s detected 10:28` when impact began and was noticed", c, c),
		fmt.Sprintf("`%s resolve [note]` resolve and get the postmortem draft · `%s reopen`", c, c),
		h.captureHelp(),
		"Where slash commands do not work (threads), mention me: `@incidentbot note …`.",
		"Severities: " + severityHelp(),
	}
	return strings.Join(lines, "\n")
}

func (h *Handlers) captureHelp() string {
	text := fmt.Sprintf("React with :%s: to a message to add it to the timeline", h.cfg.TimelineEmojis[0])
	if h.cfg.TimelinePrefix != "" {
		text += fmt.Sprintf(", or start a message with `%s`", h.cfg.TimelinePrefix)
	}
	return text + "."
}

func severityHelp() string {
	var parts []string
	for _, s := range incident.Severities {
		parts = append(parts, fmt.Sprintf("*%s* %s", s, s.Meaning()))
	}
	return strings.Join(parts, "; ")
}

// changeable returns the channel's incident if the user may change it.
// Running a command in the channel already means being one of its members
// (Slack only lets members post there); INCIDENTBOT_RESPONDERS narrows it.
func (h *Handlers) changeable(r *request) (*incident.Incident, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return nil, err
	}
	allowed := h.responders.Load()
	if allowed == nil {
		return inc, nil
	}
	var who []string
	for _, id := range *allowed {
		if id == r.user.ID {
			return inc, nil
		}
		if len(who) < 10 {
			who = append(who, "<@"+id+">")
		}
	}
	return nil, incident.Problemf(incident.ErrForbidden,
		"only the responders set by the operator (INCIDENTBOT_RESPONDERS) may change incidents: %s; ask one of them",
		strings.Join(who, ", "))
}
