package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

// SectionLimit is Slack's limit on a section block's text.
const SectionLimit = 3000

// Mention shows a user as a live mention, or "nobody".
func Mention(u incident.User) string {
	if u.ID == "" {
		return "nobody"
	}
	return "<@" + u.ID + ">"
}

// ChannelLink links to the incident's channel.
func ChannelLink(inc *incident.Incident) string {
	if inc.ChannelID == "" {
		return "#" + inc.ChannelName
	}
	return "<#" + inc.ChannelID + ">"
}

// summaryBlocks is the pinned summary message: what anyone joining the
// channel needs first. It is rebuilt from current state on every change.
func (h *Handlers) summaryBlocks(inc *incident.Incident) (string, []slack.Block) {
	title := Safe(inc.Title)
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		Clip(inc.Ref()+": "+PlainSafe(incident.Markdown(inc.Title, nil)), 150), false, false))
	status := inc.Status.Title()
	if !inc.Open() {
		status = ":white_check_mark: Resolved " + incident.FormatTime(inc.Times.Resolved)
	}
	fields := []*slack.TextBlockObject{
		Md("*Severity*\n" + inc.Severity.Label() + " — " + inc.Severity.Meaning()),
		Md("*Status*\n" + status),
		Md("*Lead*\n" + Mention(inc.Lead())),
		Md("*Declared*\n" + incident.FormatTime(inc.Times.Declared) + " by " + Mention(inc.DeclaredBy)),
	}
	if u, ok := inc.Roles[incident.RoleComms]; ok {
		fields = append(fields, Md("*Comms*\n"+Mention(u)))
	}
	if u, ok := inc.Roles[incident.RoleScribe]; ok {
		fields = append(fields, Md("*Scribe*\n"+Mention(u)))
	}
	blocks := []slack.Block{header, slack.NewSectionBlock(nil, fields, nil)}
	if inc.Description != "" {
		blocks = append(blocks, slack.NewSectionBlock(Md(Clip(Safe(inc.Description), SectionLimit)), nil, nil))
	}
	if len(inc.Services) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", Md("Affected: "+Safe(strings.Join(inc.Services, ", ")))))
	}
	blocks = append(blocks, slack.NewContextBlock("", Md(fmt.Sprintf(
		"React with :%s: to add a message to the timeline · `%s help` for commands", h.cfg.TimelineEmojis[0], h.cfg.Command))))
	fallback := fmt.Sprintf("%s (%s, %s): %s", inc.Ref(), inc.Severity.Label(), inc.Status, title)
	return fallback, blocks
}

// Md is a Markdown text object.
func Md(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

// topic is the channel topic: the one line visible in the channel header.
func topic(inc *incident.Incident) string {
	status := inc.Status.Title()
	return Clip(fmt.Sprintf("%s %s | %s | Lead: %s | %s", inc.Ref(), inc.Severity.Label(), status,
		Mention(inc.Lead()), Safe(inc.Title)), 250)
}

func announceDeclared(inc *incident.Incident) string {
	return fmt.Sprintf(":rotating_light: *%s declared* — *%s*: %s\nLead: %s · Join %s",
		inc.Ref(), inc.Severity.Label(), Safe(Clip(inc.Title, 300)), Mention(inc.Lead()), ChannelLink(inc))
}

func announceResolved(inc *incident.Incident, now time.Time) string {
	return fmt.Sprintf(":white_check_mark: *%s resolved* after %s — %s (%s)",
		inc.Ref(), inc.Times.Duration(now).String(), Safe(Clip(inc.Title, 300)), ChannelLink(inc))
}

func resolvedMessage(inc *incident.Incident, by incident.User, now time.Time) string {
	text := fmt.Sprintf(":white_check_mark: %s resolved %s by %s. Duration: %s.",
		inc.Ref(), incident.FormatTime(inc.Times.Resolved), Mention(by), inc.Times.Duration(now).String())
	if inc.ResolutionNote != "" {
		text += "\n>" + strings.ReplaceAll(Safe(Clip(inc.ResolutionNote, SectionLimit)), "\n", "\n>")
	}
	return text + "\nThe postmortem draft follows; edit it and share it when it is ready."
}
