package handlers

import (
	"regexp"
	"strings"
	"unicode/utf8"
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

// safe makes Slack-formatted text safe to post: special mentions
// (<!channel>, <!here>, <!everyone>, <!subteam^…>, and their plain "@here"
// forms) are shown as text and never notify anyone. User and channel
// mentions and links stay live.
func safe(text string) string {
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
	return plainSpecials.ReplaceAllString(text, "@"+wordJoiner+"$1")
}

// escapeRaw turns raw text (typed into a modal, which Slack does not
// escape) into Slack's format, so it is stored like everything else.
func escapeRaw(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

// clip shortens text to at most n characters for places with a limit
// (Slack's section text is 3,000); the stored text stays whole.
func clip(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return string(r[:n-1]) + "…"
}

// userIDs finds the users mentioned in Slack-formatted text (<@U123> or
// <@U123|name>), in order, without repeats. A bare "U123ABC" is accepted too,
// for people who type ids.
func userIDs(text string) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, m := range angled.FindAllStringSubmatch(text, -1) {
		inner := m[1]
		if strings.HasPrefix(inner, "@U") || strings.HasPrefix(inner, "@W") {
			id, _, _ := strings.Cut(inner[1:], "|")
			add(id)
		}
	}
	for _, w := range strings.Fields(angled.ReplaceAllString(text, " ")) {
		if looksLikeUserID(w) {
			add(w)
		}
	}
	return ids
}

func looksLikeUserID(w string) bool {
	if len(w) < 8 || len(w) > 12 || (w[0] != 'U' && w[0] != 'W') {
		return false
	}
	for _, r := range w[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
