package incident

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The escaping as it was written first, with regular expressions and
// replacers: the byte scanners in text.go and postmortem_text.go must give
// exactly what these give, for every input.

var (
	refSlackAngled    = regexp.MustCompile(`<([^<>]*)>`)
	refPlainSpecials  = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)
	refBidiControls   = regexp.MustCompile("[\u202a-\u202e\u2066-\u2069]")
	refPunctEscaped   = regexp.MustCompile(`\\([!-/:-@\[-` + "`" + `{-~])`)
	refHTMLStart      = regexp.MustCompile(`<([A-Za-z/!?])`)
	refOrderedMarker  = regexp.MustCompile(`^([0-9]{1,9})([.)])([ \t]|$)`)
	refLinkDefinition = regexp.MustCompile(`^\[[^\]]*\]:`)
)

// refDefuse drops the bidi controls first, so one hidden inside a mention
// ("@he\u202ere") cannot keep the mention whole.
func refDefuse(text string) string {
	text = refBidiControls.ReplaceAllString(text, "")
	return refPlainSpecials.ReplaceAllString(text, "@"+WordJoiner+"$1")
}

func refMarkdown(text string, names map[string]string) string {
	text = refSlackAngled.ReplaceAllStringFunc(text, func(m string) string {
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
	return refDefuse(strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(text))
}

func refRawToSlack(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

type refDraft struct{ names map[string]string }

func (d refDraft) line(s string) string {
	return refEscapeLine(d.escapeInline(strings.Join(strings.Fields(s), " ")))
}

func (d refDraft) block(s string, indent int) string {
	lines := strings.Split(d.escapeInline(strings.TrimRight(s, " \t\n")), "\n")
	pad := strings.Repeat(" ", indent)
	for i, l := range lines {
		l = refEscapeLine(strings.TrimRight(l, " \t\r"))
		if i > 0 && l != "" {
			l = pad + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func (d refDraft) label(s string) string {
	return strings.NewReplacer("[", `\[`, "]", `\]`).Replace(d.line(s))
}

func (d refDraft) escapeInline(s string) string {
	s = refPunctEscaped.ReplaceAllString(refMarkdown(s, d.names), `\\$1`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return refHTMLStart.ReplaceAllString(s, `\<$1`)
}

func refEscapeLine(l string) string {
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
	case refLinkDefinition.MatchString(body):
		return lead + `\` + body
	}
	if m := refOrderedMarker.FindStringSubmatchIndex(body); m != nil {
		return lead + body[:m[3]] + `\` + body[m[3]:]
	}
	return l
}

// refFragments are what random texts are made of: every form the escaping
// looks at, the bytes next to them that change the answer, and words.
var refFragments = []string{
	"<", ">", "|", "@", "#", "!", "&", ";", "\\", "[", "]", ":", "(", ")", ".", "^", "-", "+", "*", "=", "_", "`", "~", "/", "?",
	"<@U1>", "<@U2|bo>", "<@U9|@x>", "<#C1|ops>", "<!here>", "<!subteam^S1|@oncall>", "<!subteam^S2>", "<https://x|l>",
	"&amp;", "&lt;", "&gt;", "&amp;lt;", "lt;", "amp", "@here", "@Channel", "@EVERYONE", "@everyone_", "@heretofore", "@chan",
	"here", "channel", "everyone", "\u202e", "\u2066", "\u2069", "\u202a", "\u200f", "\u2060", "\u2065", "\u202f",
	"# ", "> ", "- ", "* ", "1. ", "12) ", "123456789.", "1234567890)", "```", "~~~", "[x]: ", "  ", " ", "\t", "\n", "\r", "\v", "\f",
	"\u00a0", "\u3000", "\u0085", "\u2028", "é", "東京", "\xff", "\xe2\x80", "\xe2", "a", "Z", "0", "9", "word",
}

func refText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range r.IntN(n + 1) {
		b.WriteString(refFragments[r.IntN(len(refFragments))])
	}
	return b.String()
}

var refNames = map[string]string{"U1": "Ana Lima", "U2": "a &amp; <b>", "U9": "here"}

// checkAgainstReference compares every escaping function with its reference
// on one text.
func checkAgainstReference(t *testing.T, s string) {
	t.Helper()
	d, ref := draftText{names: refNames}, refDraft{names: refNames}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s(%q) = %q, want %q", what, s, got, want)
		}
	}
	check("Defuse", Defuse(s), refDefuse(s))
	check("Markdown", Markdown(s, refNames), refMarkdown(s, refNames))
	check("Markdown without names", Markdown(s, nil), refMarkdown(s, nil))
	check("rawToSlack", rawToSlack(s), refRawToSlack(s))
	check("line", d.line(s), ref.line(s))
	check("label", d.label(s), ref.label(s))
	for _, indent := range []int{0, listIndent, numberedIndent} {
		check("block", d.block(s, indent), ref.block(s, indent))
	}
	check("escapeLine", escapeLine(s), refEscapeLine(s))
}

// TestEscapingMatchesReference checks random texts (FuzzEscapingMatchesReference
// looks further: go test ./incident -run '^$' -fuzz EscapingMatchesReference).
func TestEscapingMatchesReference(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	r := rand.New(rand.NewPCG(14, 14))
	for range n {
		checkAgainstReference(t, refText(r, 12))
	}
}

func FuzzEscapingMatchesReference(f *testing.F) {
	for _, s := range refFragments {
		f.Add(s)
	}
	f.Add("Step 1: checked <https://grafana.example/d/1|the dashboard> &amp; the KV store")
	f.Fuzz(func(t *testing.T, s string) { checkAgainstReference(t, s) })
}
