package incident

import (
	"bytes"
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
//
// The functions scan bytes rather than run regular expressions: a
// postmortem draft escapes every timeline entry, and most texts have
// nothing to change, which one scan for the bytes that matter tells. The
// regular expressions they replace are kept in text_reference_test.go,
// which checks both give the same, byte for byte, on random and fuzzed text.

// WordJoiner is an invisible character that stops "@here" being read as a
// mention while looking the same to a reader.
const WordJoiner = "\u2060"

// specialWords are the plain special mentions, "@" and one of them in any
// case (ASCII only: none of their letters has another case in Unicode)
// and then no letter, digit or "_".
var specialWords = [...]string{"channel", "here", "everyone"}

// Defuse is the one sanitiser under every output of user text, whatever
// its format: the plain special mentions "@channel", "@here" and
// "@everyone" are broken with a word joiner (they look the same and notify
// nobody), and the bidi controls that open or close a direction are
// dropped, so nothing after the text renders reversed. It changes nothing
// else: ordinary text comes out byte for byte.
func Defuse(text string) string {
	if !needsDefuse(text) {
		return text
	}
	return string(appendDefused(nil, []byte(text)))
}

// needsDefuse tells whether text has an "@" or the first byte of a bidi
// control (every one is E2 80 xx or E2 81 xx in UTF-8).
func needsDefuse(text string) bool {
	return strings.IndexByte(text, '@') >= 0 || strings.IndexByte(text, 0xe2) >= 0
}

func needsDefuseBytes(text []byte) bool {
	return bytes.IndexByte(text, '@') >= 0 || bytes.IndexByte(text, 0xe2) >= 0
}

// appendDefused appends src Defused to dst. Bidi controls are dropped
// first, so one hidden inside a mention ("@he\u202ere") cannot keep it
// whole; then special mentions are broken.
func appendDefused(dst, src []byte) []byte {
	if bytes.IndexByte(src, 0xe2) >= 0 {
		src = stripBidi(src)
	}
	for {
		i := 0
		for i < len(src) && src[i] != '@' && src[i] != 0xe2 {
			i++
		}
		dst = append(dst, src[:i]...)
		if i == len(src) {
			return dst
		}
		switch rest := src[i:]; {
		case rest[0] == '@':
			if n := specialAt(rest[1:]); n > 0 {
				dst = append(append(dst, "@"+WordJoiner...), rest[1:1+n]...)
				src = rest[1+n:]
				continue
			}
		case isBidiControl(rest):
			src = rest[3:]
			continue
		}
		dst = append(dst, src[i])
		src = src[i+1:]
	}
}

// specialAt is the length of the special mention word rest starts with
// ("here" in "here!"), or 0.
func specialAt(rest []byte) int {
	for _, w := range specialWords {
		if len(rest) >= len(w) && asciiFoldEqual(rest[:len(w)], w) && (len(rest) == len(w) || !isWordByte(rest[len(w)])) {
			return len(w)
		}
	}
	return 0
}

// asciiFoldEqual compares b with lower, a word of lower-case ASCII letters,
// ignoring the case of b's letters.
func asciiFoldEqual(b []byte, lower string) bool {
	for i := range b {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// isWordByte is what a word boundary (regexp's \b) counts as a word's:
// ASCII letters, digits and "_".
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z'
}

// stripBidi returns src without its bidi controls (a copy when it had any).
func stripBidi(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); {
		if isBidiControl(src[i:]) {
			if out == nil {
				out = append(make([]byte, 0, len(src)), src[:i]...)
			}
			i += 3
			continue
		}
		if out != nil {
			out = append(out, src[i])
		}
		i++
	}
	if out == nil {
		return src
	}
	return out
}

// isBidiControl tells whether s starts with U+202A–U+202E (embeddings,
// overrides, their end) or U+2066–U+2069 (isolates). The marks U+200E,
// U+200F and U+061C open nothing and stay: right-to-left writers use them.
func isBidiControl(s []byte) bool {
	return len(s) >= 3 && s[0] == 0xe2 &&
		(s[1] == 0x80 && 0xaa <= s[2] && s[2] <= 0xae || s[1] == 0x81 && 0xa6 <= s[2] && s[2] <= 0xa9)
}

// SpecialMention shows the inside of a Slack special mention (the "!here",
// "!channel|@channel", "!subteam^S1|@oncall" of <!…>) as text that
// notifies nobody: "@", a word joiner, and its label or name.
func SpecialMention(inner string) string {
	return string(appendSpecialMention(nil, []byte(inner)))
}

func appendSpecialMention(dst, inner []byte) []byte {
	name, label, ok := bytes.Cut(bytes.TrimPrefix(inner, []byte("!")), []byte("|"))
	if !ok || len(label) == 0 {
		label = bytes.TrimPrefix(name, []byte("subteam^"))
	}
	return append(append(dst, "@"+WordJoiner...), bytes.TrimPrefix(label, []byte("@"))...)
}

// Markdown turns Slack-formatted text into readable text, Defused, for
// documents and places without Slack markup: <@U1|ana> → @ana (or the name
// names knows for U1), <#C1|ops> → #ops, <https://x|label> →
// [label](https://x), <!here> → @here (broken, as SpecialMention does),
// and the entities &amp; &lt; &gt; back into & < >.
func Markdown(text string, names map[string]string) string {
	if strings.IndexByte(text, '<') < 0 && strings.IndexByte(text, '&') < 0 && !needsDefuse(text) {
		return text // nothing to turn, decode or defuse
	}
	var sc scratch
	return string(sc.markdown(text, names))
}

// scratch is the buffers the escaping works in, kept by a renderer so that
// escaping thousands of texts allocates nothing once they have grown.
type scratch struct{ a, b, out []byte }

// markdown returns Markdown(text, names) in one of sc's buffers, valid
// until sc's next use. Each step runs only if its input has the byte it
// starts from, and in the order Markdown promises: markup, then entities
// (so "&lt;@U1&gt;" is text, not a mention), then Defuse.
func (sc *scratch) markdown(text string, names map[string]string) []byte {
	src, dst := append(sc.a[:0], text...), sc.b[:0]
	if bytes.IndexByte(src, '<') >= 0 {
		dst = appendSlackMarkup(dst, src, names)
		src, dst = dst, src[:0]
	}
	if bytes.IndexByte(src, '&') >= 0 {
		dst = appendEntitiesDecoded(dst, src)
		src, dst = dst, src[:0]
	}
	if needsDefuseBytes(src) {
		dst = appendDefused(dst, src)
		src, dst = dst, src[:0]
	}
	sc.a, sc.b = src, dst
	return src
}

// appendSlackMarkup appends src with each <…> holding no "<" or ">" turned
// into text (see markupText); a "<" that no such ">" closes stays.
func appendSlackMarkup(dst, src []byte, names map[string]string) []byte {
	for {
		open := bytes.IndexByte(src, '<')
		if open < 0 {
			break
		}
		inner := src[open+1:]
		end := bytes.IndexByte(inner, '>')
		if end < 0 {
			break // no ">" closes this "<" or any after it
		}
		if next := bytes.IndexByte(inner[:end], '<'); next >= 0 { // this "<" closes nothing; the next may
			dst, src = append(dst, src[:open+1+next]...), inner[next:]
			continue
		}
		dst = markupText(append(dst, src[:open]...), inner[:end], names)
		src = inner[end+1:]
	}
	return append(dst, src...)
}

// markupText appends the text of one piece of Slack markup, the inner of
// <inner>: a user, a channel, a special mention or a link.
func markupText(dst, inner []byte, names map[string]string) []byte {
	target, label, hasLabel := bytes.Cut(inner, []byte("|"))
	hasLabel = hasLabel && len(label) > 0
	switch {
	case len(target) > 0 && target[0] == '@':
		id := target[1:]
		if n := names[string(id)]; n != "" {
			return append(append(dst, '@'), n...)
		}
		if hasLabel {
			return append(append(dst, '@'), bytes.TrimPrefix(label, []byte("@"))...)
		}
		return append(append(dst, '@'), id...)
	case len(target) > 0 && target[0] == '#':
		if hasLabel {
			return append(append(dst, '#'), label...)
		}
		return append(dst, target...)
	case len(target) > 0 && target[0] == '!':
		return appendSpecialMention(dst, inner)
	case hasLabel:
		dst = append(append(append(dst, '['), label...), "]("...)
		return append(append(dst, target...), ')')
	default:
		return append(dst, target...)
	}
}

// appendEntitiesDecoded appends src with &lt; &gt; &amp; decoded, left to
// right, each once: "&amp;lt;" is "&lt;".
func appendEntitiesDecoded(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '&')
		if i < 0 {
			return append(dst, src...)
		}
		dst, src = append(dst, src[:i]...), src[i:]
		switch {
		case hasPrefix(src, "&lt;"):
			dst, src = append(dst, '<'), src[4:]
		case hasPrefix(src, "&gt;"):
			dst, src = append(dst, '>'), src[4:]
		case hasPrefix(src, "&amp;"):
			dst, src = append(dst, '&'), src[5:]
		default:
			dst, src = append(dst, '&'), src[1:]
		}
	}
}

func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}
