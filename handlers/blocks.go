package handlers

import (
	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

// Block Kit pieces every module uses.

// Plain is a plain-text object. Its text is the bot's own; user text in it
// goes through PlainSafe first.
func Plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// FieldErrors is the ack that shows err next to a form field, as plain
// text (an error may quote what was typed).
func FieldErrors(block string, err error) map[string]any {
	return map[string]any{"response_action": "errors", "errors": map[string]string{block: PlainSafe(err.Error())}}
}

// SectionLimit is Slack's limit on a section block's text.
const SectionLimit = 3000

// Mention shows a user as a live mention; one with only a name (an alert
// route that declared an incident) by that name, else "nobody".
func Mention(u incident.User) string {
	if u.ID == "" {
		if u.Name != "" {
			return Safe(u.Name)
		}
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

// Md is a Markdown (mrkdwn) text object. Its text is the bot's own; user
// text in it goes through Safe first.
func Md(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}
