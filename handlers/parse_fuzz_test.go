package handlers

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseCommand checks that ParseCommand never panics and gives a
// lowercase name without white space, and that ParseDeclare, given what
// follows "declare", never panics and gives a trimmed title and either no
// severity or a valid one.
func FuzzParseCommand(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		c := ParseCommand(text)
		if c.Name != strings.ToLower(c.Name) {
			t.Fatalf("ParseCommand(%q).Name = %q, not lowercase", text, c.Name)
		}
		if strings.IndexFunc(c.Name, unicode.IsSpace) >= 0 {
			t.Fatalf("ParseCommand(%q).Name = %q has white space", text, c.Name)
		}
		if c.Name != "declare" {
			return
		}
		d, err := ParseDeclare(c.Args)
		if err != nil {
			return
		}
		if d.Title != strings.TrimSpace(d.Title) {
			t.Fatalf("ParseDeclare(%q).Title = %q is not trimmed", c.Args, d.Title)
		}
		if d.Severity != 0 && !d.Severity.Valid() {
			t.Fatalf("ParseDeclare(%q).Severity = %d, not a severity", c.Args, int(d.Severity))
		}
	})
}

// liveSpecialPlain is a plain @here, @channel or @everyone Slack would
// notify with: one not broken by the word joiner.
var liveSpecialPlain = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)

// FuzzSafe checks that safe never panics and leaves no special mention
// that would notify anyone.
func FuzzSafe(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		out := Safe(text)
		lower := strings.ToLower(out)
		for _, live := range []string{"<!channel", "<!here", "<!everyone", "<!subteam"} {
			if strings.Contains(lower, live) {
				t.Fatalf("Safe(%q) = %q still has %s", text, out, live)
			}
		}
		if m := liveSpecialPlain.FindString(out); m != "" {
			t.Fatalf("Safe(%q) = %q still has %q", text, out, m)
		}
	})
}
