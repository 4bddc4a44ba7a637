package incident

import (
	"regexp"
	"strings"
)

var slackAngled = regexp.MustCompile(`<([^<>]*)>`)

// Markdown turns Slack-formatted text into Markdown for documents:
// <@U1|ana> → @ana (or the name names knows for U1), <#C1|ops> → #ops,
// <https://x|label> → [label](https://x), <!here> → @here, and the
// entities &amp; &lt; &gt; back into & < >.
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
			if hasLabel && label != "" {
				return label
			}
			return "@" + strings.TrimPrefix(target[1:], "subteam^")
		case hasLabel && label != "":
			return "[" + label + "](" + target + ")"
		default:
			return target
		}
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(text)
}
