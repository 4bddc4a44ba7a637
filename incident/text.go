package incident

import (
	"regexp"
	"strings"
)

// Text in incidentbot is kept as Slack sends it and never changed; it is
// made safe on its way out, by one function per kind of output, all built
// on Defuse:
//
//   - Slack mrkdwn (messages, ephemerals, acks, topics): handlers.Safe;
//   - Slack plain_text (headers, button and option labels): handlers.PlainSafe;
//   - Markdown documents (the postmortem draft): Markdown, then the draft's
//     own escaping of block syntax (see postmortem_text.go).

// WordJoiner is an invisible character that stops "@here" being read as a
// mention while looking the same to a reader.
const WordJoiner = "\u2060"

var (
	slackAngled   = regexp.MustCompile(`<([^<>]*)>`)
	plainSpecials = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)
	// bidiControls open a direction (embeddings, overrides, isolates) or
	// close one: left in user text they reverse or reorder whatever is
	// shown after it. The marks (U+200E, U+200F, U+061C) open nothing and
	// stay: right-to-left writers use them.
	bidiControls = regexp.MustCompile("[\u202a-\u202e\u2066-\u2069]")
)

// Defuse is the one sanitiser under every output of user text, whatever
// its format: the plain special mentions "@channel", "@here" and
// "@everyone" are broken with a word joiner (they look the same and notify
// nobody), and the bidi controls that open or close a direction are
// dropped, so nothing after the text renders reversed. It changes nothing
// else: ordinary text comes out byte for byte.
func Defuse(text string) string {
	text = plainSpecials.ReplaceAllString(text, "@"+WordJoiner+"$1")
	return bidiControls.ReplaceAllString(text, "")
}

// SpecialMention shows the inside of a Slack special mention (the "!here",
// "!channel|@channel", "!subteam^S1|@oncall" of <!…>) as text that
// notifies nobody: "@", a word joiner, and its label or name.
func SpecialMention(inner string) string {
	name, label, ok := strings.Cut(strings.TrimPrefix(inner, "!"), "|")
	if !ok || label == "" {
		label = strings.TrimPrefix(name, "subteam^")
	}
	return "@" + WordJoiner + strings.TrimPrefix(label, "@")
}

// Markdown turns Slack-formatted text into readable text, Defused, for
// documents and places without Slack markup: <@U1|ana> → @ana (or the name
// names knows for U1), <#C1|ops> → #ops, <https://x|label> →
// [label](https://x), <!here> → @here (broken, as SpecialMention does),
// and the entities &amp; &lt; &gt; back into & < >.
func Markdown(text string, names map[string]string) string {
	text = slackAngled.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			id := target[1:]
			if n := names[id]; n != "" {
				return "@" + n
			}
			if hasLabel && label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return "@" + id
		case strings.HasPrefix(target, "#"):
			if hasLabel && label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			return SpecialMention(inner)
		case hasLabel && label != "":
			return "[" + label + "](" + target + ")"
		default:
			return target
		}
	})
	return Defuse(strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(text))
}
