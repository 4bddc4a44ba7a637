package handlers

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/incident"
)

// Text in incidentbot is kept in Slack's own format, as Slack sends it:
// "&", "<" and ">" escaped as entities, and <…> for mentions and links.
// Stored text is never changed; it is made safe when it is shown, by one
// function per kind of output, both built on incident.Defuse (the draft's
// is in incident):
//
//   - Safe for Slack mrkdwn: messages, ephemerals, acks, the topic, the
//     text of section and context blocks;
//   - PlainSafe for Slack plain_text: header blocks and labels.

var angled = regexp.MustCompile(`<([^<>]*)>`)

// Safe makes Slack-formatted text safe to post as mrkdwn: special mentions
// (<!channel>, <!here>, <!everyone>, <!subteam^…>, and their plain "@here"
// forms) are shown as text and never notify anyone, and the bidi controls
// that would reverse what follows are dropped (incident.Defuse). User and
// channel mentions and links stay live; any other <…> is shown as text.
func Safe(text string) string {
	text = angled.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[1 : len(m)-1]
		switch {
		case strings.HasPrefix(inner, "@U"), strings.HasPrefix(inner, "@W"), strings.HasPrefix(inner, "@B"),
			strings.HasPrefix(inner, "#C"), strings.HasPrefix(inner, "#G"),
			strings.HasPrefix(inner, "http://"), strings.HasPrefix(inner, "https://"), strings.HasPrefix(inner, "mailto:"):
			return m
		case strings.HasPrefix(inner, "!"):
			// <!here>, <!channel|@channel>, <!subteam^S1|@oncall>: show the label.
			return incident.SpecialMention(inner)
		}
		return "&lt;" + inner + "&gt;"
	})
	// A "<!" left over sits in nested or unbalanced brackets
	// ("<!here|<@U1>>"), which Slack may still read as a mention: show it
	// as text.
	return incident.Defuse(strings.ReplaceAll(text, "<!", "&lt;!"))
}

// PlainSafe makes Slack-formatted text safe for a plain_text object (a
// header block, a label), which Slack shows literally: mentions and links
// become readable text (@name, #channel), entities become the characters
// they stand for, and the result is Defused.
func PlainSafe(text string) string { return incident.Markdown(text, nil) }

// MentionedUsers finds the users mentioned in Slack-formatted text, with the
// name Slack put in the mention (<@U123|bob>) when it did.
func MentionedUsers(text string) []incident.User {
	var users []incident.User
	seen := map[string]bool{}
	for _, m := range userMention.FindAllStringSubmatch(text, -1) {
		id := m[1] + m[2]
		if m[2] != "" && !strings.ContainsAny(id, "0123456789") || seen[id] {
			continue
		}
		seen[id] = true
		name := ""
		if m[1] != "" {
			if _, n, ok := strings.Cut(strings.TrimSuffix(m[0], ">"), "|"); ok {
				name = n
			}
		}
		users = append(users, incident.User{ID: id, Name: name})
	}
	return users
}

// EscapeRaw turns raw text (typed into a modal, which Slack does not
// escape) into Slack's format, so it is stored like everything else.
func EscapeRaw(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

// Clip shortens text to at most n characters for places with a limit
// (Slack's section text is 3,000); the stored text stays whole.
func Clip(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	if n <= 0 {
		return ""
	}
	r := []rune(text)
	return string(r[:n-1]) + "…"
}

// userMention matches <@U123> and <@U123|name>, or a bare id typed by hand
// (U or W, then capitals and digits with at least one digit, so that a
// shouted "UPGRADED" is not taken for an id).
var userMention = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|\b([UW][A-Z0-9]{7,11})\b`)

// UserIDs finds the users mentioned in Slack-formatted text, in order of
// appearance, without repeats.
func UserIDs(text string) []string {
	var ids []string
	for _, u := range MentionedUsers(text) {
		ids = append(ids, u.ID)
	}
	return ids
}

// Quote shows text as a Slack block quote, line by line.
func Quote(text string) string { return ">" + strings.ReplaceAll(text, "\n", "\n>") }
