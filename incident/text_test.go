package incident_test

import (
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

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
		{"here", "<!here> DB down", nil, "@here DB down"},
		{"channel mention", "<!channel>", nil, "@channel"},
		{"channel mention with label", "<!channel|@channel>", nil, "@channel"},
		{"user group", "paging <!subteam^S1|@oncall>", nil, "paging @oncall"},
		{"user group without label", "paging <!subteam^S1>", nil, "paging @S1"},
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
