package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

// sectionLimit is Slack's limit on a section block's text.
const sectionLimit = 3000

func mention(u incident.User) string {
	if u.ID == "" {
		return "nobody"
	}
	return "<@" + u.ID + ">"
}

func channelLink(inc *incident.Incident) string {
	if inc.ChannelID == "" {
		return "#" + inc.ChannelName
	}
	return "<#" + inc.ChannelID + ">"
}

// summaryBlocks is the pinned summary message: what anyone joining the
// channel needs first. It is rebuilt from current state on every change.
func summaryBlocks(inc *incident.Incident, command string) (string, []slack.Block) {
	title := safe(inc.Title)
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		clip(inc.Ref()+": "+plainSafe(incident.Markdown(inc.Title, nil)), 150), false, false))
	status := inc.Status.Title()
	if !inc.Open() {
		status = ":white_check_mark: Resolved " + incident.FormatTime(inc.Times.Resolved)
	}
	fields := []*slack.TextBlockObject{
		md("*Severity*\n" + inc.Severity.Label() + " — " + inc.Severity.Meaning()),
		md("*Status*\n" + status),
		md("*Lead*\n" + mention(inc.Lead())),
		md("*Declared*\n" + incident.FormatTime(inc.Times.Declared) + " by " + mention(inc.DeclaredBy)),
	}
	if u, ok := inc.Roles[incident.RoleComms]; ok {
		fields = append(fields, md("*Comms*\n"+mention(u)))
	}
	if u, ok := inc.Roles[incident.RoleScribe]; ok {
		fields = append(fields, md("*Scribe*\n"+mention(u)))
	}
	blocks := []slack.Block{header, slack.NewSectionBlock(nil, fields, nil)}
	if inc.Description != "" {
		blocks = append(blocks, slack.NewSectionBlock(md(clip(safe(inc.Description), sectionLimit)), nil, nil))
	}
	if len(inc.Services) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", md("Affected: "+safe(strings.Join(inc.Services, ", ")))))
	}
	blocks = append(blocks, slack.NewContextBlock("", md(fmt.Sprintf(
		"React with :pushpin: to add a message to the timeline · `%s help` for commands", command))))
	fallback := fmt.Sprintf("%s (%s, %s): %s", inc.Ref(), inc.Severity.Label(), inc.Status, title)
	return fallback, blocks
}

func md(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

// topic is the channel topic: the one line visible in the channel header.
func topic(inc *incident.Incident) string {
	status := inc.Status.Title()
	return clip(fmt.Sprintf("%s %s | %s | Lead: %s | %s", inc.Ref(), inc.Severity.Label(), status,
		mention(inc.Lead()), safe(inc.Title)), 250)
}

func announceDeclared(inc *incident.Incident) string {
	return fmt.Sprintf(":rotating_light: *%s declared* — *%s*: %s\nLead: %s · Join %s",
		inc.Ref(), inc.Severity.Label(), safe(clip(inc.Title, 300)), mention(inc.Lead()), channelLink(inc))
}

func announceResolved(inc *incident.Incident, now time.Time) string {
	return fmt.Sprintf(":white_check_mark: *%s resolved* after %s — %s (%s)",
		inc.Ref(), inc.Times.Duration(now).String(), safe(clip(inc.Title, 300)), channelLink(inc))
}

func resolvedMessage(inc *incident.Incident, by incident.User, now time.Time) string {
	text := fmt.Sprintf(":white_check_mark: %s resolved %s by %s. Duration: %s.",
		inc.Ref(), incident.FormatTime(inc.Times.Resolved), mention(by), inc.Times.Duration(now).String())
	if inc.ResolutionNote != "" {
		text += "\n>" + strings.ReplaceAll(safe(clip(inc.ResolutionNote, sectionLimit)), "\n", "\n>")
	}
	return text + "\nThe postmortem draft follows; edit it and share it when it is ready."
}
