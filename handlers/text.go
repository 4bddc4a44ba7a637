package handlers

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/incident"
)

// Text in incidentbot is kept in Slack's own format, as Slack sends it:
// "&", "<" and ">" escaped as entities, and <…> for mentions and links.
// Stored text is never changed; it is made safe when it is posted.

// wordJoiner is an invisible character that stops "@here" being read as a
// mention while looking the same to a reader.
const wordJoiner = "\u2060"

var (
	angled        = regexp.MustCompile(`<([^<>]*)>`)
	plainSpecials = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)
)

// Safe makes Slack-formatted text safe to post: special mentions
// (<!channel>, <!here>, <!everyone>, <!subteam^…>, and their plain "@here"
// forms) are shown as text and never notify anyone. User and channel
// mentions and links stay live.
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
			name, label, ok := strings.Cut(inner[1:], "|")
			if !ok || label == "" {
				label = "@" + strings.TrimPrefix(name, "subteam^")
			}
			return "@" + wordJoiner + strings.TrimPrefix(label, "@")
		}
		return "&lt;" + inner + "&gt;"
	})
	// A "<!" left over sits in nested or unbalanced brackets
	// ("<!here|<@U1>>"), which Slack may still read as a mention: show it
	// as text.
	text = strings.ReplaceAll(text, "<!", "&lt;!")
	return plainSpecials.ReplaceAllString(text, "@"+wordJoiner+"$1")
}

// PlainSafe is safe for plain text (a header block), which has no <…>
// markup: only the bare @here forms need defusing.
func PlainSafe(text string) string {
	return plainSpecials.ReplaceAllString(text, "@"+wordJoiner+"$1")
}

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
