package incidents

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// summaryBlocks is the pinned summary message: what anyone joining the
// channel needs first. It is rebuilt from current state on every change.
func (m *Module) summaryBlocks(inc *incident.Incident) (string, []slack.Block) {
	title := handlers.Safe(inc.Title)
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		handlers.Clip(inc.Ref()+": "+handlers.PlainSafe(inc.Title), 150), false, false))
	status := inc.Status.Title()
	if !inc.Open() {
		status = ":white_check_mark: Resolved " + incident.FormatTime(inc.Times.Resolved)
	}
	fields := []*slack.TextBlockObject{
		handlers.Md("*Severity*\n" + inc.Severity.Label() + " — " + inc.Severity.Meaning()),
		handlers.Md("*Status*\n" + status),
		handlers.Md("*Lead*\n" + handlers.Mention(inc.Lead())),
		handlers.Md("*Declared*\n" + incident.FormatTime(inc.Times.Declared) + " by " + handlers.Mention(inc.DeclaredBy)),
	}
	if u, ok := inc.Roles[incident.RoleComms]; ok {
		fields = append(fields, handlers.Md("*Comms*\n"+handlers.Mention(u)))
	}
	if u, ok := inc.Roles[incident.RoleScribe]; ok {
		fields = append(fields, handlers.Md("*Scribe*\n"+handlers.Mention(u)))
	}
	blocks := []slack.Block{header, slack.NewSectionBlock(nil, fields, nil)}
	if inc.Description != "" {
		blocks = append(blocks, slack.NewSectionBlock(handlers.Md(handlers.Clip(handlers.Safe(inc.Description), handlers.SectionLimit)), nil, nil))
	}
	if len(inc.Services) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", handlers.Md(handlers.Clip("Affected: "+handlers.Safe(strings.Join(inc.Services, ", ")), handlers.SectionLimit))))
	}
	blocks = append(blocks, slack.NewContextBlock("", handlers.Md(fmt.Sprintf(
		"React with :%s: to add a message to the timeline · `%s help` for commands", m.h.Config().TimelineEmojis[0], m.command()))))
	fallback := fmt.Sprintf("%s (%s, %s): %s", inc.Ref(), inc.Severity.Label(), inc.Status, title)
	return fallback, blocks
}

// topic is the channel topic: the one line visible in the channel header.
func topic(inc *incident.Incident) string {
	status := inc.Status.Title()
	return handlers.Clip(fmt.Sprintf("%s %s | %s | Lead: %s | %s", inc.Ref(), inc.Severity.Label(), status,
		handlers.Mention(inc.Lead()), handlers.Safe(inc.Title)), 250)
}

func announceDeclared(inc *incident.Incident) string {
	return fmt.Sprintf(":rotating_light: *%s declared* — *%s*: %s\nLead: %s · Join %s",
		inc.Ref(), inc.Severity.Label(), handlers.Safe(handlers.Clip(inc.Title, 300)), handlers.Mention(inc.Lead()), handlers.ChannelLink(inc))
}

func announceResolved(inc *incident.Incident, now time.Time) string {
	return fmt.Sprintf(":white_check_mark: *%s resolved* after %s — %s (%s)",
		inc.Ref(), inc.Times.Duration(now).String(), handlers.Safe(handlers.Clip(inc.Title, 300)), handlers.ChannelLink(inc))
}

func resolvedMessage(inc *incident.Incident, by incident.User, now time.Time) string {
	text := fmt.Sprintf(":white_check_mark: %s resolved %s by %s. Duration: %s.",
		inc.Ref(), incident.FormatTime(inc.Times.Resolved), handlers.Mention(by), inc.Times.Duration(now).String())
	if inc.ResolutionNote != "" {
		text += "\n>" + strings.ReplaceAll(handlers.Safe(handlers.Clip(inc.ResolutionNote, handlers.SectionLimit)), "\n", "\n>")
	}
	return text + "\nThe postmortem draft follows; edit it and share it when it is ready."
}
