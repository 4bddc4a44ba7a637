package handlers

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

// coreCommands are the commands of the incident itself.
func (h *Handlers) coreCommands() []Command {
	return []Command{
		{Name: "help", Usage: "help", Help: "this list", Global: true, Run: h.help},
		{Name: "declare", Usage: "declare [sev1-4] [--private] <title>", Help: "open an incident (no title: a form)", Global: true, Run: h.declareCommand},
		{Name: "list", Usage: "list", Help: "open incidents", Global: true, Run: h.listCommand},
		{Name: "status", Usage: "status [investigating|identified|monitoring]", Help: "show or change the status", Run: h.statusCommand},
		{Name: "severity", Usage: "severity sev1-4", Help: "change the severity", Run: h.severityCommand},
		{Name: "lead", Usage: "lead @someone", Help: "assign the incident lead", Run: h.roleCommand(incident.RoleLead)},
		{Name: "comms", Usage: "comms @someone", Help: "assign who writes to customers", Run: h.roleCommand(incident.RoleComms)},
		{Name: "scribe", Usage: "scribe @someone", Help: "assign who keeps the timeline", Run: h.roleCommand(incident.RoleScribe)},
		{Name: "started", Usage: "started 10:18", Help: "when impact began (UTC)", Run: h.keyTimeCommand(incident.KeyStarted)},
		{Name: "detected", Usage: "detected 10:28", Help: "when it was noticed (UTC)", Run: h.keyTimeCommand(incident.KeyDetected)},
		{Name: "resolve", Usage: "resolve [note]", Help: "resolve and get the postmortem draft", Run: h.resolveCommand},
		{Name: "reopen", Usage: "reopen", Help: "reopen a resolved incident", Run: h.reopenCommand},
		{Name: "postmortem", Usage: "postmortem", Help: "regenerate and upload the postmortem draft", Run: h.postmortemCommand},
	}
}

// slash handles /incident. Every outcome gets an answer: a bad command is
// told what was wrong and what to type instead.
func (h *Handlers) slash(tx *store.Tx, sc slack.SlashCommand) (any, error) {
	r := &Request{Tx: tx, Now: h.now(), User: incident.User{ID: sc.UserID, Name: sc.UserName},
		Channel: sc.ChannelID, TriggerID: sc.TriggerID, ResponseURL: sc.ResponseURL, h: h}
	reply, err := h.runCommand(r, sc.Text)
	if err != nil || reply == "" {
		return nil, err
	}
	return ephemeral(reply), nil
}

// runCommand runs one command typed as a slash command or a mention and
// returns the answer for the user. Only internal failures are errors.
func (h *Handlers) runCommand(r *Request, text string) (string, error) {
	cmd := ParseCommand(text)
	if strings.TrimSpace(text) == "" {
		// Bare "/incident" in an incident channel shows that incident.
		if inc, err := r.IncidentIn(); err == nil {
			return summaryText(inc, r.Now), nil
		}
	}
	c, ok := h.reg.commands[cmd.Name]
	if !ok {
		return fmt.Sprintf(":warning: I don't know the command %q.\n\n%s", Safe(Clip(cmd.Name, 40)), h.usage()), nil
	}
	reply, err := c.Run(r, cmd.Args)
	switch {
	case err != nil && UserFacing(err):
		return h.UserMessage(err), nil
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
		"Severities: "+severityHelp())
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

func severityHelp() string {
	var parts []string
	for _, s := range incident.Severities {
		parts = append(parts, fmt.Sprintf("*%s* %s", s, s.Meaning()))
	}
	return strings.Join(parts, "; ")
}

// postmortemCommand regenerates the draft and uploads it to the channel.
func (h *Handlers) postmortemCommand(r *Request, _ string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	if err := r.EnqueueThrottled(bot.ChannelLane(inc.ChannelID), jobUploadPostmortem, incidentJob{Incident: inc.ID}); err != nil {
		return "", err
	}
	return fmt.Sprintf(":memo: Generating the %s postmortem draft; it will appear in this channel as %s.",
		inc.Ref(), report.Filename(inc.ID)), nil
}
