package incident_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// resolvedIncident is a small fixed incident: sev2, escalated to sev1 and
// back, resolved with a note, every key time but acknowledged recorded.
func resolvedIncident(t *testing.T) incident.PostmortemInput {
	t.Helper()
	bo := incident.User{ID: "U2", Name: "bo"}
	inc := incident.New(7, incident.Declaration{
		Title: "Checkout failing for EU customers", Severity: incident.Sev2, By: ana, At: at(17, 10, 22),
		Services: []string{"checkout", "payments"},
	})
	inc.Roles[incident.RoleComms] = bo
	inc.Times.Started = at(17, 10, 5)
	inc.Times.Detected = at(17, 10, 18)
	inc.Times.Identified = at(17, 10, 40)
	inc.Times.Mitigated = at(17, 10, 52)
	inc.Severity = incident.Sev2
	inc.SeverityLog = append(inc.SeverityLog,
		incident.SeverityChange{At: at(17, 10, 30), Severity: incident.Sev1, By: ana},
		incident.SeverityChange{At: at(17, 10, 55), Severity: incident.Sev2, By: ana})
	if err := inc.Resolve(at(17, 11, 30), "Rolled back <https://git.example/pr/1|the deploy> &amp; flushed the cache."); err != nil {
		t.Fatal(err)
	}
	timeline := []incident.Entry{
		{Seq: 1, At: at(17, 10, 22), Kind: incident.KindEvent, Event: "declared", Author: ana, Text: "Incident declared (SEV2) by <@U1>"},
		{Seq: 2, At: at(17, 10, 24), Kind: incident.KindMessage, Author: bo, Text: "5xx on /pay since 10:05, see <https://grafana.example/d/1|dashboard>",
			Link: "https://slack.example/archives/C1/p1", Files: []incident.Link{{Title: "errors.png", URL: "https://files.example/errors.png"}}},
		{Seq: 3, At: at(17, 10, 26), Kind: incident.KindMessage, Author: bo, Text: "DELETED-LINE oops wrong channel", Deleted: true},
		{Seq: 4, At: at(17, 10, 27), Kind: incident.KindMessage, Author: bo, Text: "PENDING-LINE still being fetched", Pending: true},
		{Seq: 5, At: at(17, 10, 41), Kind: incident.KindNote, Author: ana, Text: "Cause: deploy 2023.08.17-3 &lt;- rolling back"},
		{Seq: 6, At: at(17, 11, 30), Kind: incident.KindEvent, Event: "resolved", Author: ana, Text: "Resolved by <@U1>"},
	}
	return incident.PostmortemInput{Incident: inc, Timeline: timeline, Names: map[string]string{"U1": "Ana Lima"}, Now: at(17, 12, 0)}
}

func render(t *testing.T, tmpl *incident.Templates, in incident.PostmortemInput) string {
	t.Helper()
	out, err := tmpl.PostmortemString(in)
	if err != nil {
		t.Fatalf("render postmortem: %v", err)
	}
	return out
}

func TestLoadTemplatesDefaults(t *testing.T) {
	for _, dir := range []string{"", t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		tmpl, err := incident.LoadTemplates(dir)
		if err != nil {
			t.Fatalf("LoadTemplates(%q): %v", dir, err)
		}
		if len(tmpl.Overridden) != 0 {
			t.Errorf("LoadTemplates(%q) overrode %v", dir, tmpl.Overridden)
		}
		if out := render(t, tmpl, resolvedIncident(t)); !strings.Contains(out, "## Summary") {
			t.Errorf("LoadTemplates(%q) does not render the default postmortem:\n%s", dir, out)
		}
	}
}

func TestLoadTemplatesOverride(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, incident.PostmortemTemplate), "Our own review of {{.Ref}}: {{.Title}} ({{.Severity}})\n")
	write(t, filepath.Join(dir, "unrelated.md.tmpl"), "{{ broken")
	tmpl, err := incident.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Overridden) != 1 || tmpl.Overridden[0] != incident.PostmortemTemplate {
		t.Errorf("Overridden = %v, want [%s]", tmpl.Overridden, incident.PostmortemTemplate)
	}
	want := "Our own review of INC-7: Checkout failing for EU customers (SEV2)\n"
	if got := render(t, tmpl, resolvedIncident(t)); got != want {
		t.Errorf("overridden postmortem = %q, want %q", got, want)
	}
}

func TestLoadTemplatesBrokenOverride(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string)
	}{
		{"parse error", func(dir string) { write(t, filepath.Join(dir, incident.PostmortemTemplate), "# {{.Ref}\n") }},
		{"unknown function", func(dir string) { write(t, filepath.Join(dir, incident.PostmortemTemplate), "{{shout .Ref}}") }},
		{"unreadable: a directory", func(dir string) {
			if err := os.Mkdir(filepath.Join(dir, incident.PostmortemTemplate), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(dir)
			tmpl, err := incident.LoadTemplates(dir)
			if err == nil {
				t.Fatalf("LoadTemplates accepted a broken override (overridden %v)", tmpl.Overridden)
			}
			if !strings.Contains(err.Error(), incident.PostmortemTemplate) {
				t.Errorf("error %q does not name %s", err, incident.PostmortemTemplate)
			}
		})
	}
}

func TestPostmortemResolved(t *testing.T) {
	out := render(t, incident.MustLoadDefaults(), resolvedIncident(t))
	for _, want := range []string{
		"# INC-7: Checkout failing for EU customers",
		"SEV2 (peak SEV1)",
		"Draft",
		"| **Lead** | Ana Lima |",
		"| **Declared** | 2023-08-17 10:22 UTC |",
		"| **Resolved** | 2023-08-17 11:30 UTC |",
		"**Duration:** 1h 25m",
		"affected checkout and payments for 1h 25m.",
		"Rolled back [the deploy](https://git.example/pr/1) & flushed the cache.",
		"| Acknowledged | not recorded |",
		"| Time to acknowledge | not recorded |",
		"| Time to detect | 13m |",
		"Ana Lima: Cause: deploy 2023.08.17-3 <- rolling back",
		"bo: 5xx on /pay since 10:05, see [dashboard](https://grafana.example/d/1) ([link](https://slack.example/archives/C1/p1))",
		"file: [errors.png](https://files.example/errors.png)",
		"_incidentbot:_ Incident declared (SEV2) by @Ana Lima",
		"## Summary", "## Impact", "## Key times", "## Timeline", "## Root cause", "## Resolution",
		"## Lessons learned", "## Follow-up actions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("postmortem does not contain %q", want)
		}
	}
	for _, unwanted := range []string{"DELETED-LINE", "PENDING-LINE", "<@U1>", "&amp;", "&lt;", "not yet resolved"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("postmortem contains %q", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("postmortem:\n%s", out)
	}
}

func TestPostmortemTimesInUTC(t *testing.T) {
	in := resolvedIncident(t)
	tokyo := time.FixedZone("JST", 9*60*60)
	in.Incident.Times.Declared = in.Incident.Times.Declared.In(tokyo)
	in.Incident.Times.Resolved = in.Incident.Times.Resolved.In(tokyo)
	in.Timeline[0].At = in.Timeline[0].At.In(tokyo)
	out := render(t, incident.MustLoadDefaults(), in)
	for _, want := range []string{"| **Declared** | 2023-08-17 10:22 UTC |", "| **Resolved** | 2023-08-17 11:30 UTC |", "**[2023-08-17 10:22 UTC]**"} {
		if !strings.Contains(out, want) {
			t.Errorf("postmortem does not contain %q:\n%s", want, out)
		}
	}
}

func TestPostmortemOpenAndSparse(t *testing.T) {
	inc := incident.New(9, incident.Declaration{Title: "Search slow", Severity: incident.Sev4, By: ana, At: at(17, 9, 0)})
	out := render(t, incident.MustLoadDefaults(), incident.PostmortemInput{Incident: inc, Now: at(17, 9, 45)})
	for _, want := range []string{
		"# INC-9: Search slow",
		"| **Resolved** | not yet resolved |",
		"**End:** ongoing",
		"**Duration:** 45m so far",
		"measured from when the incident was declared",
		"| Started (impact began) | not recorded |",
		"| Detected | not recorded |",
		"| Mitigated | not recorded |",
		"| Time to resolve | not recorded |",
		"_No timeline entries were recorded.",
		"has been ongoing for 45m.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("postmortem does not contain %q", want)
		}
	}
	if strings.Contains(out, "(peak") {
		t.Error("an incident that never changed severity shows a peak")
	}
	if t.Failed() {
		t.Logf("postmortem:\n%s", out)
	}
}

// TestPostmortemMeasuresSayWhereTheyStart checks a measure taken from a
// fallback start says so, and the summary names the services affected.
func TestPostmortemMeasuresSayWhereTheyStart(t *testing.T) {
	tests := []struct {
		name     string
		times    incident.KeyTimes
		services []string
		want     []string
	}{
		{"started recorded", incident.KeyTimes{Started: at(17, 10, 0), Declared: at(17, 10, 30), Resolved: at(17, 11, 0)},
			[]string{"checkout"},
			[]string{"| Time to resolve | 1h 00m |", "affected checkout for 1h 00m.", "- **Start:** 2023-08-17 10:00 UTC\n"}},
		{"from detected", incident.KeyTimes{Detected: at(17, 10, 15), Declared: at(17, 10, 30), Resolved: at(17, 11, 0)},
			[]string{"checkout", "payments", "search"},
			[]string{"| Time to resolve | 45m (from detected) |", "affected checkout, payments and search for 45m.",
				"(impact start not recorded; measured from when the incident was detected)"}},
		{"from declared", incident.KeyTimes{Declared: at(17, 10, 30), Mitigated: at(17, 10, 40), Resolved: at(17, 11, 0)},
			nil,
			[]string{"| Time to resolve | 30m (from declared; started not recorded) |",
				"| Time to mitigate | 10m (from declared; started not recorded) |",
				"affected [which services and customers?] for 30m.", "_which services or components?_"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inc := incident.New(3, incident.Declaration{Title: "x", Severity: incident.Sev3, By: ana, At: tc.times.Declared,
				Services: tc.services})
			inc.Times = tc.times
			inc.Status = incident.Resolved
			out := render(t, incident.MustLoadDefaults(), incident.PostmortemInput{Incident: inc, Now: at(17, 12, 0)})
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("postmortem does not contain %q", w)
				}
			}
			if t.Failed() {
				t.Logf("postmortem:\n%s", out)
			}
		})
	}
}

// TestPostmortemGolden pins the whole draft of a small incident, so that a
// change to its formatting shows up in review. Regenerate with
//
//	go test ./incident -run Golden -update
func TestPostmortemGolden(t *testing.T) {
	got := render(t, incident.MustLoadDefaults(), resolvedIncident(t))
	golden := filepath.Join("testdata", "postmortem-basic.golden")
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

// lineDiff lists the lines that differ, numbered, as want/got pairs.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
