package incident

import (
	"strings"
	"testing"
	"time"
)

func hm(hh, mm int) time.Time { return time.Date(2023, 8, 17, hh, mm, 0, 0, time.UTC) }

func TestDraftTextLeavesOrdinaryTextAlone(t *testing.T) {
	d := draftText{names: map[string]string{"U1": "Ana Lima"}}
	for _, s := range []string{
		"Checkout failing for EU customers",
		"Cause: deploy 2023.08.17-3 <- rolling back",
		"p99 > 2s, 5xx at 3% (was 0.1%) — café 東京 🔥",
		"C:\\Users\\ana has the logs",
		"*bold* and _italic_ stay as they are",
		"10:05 alerts fired\n10:18 detected",
		"#1 priority is not a heading mid-line",
	} {
		want := s
		if strings.HasPrefix(s, "#") {
			want = `\` + s
		}
		if got := d.block(s, 0); got != want {
			t.Errorf("block(%q) = %q, want it unchanged", s, got)
		}
		if !strings.Contains(s, "\n") && d.line(s) != want {
			t.Errorf("line(%q) = %q, want it unchanged", s, d.line(s))
		}
	}
}

func TestDraftTextEscapesWhatWouldStartABlock(t *testing.T) {
	d := draftText{}
	tests := []struct{ name, text, want string }{
		{"heading", "# Root cause", `\# Root cause`},
		{"heading of level 2", "## Root cause", `\## Root cause`},
		{"indented heading", "  ### x", `  \### x`},
		{"quote (as Slack sends it)", "&gt; quoted", `\> quoted`},
		{"bullet", "- item", `\- item`},
		{"bullet +", "+ item", `\+ item`},
		{"bullet *", "* item", `\* item`},
		{"bullet alone", "-", `\-`},
		{"dash in a word", "-5% errors", "-5% errors"},
		{"ordered", "1. one", `1\. one`},
		{"ordered with )", "12) twelve", `12\) twelve`},
		{"a version is no list", "1.2.3 shipped", "1.2.3 shipped"},
		{"setext underline", "===", `\===`},
		{"setext dashes", "--", `\--`},
		{"thematic break", "* * *", `\* * *`},
		{"underscores", "___", `\___`},
		{"fence", "```go", "\\```go"},
		{"tilde fence", "~~~", `\~~~`},
		{"table row", "| a | b |", `\| a \| b \|`},
		{"pipe mid-line", "a | b", `a \| b`},
		{"html comment", "&lt;!-- hidden", `\<!-- hidden`},
		{"html tag mid-line", "see &lt;details&gt;", `see \<details>`},
		{"link definition", "[x]: https://evil.example", `\[x]: https://evil.example`},
		{"a link stays a link", "<https://x.example|the graph>", "[the graph](https://x.example)"},
		{"typed backslash before a pipe", `a \| b`, `a \\\| b`},
		{"typed backslash before a hash", `\# x`, `\\# x`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.block(tc.text, 0); got != tc.want {
				t.Errorf("block(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestDraftTextBlockStaysInItsItem(t *testing.T) {
	d := draftText{}
	got := d.block("Fix the alerting\n## Root cause\n\n- DNS\n  > quote\n", 4)
	want := "Fix the alerting\n    \\## Root cause\n\n    \\- DNS\n      \\> quote"
	if got != want {
		t.Errorf("block = %q, want %q", got, want)
	}
	if got := d.line("two\nlines | and\ta tab"); got != `two lines \| and a tab` {
		t.Errorf("line = %q", got)
	}
	if got := d.label("shot [1].png"); got != `shot \[1\].png` {
		t.Errorf("label = %q", got)
	}
}

// TestPostmortemUserTextCannotRestructure renders a draft whose every user
// text tries to add structure: the draft has the template's headings and
// table rows only, and each text stays in its item.
func TestPostmortemUserTextCannotRestructure(t *testing.T) {
	evil := "x\n## Injected\n| a | b |\n|---|---|\n- item\n> quote\n1. one"
	ana := User{ID: "U1", Name: "ana | admin"}
	inc := New(5, Declaration{Title: "# Title | with pipes", Severity: Sev2, By: ana, At: hm(10, 0),
		Description: evil, Services: []string{"api | db", "<!channel>"}})
	inc.AddFollowUp(FollowUp{Text: evil, Horizon: ShortTerm, Owner: User{ID: "U2", Name: "bo"}, By: ana, At: hm(10, 1)})
	inc.Updates = append(inc.Updates, StatusUpdate{At: hm(10, 2), Status: Identified, Text: evil})
	if err := inc.Resolve(hm(11, 0), evil); err != nil {
		t.Fatal(err)
	}
	in := PostmortemInput{Incident: inc, Now: hm(12, 0), Timeline: []Entry{
		{Seq: 1, At: hm(10, 3), Kind: KindMessage, Author: ana, Text: evil, Files: []Link{{Title: "a](javascript:x)", URL: "https://f.example/1"}}},
	}}
	out, err := MustLoadDefaults().PostmortemString(in)
	if err != nil {
		t.Fatal(err)
	}
	var headings, rows int
	for _, l := range strings.Split(out, "\n") {
		body := strings.TrimLeft(l, " ")
		switch {
		case strings.HasPrefix(body, "#"):
			headings++
			if body != l {
				t.Errorf("a heading inside an item: %q", l)
			}
		case strings.HasPrefix(body, "|"):
			rows++
		case strings.HasPrefix(body, ">"), strings.HasPrefix(body, "- item"), strings.HasPrefix(body, "1. one"):
			t.Errorf("user text starts a block: %q", l)
		}
		if strings.Contains(l, "Injected") && !strings.HasPrefix(body, `\## Injected`) {
			t.Errorf("injected heading not escaped: %q", l)
		}
	}
	if headings != 11 || rows != 8+9+6 {
		t.Errorf("%d headings and %d table rows, want the template's 11 and 23:\n%s", headings, rows, out)
	}
	for _, want := range []string{
		`# INC-5: \# Title \| with pipes`,
		`| **Lead** | ana \| admin |`,
		`**This incident affected:** api \| db, @` + WordJoiner + "channel",
		"1. x\n    \\## Injected",
		`file: [a\](javascript:x)](https://f.example/1)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the draft lacks %q:\n%s", want, out)
		}
	}
}
