package incident

import (
	"regexp"
	"strings"
)

// User text in the postmortem draft: Markdown (which Defuses), then escaped
// so that it can never change the structure of the document around it. It
// can start no heading, block quote, list, table row, code fence, HTML block
// or link definition, and a text of several lines stays inside the list
// item or paragraph it was put in. The escapes are backslashes before ASCII
// punctuation, which GitHub and every CommonMark renderer show as the
// character alone, so the text reads as it was typed; ordinary text (no
// such character where it would matter) comes out unchanged.

var (
	// punctEscaped is a backslash the user typed before punctuation, which
	// would otherwise escape that character (or undo an escape added here).
	punctEscaped = regexp.MustCompile(`\\([!-/:-@\[-` + "`" + `{-~])`)
	// htmlStart is "<" where it would open HTML: a tag, a comment, a
	// declaration or a processing instruction.
	htmlStart = regexp.MustCompile(`<([A-Za-z/!?])`)
	// orderedMarker is an ordered list marker at the start of a line.
	orderedMarker = regexp.MustCompile(`^([0-9]{1,9})([.)])([ \t]|$)`)
	// linkDefinition is "[label]:" at the start of a line, which would
	// define a link (and vanish) instead of showing.
	linkDefinition = regexp.MustCompile(`^\[[^\]]*\]:`)
)

// draftText renders user text for the draft: names maps user ids to display
// names for mentions.
type draftText struct{ names map[string]string }

// line is user text inside one line of the draft: a heading, a table cell,
// a list item's first line, a link's label. Line breaks become spaces.
func (d draftText) line(s string) string {
	return escapeLine(d.escapeInline(strings.Join(strings.Fields(s), " ")))
}

// block is user text that may span lines: the body of a list item whose
// content starts indent columns in (its later lines are indented to stay in
// the item), or a paragraph (indent 0). Blank lines are kept.
func (d draftText) block(s string, indent int) string {
	lines := strings.Split(d.escapeInline(strings.TrimRight(s, " \t\n")), "\n")
	pad := strings.Repeat(" ", indent)
	for i, l := range lines {
		l = escapeLine(strings.TrimRight(l, " \t\r"))
		if i > 0 && l != "" {
			l = pad + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// label is user text shown as a link's label: a line that cannot close the
// brackets around it.
func (d draftText) label(s string) string {
	return strings.NewReplacer("[", `\[`, "]", `\]`).Replace(d.line(s))
}

// escapeInline turns Slack text into the draft's Markdown and escapes what
// matters anywhere in a line: a typed backslash before punctuation, every
// "|" (a table cell's end, or a table row of its own) and "<" opening HTML.
func (d draftText) escapeInline(s string) string {
	s = punctEscaped.ReplaceAllString(Markdown(s, d.names), `\\$1`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return htmlStart.ReplaceAllString(s, `\<$1`)
}

// escapeLine escapes what would start a block at the start of one line (its
// indentation kept): "#" (heading), ">" (quote), "-", "+" or "*" followed by
// a space (list item), "1." or "1)" (ordered list), a line of "-", "=", "*"
// or "_" (setext heading underline or thematic break), ``` or ~~~ (code
// fence), and "[label]:" (link definition).
func escapeLine(l string) string {
	body := strings.TrimLeft(l, " \t")
	lead := l[:len(l)-len(body)]
	if body == "" {
		return l
	}
	switch c := body[0]; {
	case c == '#' || c == '>':
		return lead + `\` + body
	case (c == '-' || c == '+' || c == '*') && (len(body) == 1 || body[1] == ' ' || body[1] == '\t'):
		return lead + `\` + body
	case (c == '-' || c == '=' || c == '*' || c == '_') && strings.Trim(body, string(c)+" \t") == "":
		return lead + `\` + body
	case strings.HasPrefix(body, "```") || strings.HasPrefix(body, "~~~"):
		return lead + `\` + body
	case linkDefinition.MatchString(body):
		return lead + `\` + body
	}
	if m := orderedMarker.FindStringSubmatchIndex(body); m != nil {
		return lead + body[:m[3]] + `\` + body[m[3]:]
	}
	return l
}
