package incident_test

import (
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

const wj = incident.WordJoiner

func TestMarkdown(t *testing.T) {
	names := map[string]string{"U1": "Ana Lima"}
	tests := []struct {
		name  string
		text  string
		names map[string]string
		want  string
	}{
		{"user with label", "ask <@U2|bo>", nil, "ask @bo"},
		{"user with label and @", "ask <@U2|@bo>", nil, "ask @bo"},
		{"user with label, name known", "ask <@U1|ana>", names, "ask @Ana Lima"},
		{"user without label, name known", "ask <@U1>", names, "ask @Ana Lima"},
		{"user without label, name unknown", "ask <@U1>", nil, "ask @U1"},
		{"user not in names", "ask <@U3>", names, "ask @U3"},
		{"channel with label", "see <#C1|ops>", nil, "see #ops"},
		{"channel without label", "see <#C1>", nil, "see #C1"},
		{"link with label", "see <https://x.example/a|the graph>", nil, "see [the graph](https://x.example/a)"},
		{"link without label", "see <https://x.example/a>", nil, "see https://x.example/a"},
		{"mailto", "<mailto:a@x.example|a@x.example>", nil, "[a@x.example](mailto:a@x.example)"},
		{"here", "<!here> DB down", nil, "@" + wj + "here DB down"},
		{"channel mention", "<!channel>", nil, "@" + wj + "channel"},
		{"channel mention with label", "<!channel|@channel>", nil, "@" + wj + "channel"},
		{"user group", "paging <!subteam^S1|@oncall>", nil, "paging @" + wj + "oncall"},
		{"user group without label", "paging <!subteam^S1>", nil, "paging @" + wj + "S1"},
		{"plain @here", "ping @here and @Channel", nil, "ping @" + wj + "here and @" + wj + "Channel"},
		{"a name that is a special", "ask <@U9>", map[string]string{"U9": "everyone"}, "ask @" + wj + "everyone"},
		{"a label that is a special", "ask <@U9|here>", nil, "ask @" + wj + "here"},
		{"unbalanced special", "<!here|<@U1>>", names, "<!here|@Ana Lima>"},
		{"right-to-left override", "Checkout \u202edown", nil, "Checkout down"},
		{"escaped angle special stays text", "&lt;!channel&gt;", nil, "<!channel>"},
		{"entities", "p99 &lt; 200ms &amp;&amp; errors &gt; 5%", nil, "p99 < 200ms && errors > 5%"},
		{"escaped entity stays literal", "type &amp;lt; for <", nil, "type &lt; for <"},
		{"escaped angle text is not a link", "&lt;https://x&gt;", nil, "<https://x>"},
		{"several in one line", "<@U1> moved <#C1|ops> to <https://x|here>", names, "@Ana Lima moved #ops to [here](https://x)"},
		{"plain text", "nothing special", nil, "nothing special"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := incident.Markdown(tc.text, tc.names); got != tc.want {
				t.Errorf("Markdown(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestDefuse(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"ordinary text is unchanged", "Checkout <@U1> &amp; café 東京 🔥 @heretofore", "Checkout <@U1> &amp; café 東京 🔥 @heretofore"},
		{"plain specials", "@here @CHANNEL cc:@everyone", "@" + wj + "here @" + wj + "CHANNEL cc:@" + wj + "everyone"},
		{"already defused", "@" + wj + "here", "@" + wj + "here"},
		{"overrides", "a\u202db\u202ec\u202cd", "abcd"},
		{"embeddings", "a\u202ab\u202bc", "abc"},
		{"isolates", "a\u2066b\u2067c\u2068d\u2069e", "abcde"},
		{"marks stay", "\u05e9\u05dc\u05d5\u05dd\u200f (a)\u200e \u061c", "\u05e9\u05dc\u05d5\u05dd\u200f (a)\u200e \u061c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := incident.Defuse(tc.text); got != tc.want {
				t.Errorf("Defuse(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestDefuseBidiInsideAMention: a bidi control hidden inside "@here" is
// dropped before mentions are broken, so it cannot smuggle a live one.
func TestDefuseBidiInsideAMention(t *testing.T) {
	for _, in := range []string{"@he\u202ere", "@\u2066channel\u2069", "@every\u202aone now"} {
		out := incident.Defuse(in)
		if strings.Contains(out, "@here") || strings.Contains(out, "@channel") || strings.Contains(out, "@everyone") {
			t.Errorf("Defuse(%q) = %q: a live special mention", in, out)
		}
	}
}
