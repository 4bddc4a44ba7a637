package handlers

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Answers are sized by the bytes Slack receives, not by characters: an ack
// travels as JSON (where "<" becomes "\u003c" and a Japanese character is
// three bytes), and slack-go refuses to send an ack of 20 KB or more — the
// user would see only "operation timed out".
const (
	// ackLimit is the most an ack's JSON may weigh; well under slack-go's
	// 20 KB so the envelope around it fits too.
	ackLimit = 15 << 10
	// PageBytes is what one page of a long listing may weigh as encoded;
	// listings page by it (and by line count) so each page fits an ack.
	PageBytes = 10 << 10
	// maxFollowUps is how many more messages a long answer may take: Slack
	// accepts five posts to one response_url.
	maxFollowUps = 4
)

// EncodedLen is the length of s as it travels in a JSON payload.
func EncodedLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b) - 2
}

// answer turns a command's reply into its ack. A reply too long for an ack
// is cut at line boundaries into parts: the first is the ack, the others
// follow through the response_url (or as ephemerals when there is none),
// in order, on the user's lane. Nothing is dropped silently: past the
// parts Slack allows, the last part says what was left out.
func (h *Handlers) answer(r *Request, reply string) (any, error) {
	ack := ephemeral(reply)
	if b, err := json.Marshal(ack); err == nil && len(b) < ackLimit {
		return ack, nil
	}
	parts := SplitBytes(reply, PageBytes)
	if len(parts) > maxFollowUps+1 {
		left := len(parts) - maxFollowUps - 1
		parts = parts[:maxFollowUps+1]
		parts[maxFollowUps] += "\n_…and " + plural(left, "more part") + " not shown: ask for less (e.g. a page of it)._"
	}
	for _, p := range parts[1:] {
		var err error
		if r.ResponseURL != "" {
			err = r.Respond(r.User.ID, r.ResponseURL, p)
		} else {
			err = r.Ephemeral(r.Channel, r.User.ID, p, r.ThreadTS)
		}
		if err != nil {
			return nil, err
		}
	}
	return ephemeral(parts[0]), nil
}

// SplitBytes cuts text into parts of at most limit encoded bytes, at line
// boundaries; a single line longer than that is clipped.
func SplitBytes(text string, limit int) []string {
	var parts []string
	var cur strings.Builder
	size := 0
	for _, line := range strings.Split(text, "\n") {
		n := EncodedLen(line) + 2 // and its "\n"
		if n > limit {
			line = clipBytes(line, limit-8)
			n = EncodedLen(line) + 2
		}
		if size+n > limit && cur.Len() > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
			size = 0
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
		size += n
	}
	return append(parts, cur.String())
}

// clipBytes shortens s until it encodes in at most limit bytes, ending it
// with "…".
func clipBytes(s string, limit int) string {
	for EncodedLen(s) > limit && s != "" {
		cut := len(s) * 3 / 4
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s + "…"
}

// Pages groups lines into pages of at most maxLines lines and PageBytes
// encoded bytes each, so every page fits one answer.
func Pages(lines []string, maxLines int) [][]string {
	var pages [][]string
	var cur []string
	size := 0
	for _, l := range lines {
		n := EncodedLen(l) + 2
		if len(cur) > 0 && (len(cur) == maxLines || size+n > PageBytes) {
			pages = append(pages, cur)
			cur, size = nil, 0
		}
		cur = append(cur, l)
		size += n
	}
	if len(cur) > 0 {
		pages = append(pages, cur)
	}
	return pages
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
