package handlers

// Regression tests: each pins a defect found in review (behaviour the code
// documented but did not have) so it cannot come back.

import (
	"slices"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// ParseCommand accepts a tab or newline after the subcommand ("declare\nDB
// down", from pasted text), but ParseDeclare splits options from the title
// at spaces only: a severity followed by a tab or newline is read as part of
// the title, and the incident is declared at the default SEV3 instead of the
// severity the user typed.
func TestRegressionParseDeclareTabsAndNewlines(t *testing.T) {
	tests := []struct {
		name string
		text string // the whole /incident text
		want DeclareArgs
	}{
		{"newline after severity", "declare sev1\nCheckout is down", DeclareArgs{Severity: incident.Sev1, Title: "Checkout is down"}},
		{"tab after severity", "declare sev1\tCheckout is down", DeclareArgs{Severity: incident.Sev1, Title: "Checkout is down"}},
		{"tabs throughout", "declare\tsev2\tCheckout is down", DeclareArgs{Severity: incident.Sev2, Title: "Checkout is down"}},
		{"newline after --private", "declare --private\nPayroll export leaking", DeclareArgs{Private: true, Title: "Payroll export leaking"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := ParseCommand(tc.text)
			if cmd.Name != "declare" {
				t.Fatalf("ParseCommand(%q) = %+v", tc.text, cmd)
			}
			got, err := ParseDeclare(cmd.Args)
			if err != nil {
				t.Fatalf("ParseDeclare(%q): %v", cmd.Args, err)
			}
			if got != tc.want {
				t.Errorf("/incident %q parsed as %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}

// safe promises special mentions "never notify anyone". It rewrites <…>
// in one regexp pass that only matches innermost brackets, so a special
// mention whose label holds another <…> is rebuilt live: "<!channel|<!x>>"
// becomes "<!channel|@⁠x>", which Slack reads as @channel. Slack escapes "<"
// typed by people, but messages posted by integrations through the API can
// carry such text, and pinned messages are reposted through safe.
func TestRegressionSafeNestedSpecialMention(t *testing.T) {
	for _, text := range []string{
		"<!channel|<!x>>",
		"<!here|<@U1>>",
		"<!subteam^S1|<!here>>",
		"<!everyone|<https://x.example>>",
	} {
		t.Run(text, func(t *testing.T) {
			got := Safe(text)
			if m := liveSpecial.FindString(got); m != "" {
				t.Errorf("Safe(%q) = %q still holds a live mention (%q)", text, got, m)
			}
		})
	}
}

// userIDs documents it finds "the users mentioned … in order" and accepts
// bare ids "for people who type ids".
func TestRegressionUserIDs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		// A bare id typed before a mention is returned after it.
		{"bare id before a mention keeps its place", "U0AAAAAAA and <@U0BBBBBBB>", []string{"U0AAAAAAA", "U0BBBBBBB"}},
		// Any 8-12 letter upper-case word starting with U or W counts as an id.
		{"upper-case words are not ids", "<@U0123ABCD> UPGRADED UNSTABLE WORKAROUND", []string{"U0123ABCD"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UserIDs(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("UserIDs(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
