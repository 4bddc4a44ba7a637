package handlers

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/incident"
)

// liveSpecial finds a special mention Slack would act on: a <!…> command or
// a plain @here/@channel/@everyone not broken by the word joiner.
var liveSpecial = regexp.MustCompile(`(?i)<!|@(here|channel|everyone)\b`)

const wordJoiner = incident.WordJoiner

func TestSafeSpecialMentions(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"channel", "<!channel> DB down", "@" + wordJoiner + "channel DB down"},
		{"here", "<!here>", "@" + wordJoiner + "here"},
		{"everyone", "<!everyone>", "@" + wordJoiner + "everyone"},
		{"user group", "<!subteam^S1|@oncall> please", "@" + wordJoiner + "oncall please"},
		{"user group without a label", "<!subteam^S1>", "@" + wordJoiner + "S1"},
		{"channel with label", "<!channel|@channel>", "@" + wordJoiner + "channel"},
		{"here with a label without @", "<!here|here>", "@" + wordJoiner + "here"},
		{"empty label", "<!channel|>", "@" + wordJoiner + "channel"},
		{"upper case", "<!HERE>", "@" + wordJoiner + "HERE"},
		{"plain @here", "ping @here now", "ping @" + wordJoiner + "here now"},
		{"plain @Channel", "@Channel!", "@" + wordJoiner + "Channel!"},
		{"plain @everyone", "hey @EVERYONE", "hey @" + wordJoiner + "EVERYONE"},
		{"plain after a word", "cc:@here", "cc:@" + wordJoiner + "here"},
		{"a longer word is not a mention", "@heretofore @channels", "@heretofore @channels"},
		{"several", "<!here> and @channel and <!everyone>",
			"@" + wordJoiner + "here and @" + wordJoiner + "channel and @" + wordJoiner + "everyone"},
		{"special inside a label", "<https://x.example|<!here>>", "<https://x.example|@" + wordJoiner + "here>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Safe(tc.text)
			if got != tc.want {
				t.Errorf("Safe(%q) = %q, want %q", tc.text, got, tc.want)
			}
			if m := liveSpecial.FindString(got); m != "" {
				t.Errorf("Safe(%q) = %q still holds a live mention %q", tc.text, got, m)
			}
			if again := Safe(got); again != got {
				t.Errorf("safe is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestSafeKeepsMentionsAndLinks(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"user", "ask <@U123>", "ask <@U123>"},
		{"user with label", "ask <@U123|ana>", "ask <@U123|ana>"},
		{"enterprise user", "ask <@W123>", "ask <@W123>"},
		{"bot", "ask <@B123>", "ask <@B123>"},
		{"channel link", "see <#C1|x>", "see <#C1|x>"},
		{"private channel link", "see <#G1>", "see <#G1>"},
		{"link with label", "<https://x.example/a?b=1&amp;c=2|graph>", "<https://x.example/a?b=1&amp;c=2|graph>"},
		{"http link", "<http://x.example>", "<http://x.example>"},
		{"mailto", "<mailto:a@x.example|mail>", "<mailto:a@x.example|mail>"},
		{"entities stay", "p99 &lt; 200ms &amp; rising", "p99 &lt; 200ms &amp; rising"},
		{"plain text", "DB is down", "DB is down"},
		{"other angled text escaped", "<foo>", "&lt;foo&gt;"},
		{"other scheme escaped", "<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"},
		{"mention-like name escaped", "<@here>", "&lt;@" + wordJoiner + "here&gt;"},
		{"lower-case id escaped", "<@u123>", "&lt;@u123&gt;"},
		{"empty angles", "<>", "&lt;&gt;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Safe(tc.text); got != tc.want {
				t.Errorf("Safe(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestEscapeRaw(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"plain", "DB down", "DB down"},
		{"angles", "<!here> <@U1>", "&lt;!here&gt; &lt;@U1&gt;"},
		{"ampersand", "R&D", "R&amp;D"},
		{"typed entity stays literal", "&lt;", "&amp;lt;"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EscapeRaw(tc.text)
			if got != tc.want {
				t.Errorf("EscapeRaw(%q) = %q, want %q", tc.text, got, tc.want)
			}
			// Raw text typed into a form never becomes a live mention.
			if m := liveSpecial.FindString(Safe(got)); m != "" && strings.Contains(m, "<") {
				t.Errorf("Safe(EscapeRaw(%q)) = %q holds %q", tc.text, Safe(got), m)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		text string
		n    int
		want string
	}{
		{"short", "DB down", 40, "DB down"},
		{"exactly n", "abcde", 5, "abcde"},
		{"one over", "abcdef", 5, "abcd…"},
		{"counts characters, not bytes", "ééééééé", 5, "éééé…"},
		{"does not split emoji", "🔥🔥🔥🔥🔥🔥", 3, "🔥🔥…"},
		{"n of one", "abc", 1, "…"},
		{"empty", "", 3, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Clip(tc.text, tc.n)
			if got != tc.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tc.text, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) || utf8.RuneCountInString(got) > tc.n {
				t.Errorf("Clip(%q, %d) = %q is not valid text of at most %d characters", tc.text, tc.n, got, tc.n)
			}
		})
	}
}

func TestUserIDs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"none", "nobody here", nil},
		{"one mention", "lead <@U0123ABCD>", []string{"U0123ABCD"}},
		{"mention with label", "lead <@U0123ABCD|ana>", []string{"U0123ABCD"}},
		{"in order", "<@U2222222> then <@U1111111>", []string{"U2222222", "U1111111"}},
		{"without repeats", "<@U1111111> <@U1111111|ana> U1111111", []string{"U1111111"}},
		{"enterprise user", "<@W0123ABCD>", []string{"W0123ABCD"}},
		{"bare id", "lead U0123ABCD", []string{"U0123ABCD"}},
		{"bare ids in order", "U0BBBBBBB U0AAAAAAA", []string{"U0BBBBBBB", "U0AAAAAAA"}},
		{"bots are not users", "<@B0123ABCD>", nil},
		{"channels are not users", "<#C0123ABCD> C0123ABCD", nil},
		{"special mentions are not users", "<!here> <!subteam^S0123ABCD|@oncall>", nil},
		{"too short to be an id", "U123 USA", nil},
		{"lower case is a word", "u0123abcd", nil},
		{"too long to be an id", "U0123456789ABC", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UserIDs(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("UserIDs(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestEveryOutputDropsBidiControls: a right-to-left override (or an
// embedding or isolate) in user text never reaches Slack, whatever the
// kind of output, so what follows it is not reversed; the marks stay.
func TestEveryOutputDropsBidiControls(t *testing.T) {
	text := "Checkout \u202edown\u202c for \u2067EU\u2069 \u202bcustomers \u200f"
	want := "Checkout down for EU customers \u200f"
	if got := Safe(text); got != want {
		t.Errorf("Safe(%q) = %q, want %q", text, got, want)
	}
	if got := PlainSafe(text); got != want {
		t.Errorf("PlainSafe(%q) = %q, want %q", text, got, want)
	}
}

func TestPlainSafe(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"plain", "DB down", "DB down"},
		{"entities become characters", "p99 &lt; 2s &amp; rising", "p99 < 2s & rising"},
		{"special mentions as text", "<!channel> and @here <!subteam^S1|@oncall>",
			"@" + wordJoiner + "channel and @" + wordJoiner + "here @" + wordJoiner + "oncall"},
		{"user mention as its name", "ask <@U1|ana>", "ask @ana"},
		{"typed markup stays text", "&lt;!channel&gt;", "<!channel>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlainSafe(tc.text); got != tc.want {
				t.Errorf("PlainSafe(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
