package incident

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// User text in the postmortem draft: Markdown (which Defuses), then escaped
// so that it can never change the structure of the document around it. It
// can start no heading, block quote, list, table row, code fence, HTML block
// or link definition, and a text of several lines stays inside the list
// item or paragraph it was put in. The escapes are backslashes before ASCII
// punctuation, which GitHub and every CommonMark renderer show as the
// character alone, so the text reads as it was typed; ordinary text (no
// such character where it would matter) comes out unchanged.
//
// Every step appends bytes to a buffer the draft reuses (see scratch), so
// that a timeline of 100,000 entries is escaped without a string per entry;
// the string forms (line, block, label) return their input itself when
// nothing changed.

// draftText renders user text for the draft: names maps user ids to display
// names for mentions. sc is the buffers the texts of one draft share (one
// goroutine's); a draftText without them takes new ones per text.
type draftText struct {
	names map[string]string
	sc    *scratch
}

func (d draftText) buffers() *scratch {
	if d.sc != nil {
		return d.sc
	}
	return new(scratch)
}

// line is user text inside one line of the draft: a heading, a table cell,
// a list item's first line, a link's label. Line breaks become spaces.
func (d draftText) line(s string) string {
	sc := d.buffers()
	sc.out = d.appendLine(sc.out[:0], s)
	return sameOr(s, sc.out)
}

// block is user text that may span lines: the body of a list item whose
// content starts indent columns in (its later lines are indented to stay in
// the item), or a paragraph (indent 0). Blank lines are kept.
func (d draftText) block(s string, indent int) string {
	sc := d.buffers()
	sc.out = d.appendBlock(sc.out[:0], s, indent)
	return sameOr(s, sc.out)
}

// label is user text shown as a link's label: a line that cannot close the
// brackets around it.
func (d draftText) label(s string) string {
	sc := d.buffers()
	sc.out = d.appendLabel(sc.out[:0], s)
	return sameOr(s, sc.out)
}

// sameOr is out as a string: s itself when they are the same bytes, so the
// ordinary text, which nothing changes, is not copied.
func sameOr(s string, out []byte) string {
	if string(out) == s {
		return s
	}
	return string(out)
}

// appendLine appends d.line(s) to dst.
func (d draftText) appendLine(dst []byte, s string) []byte {
	return appendDraftLine(dst, d.buffers().markdown(collapseSpaces(s), d.names))
}

// appendBlock appends d.block(s, indent) to dst: each line of the text, as
// Markdown, without its trailing blanks, escaped, and indented if it is
// not the first and not blank. (Escaping never looks past a line's end,
// nor at its trailing blanks, so the lines can be escaped one by one.)
func (d draftText) appendBlock(dst []byte, s string, indent int) []byte {
	text := d.buffers().markdown(strings.TrimRight(s, " \t\n"), d.names)
	for first := true; ; first = false {
		end := bytes.IndexByte(text, '\n')
		if end < 0 {
			end = len(text)
		}
		l := text[:end]
		for len(l) > 0 && (l[len(l)-1] == ' ' || l[len(l)-1] == '\t' || l[len(l)-1] == '\r') {
			l = l[:len(l)-1]
		}
		if !first && len(l) > 0 {
			dst = append(dst, spaces[:indent]...)
		}
		dst = appendDraftLine(dst, l)
		if end == len(text) {
			return dst
		}
		dst, text = append(dst, '\n'), text[end+1:]
	}
}

// appendDraftLine appends l escaped, inline then at its start.
func appendDraftLine(dst, l []byte) []byte {
	start := len(dst)
	dst = appendDraftInline(dst, l)
	if at := blockEscapeAt(dst[start:]); at >= 0 {
		dst = append(dst, 0)
		copy(dst[start+at+1:], dst[start+at:])
		dst[start+at] = '\\'
	}
	return dst
}

// spaces is the indentation of a text's later lines (indent ≤ its length).
const spaces = "        "

// appendLabel appends d.label(s) to dst: the line, then a backslash before
// every "[" and "]" in it, moving its bytes up in place.
func (d draftText) appendLabel(dst []byte, s string) []byte {
	start := len(dst)
	dst = d.appendLine(dst, s)
	n := bytes.Count(dst[start:], []byte("[")) + bytes.Count(dst[start:], []byte("]"))
	if n == 0 {
		return dst
	}
	end := len(dst)
	dst = append(dst, make([]byte, n)...)
	for r, w := end-1, len(dst)-1; r >= start; r-- {
		dst[w] = dst[r]
		w--
		if dst[r] == '[' || dst[r] == ']' {
			dst[w] = '\\'
			w--
		}
	}
	return dst
}

// collapseSpaces is s with white space trimmed and each run of it one
// space, as strings.Fields then Join do: s itself when it is already so.
func collapseSpaces(s string) string {
	for i := 0; i < len(s); {
		c, size := rune(s[i]), 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRuneInString(s[i:])
		}
		if unicode.IsSpace(c) && (c != ' ' || i == 0 || i == len(s)-1 || s[i+1] == ' ') {
			return strings.Join(strings.Fields(s), " ")
		}
		i += size
	}
	return s
}

// appendDraftInline appends src escaped where it matters anywhere in a
// line: a typed backslash before ASCII punctuation is doubled (it would
// otherwise escape that character, or undo an escape added here), every
// "|" (a table cell's end, or a table row of its own) and every "<" that
// would open HTML (a tag, comment, declaration or processing instruction)
// take a backslash. The punctuation after a typed backslash is escaped too
// if it is one of those.
func appendDraftInline(dst, src []byte) []byte {
	if bytes.IndexByte(src, '\\') < 0 && bytes.IndexByte(src, '|') < 0 && bytes.IndexByte(src, '<') < 0 {
		return append(dst, src...) // the usual case, found by three fast scans
	}
	for {
		i := 0
		for i < len(src) && src[i] != '\\' && src[i] != '|' && src[i] != '<' {
			i++
		}
		dst = append(dst, src[:i]...)
		if i == len(src) {
			return dst
		}
		c, rest := src[i], src[i+1:]
		if c == '\\' {
			if len(rest) == 0 || !isASCIIPunct(rest[0]) {
				dst, src = append(dst, '\\'), rest
				continue
			}
			dst = append(dst, `\\`...)
			c, rest = rest[0], rest[1:]
		}
		switch {
		case c == '|':
			dst = append(dst, `\|`...)
		case c == '<' && len(rest) > 0 && opensHTML(rest[0]):
			dst = append(dst, `\<`...)
		default:
			dst = append(dst, c)
		}
		src = rest
	}
}

// isASCIIPunct is CommonMark's escapable punctuation: !"#$%&'()*+,-./
// :;<=>?@ [\]^_` {|}~.
func isASCIIPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}

// opensHTML tells whether "<" then c starts HTML: a letter, "/", "!" or "?".
func opensHTML(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '/' || c == '!' || c == '?'
}

// escapeLine escapes what would start a block at the start of one line (its
// indentation kept): see blockEscapeAt.
func escapeLine(l string) string {
	if at := blockEscapeAt(l); at >= 0 {
		return l[:at] + `\` + l[at:]
	}
	return l
}

// blockEscapeAt is where a line needs a backslash so that it starts no
// block, or -1: before "#" (heading), ">" (quote), "-", "+" or "*"
// followed by a blank or nothing (list item), a line of "-", "=", "*" or
// "_" and blanks (setext heading underline or thematic break), ``` or ~~~
// (code fence) or "[label]:" (link definition); after the digits of "1."
// or "1)" followed by a blank or nothing (ordered list). Leading spaces and
// tabs are the line's indentation and stay before the escape.
func blockEscapeAt[T string | []byte](l T) int {
	lead := 0
	for lead < len(l) && (l[lead] == ' ' || l[lead] == '\t') {
		lead++
	}
	body := l[lead:]
	if len(body) == 0 {
		return -1
	}
	blankAt := func(i int) bool { return i == len(body) || body[i] == ' ' || body[i] == '\t' }
	switch c := body[0]; {
	case c == '#' || c == '>':
		return lead
	case (c == '-' || c == '+' || c == '*') && blankAt(1):
		return lead
	case (c == '-' || c == '=' || c == '*' || c == '_') && onlyOf(body, c):
		return lead
	case len(body) >= 3 && (c == '`' || c == '~') && body[1] == c && body[2] == c:
		return lead
	case c == '[' && isLinkDefinition(body):
		return lead
	}
	digits := 0
	for digits < len(body) && digits < 10 && '0' <= body[digits] && body[digits] <= '9' {
		digits++
	}
	if 1 <= digits && digits <= 9 && digits < len(body) && (body[digits] == '.' || body[digits] == ')') && blankAt(digits+1) {
		return lead + digits
	}
	return -1
}

// onlyOf tells whether s is c, spaces and tabs only.
func onlyOf[T string | []byte](s T, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != c && s[i] != ' ' && s[i] != '\t' {
			return false
		}
	}
	return true
}

// isLinkDefinition tells whether s, which starts with "[", starts a link
// definition: its first "]" is followed by ":".
func isLinkDefinition[T string | []byte](s T) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == ']' {
			return i+1 < len(s) && s[i+1] == ':'
		}
	}
	return false
}
