package incident_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// hostileFragments are the pieces hostile texts are made of: every form the
// escaping handles (Slack markup, entities, special mentions, bidi
// controls, typed backslashes, block starts, Unicode spaces, broken UTF-8)
// and ordinary words between them.
var hostileFragments = []string{
	"<@U1>", "<@U2|bo>", "<@U9|@here>", "<@U3|>", "<#C1|ops>", "<#C2>", "<!here>", "<!channel|@channel>",
	"<!subteam^S1|@oncall>", "<!subteam^S2>", "<https://x.example/a|the graph>", "<https://x.example/b>", "<mailto:a@b|a@b>",
	"&amp;", "&lt;", "&gt;", "&amp;lt;", "&", "&l", "t;", "@here", "@Channel", "@EVERYONE", "@everyone_", "@heretofore", "@",
	"\u202e", "\u2066", "\u2069", "\u202a", "\u200f", "\u061c", "\u2060",
	`\`, `\|`, `\\`, `\#`, `\a`, "|", "<", ">", "<a", "</", "<!--", "<?", "<1",
	"# ", "## ", "> ", "- ", "* ", "+ ", "-", "1. ", "12) ", "1234567890. ", "1.2", "===", "---", "* * *", "___", "```", "~~~",
	"[x]: ", "[", "]", ":", "](javascript:x)",
	"\n", "\n\n", " ", "  ", "\t", "\r", "\r\n", "\u00a0", "\u3000", "\u0085",
	"é", "東京", "🔥", "\xff", "\xe2\x80", "_", "text", "word", "Checkout", "10:05",
}

// hostileText is a random text of up to n fragments.
func hostileText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range r.IntN(n + 1) {
		b.WriteString(hostileFragments[r.IntN(len(hostileFragments))])
	}
	return b.String()
}

// hostileIncident is a draft whose every user text, name and file title is
// hostile, with entries of every kind, deleted and pending ones, files with
// and without titles, and times in other zones or not recorded.
func hostileIncident(seed uint64, entries int) incident.PostmortemInput {
	r := rand.New(rand.NewPCG(seed, 14))
	start := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)
	people := []incident.User{{ID: "U1", Name: "ana"}, {ID: "U2", Name: "bo | admin"}, {ID: "U3"},
		{ID: "U4", Name: "# <b>x</b> &amp; @here"}, {ID: "U5", Name: "  two\nlines\u202e "}}
	names := map[string]string{"U1": "Ana Lima", "U3": "- list &lt;", "U9": "everyone"}
	inc := incident.New(3, incident.Declaration{Title: hostileText(r, 6), Severity: incident.Sev2, By: people[1], At: start,
		Description: hostileText(r, 20), Services: []string{hostileText(r, 3), "api | db", "<!channel>"}})
	inc.Assign(incident.RoleComms, people[3])
	inc.Assign(incident.RoleScribe, people[4])
	for i, h := range []incident.Horizon{incident.ShortTerm, incident.MidTerm, incident.Future, incident.Unsorted, incident.ShortTerm} {
		inc.AddFollowUp(incident.FollowUp{Text: hostileText(r, 12) + "x", Horizon: h, Owner: people[i%len(people)], By: people[0],
			At: start.Add(time.Duration(i) * time.Minute)})
	}
	for i := range 3 {
		inc.Updates = append(inc.Updates, incident.StatusUpdate{At: start.Add(time.Duration(i) * time.Hour), Status: incident.Identified,
			Text: hostileText(r, 12)})
	}
	_ = inc.Resolve(start.Add(2*time.Hour), hostileText(r, 20))
	kinds := []incident.EntryKind{incident.KindMessage, incident.KindNote, incident.KindEvent}
	zones := []*time.Location{time.UTC, time.FixedZone("JST", 9*3600), time.FixedZone("X", -3*3600-1800)}
	timeline := make([]incident.Entry, entries)
	for i := range timeline {
		e := incident.Entry{Seq: uint64(i + 1), At: start.Add(time.Duration(r.IntN(7200)) * time.Second).In(zones[r.IntN(len(zones))]),
			Kind: kinds[r.IntN(len(kinds))], Author: people[r.IntN(len(people))], Text: hostileText(r, 16),
			Deleted: r.IntN(10) == 0, Pending: r.IntN(10) == 0}
		if r.IntN(20) == 0 {
			e.At = time.Time{}
		}
		if r.IntN(2) == 0 {
			e.Link = "https://example.slack.com/archives/C1/p" + hostileText(r, 1)
		}
		for range r.IntN(3) {
			e.Files = append(e.Files, incident.Link{Title: hostileText(r, 3), URL: "https://files.example/" + hostileText(r, 1)})
		}
		timeline[i] = e
	}
	return incident.PostmortemInput{Incident: inc, Timeline: timeline, Names: names, Now: start.Add(3 * time.Hour)}
}

// TestPostmortemHostileGolden pins the whole draft of an incident made of
// hostile texts (regenerate with go test ./incident -run Golden -update):
// the escaping of every user text, byte for byte.
func TestPostmortemHostileGolden(t *testing.T) {
	got := render(t, incident.MustLoadDefaults(), hostileIncident(1, 400))
	golden := filepath.Join("testdata", "postmortem-hostile.golden")
	if *update {
		write(t, golden, got)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./incident -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("postmortem differs from %s (run with -update if the change is intended):\n%s", golden, lineDiff(string(want), got))
	}
}
