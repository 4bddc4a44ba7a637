package alerts

// Golden tests of the alert message in every state, a test that hostile
// and huge alerts stay within Slack's limits and never ping, and a table
// test of renderAlertList. Regenerate the golden files after an intended
// change with
//
//	go test ./handlers/alerts -run TestRenderAlertGolden -update
//
// and read the diff.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

// renderUpdate reports whether -update was given. The flag is registered
// here only if no other test file of the package registered it first, so
// that the package's other golden tests can share it.
var renderUpdate = renderUpdateFlag()

func renderUpdateFlag() func() bool {
	if f := flag.Lookup("update"); f != nil {
		return func() bool { return f.Value.String() == "true" }
	}
	p := flag.Bool("update", false, "rewrite testdata/*.golden from what the renderer does")
	return func() bool { return *p }
}

// renderT0 is 12:00; the fixtures' times are minutes after it.
var renderT0 = time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)

func renderAt(m int) time.Time { return renderT0.Add(time.Duration(m) * time.Minute) }

var (
	renderAna = incident.User{ID: "U0ANA0001", Name: "ana"}
	renderBob = incident.User{ID: "U0BOB0001", Name: "bob"}
)

// renderFiring is ALERT-7: two alerts of HighErrorRate checkout, one
// firing with a runbook and links, one resolved; started 12:01, received
// 12:02, three notifications.
func renderFiring() *incident.AlertRecord {
	return &incident.AlertRecord{
		ID: 7, Route: "platform", Severity: incident.Sev2, Status: incident.AlertFiring,
		Received: renderAt(2), Updated: renderAt(4), Notifications: 3, Channel: "C0ALERTS1", TS: "1709640120.000100",
		Group: incident.AlertGroup{
			Source: incident.SourceAlertmanager, Key: `{}:{alertname="HighErrorRate"}`, Status: incident.AlertFiring,
			Labels:      map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
			GroupLabels: map[string]string{"alertname": "HighErrorRate", "service": "checkout"},
			Alerts: []incident.Alert{
				{Fingerprint: "fp2", Status: incident.AlertResolved, Labels: map[string]string{"alertname": "HighErrorRate", "instance": "db2"},
					Summary: "Error rate above 5%", StartsAt: renderAt(1), EndsAt: renderAt(3)},
				{Fingerprint: "fp1", Status: incident.AlertFiring, Labels: map[string]string{"alertname": "HighErrorRate", "instance": "db1"},
					Summary: "Error rate above 5%", Value: "B=7.12 C=1", StartsAt: renderAt(1),
					Description: "5xx responses are 7% of all requests.\n\nSee the dashboard.",
					RunbookURL:  "https://runbooks.example.com/high-error-rate",
					Links: []incident.AlertLink{{URL: "https://prom.example.com/graph?g0.expr=rate(x)&g0.tab=1", Text: "Source"},
						{URL: "https://grafana.example.com/silence?a=b c", Text: "Silence"}}},
			},
		},
	}
}

// renderPolicy is the escalation of policy platform, level 1 of 2, paging
// bob through schedule primary and PagerDuty.
func renderPolicy() incident.Escalation {
	return incident.Escalation{
		ID: 1, Policy: "platform", State: incident.EscalationActive, Started: renderAt(2), Due: renderAt(7),
		Levels: []incident.Level{{Targets: []incident.Target{"schedule:primary", "pagerduty:R0UTINGKEY42"}, Timeout: 5 * time.Minute},
			{Targets: []incident.Target{"U0CAROL01"}, Timeout: 5 * time.Minute}},
		Pages: []incident.Page{
			{ID: 1, Target: "schedule:primary", User: renderBob, Schedule: "primary", At: renderAt(2), State: incident.PageSent},
			{ID: 2, Target: "pagerduty:R0UTINGKEY42", At: renderAt(2), State: incident.PageSent},
		},
	}
}

// renderHostile is an alert whose every text tries to ping, link, format
// or flood.
func renderHostile() *incident.AlertRecord {
	a := renderFiring()
	evil := "<!channel> @here *bold* <https://evil.example|click> ``` <@U0EVIL01> \x1b[31m\u202eevil"
	a.Group.Labels = map[string]string{"alertname": "<!channel> DB *down*", "team": "<https://evil.example|click>"}
	a.Group.GroupLabels = map[string]string{"alertname": "<!channel> DB *down*", "team": "@here\n```"}
	a.Group.Title = evil
	a.Group.Alerts = []incident.Alert{{
		Fingerprint: "<!here>", Status: incident.AlertFiring, StartsAt: renderAt(1),
		Labels:      map[string]string{"instance": evil, "<!everyone>": "x\ny"},
		Annotations: map[string]string{"summary": evil},
		Summary:     evil + "\nsecond line", Value: "```" + evil,
		Description: strings.Repeat("line <!here> ```code``` @channel *x* <https://evil.example|click>\n", 160), // ~10 KB
		RunbookURL:  "https://runbook.example/a|b>c <!here>",
		Links: []incident.AlertLink{{URL: "https://dash.example/d?x=1&y=<!here>|pwn", Text: "<!channel> *Dash*|x>"},
			{URL: "javascript:alert(1)", Text: "js"}},
	}}
	a.Escalations = incident.Escalations{{ID: 1, Policy: "platform", State: incident.EscalationExhausted, Ended: renderAt(9),
		Levels: []incident.Level{{Targets: []incident.Target{"opsgenie:OPSGENIE_API_KEY"}}},
		Pages:  []incident.Page{{ID: 1, Target: "opsgenie:OPSGENIE_API_KEY", State: incident.PageFailed, Error: "HTTP 401: " + evil}}}}
	return a
}

// renderCases are the golden cases: testdata/<name>.golden each.
func renderCases() map[string]func() (*incident.AlertRecord, renderView) {
	now := renderView{Command: "/incident", Now: renderAt(6)}
	return map[string]func() (*incident.AlertRecord, renderView){
		"firing": func() (*incident.AlertRecord, renderView) { return renderFiring(), now },
		"acknowledged": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			e := renderPolicy()
			e.Acknowledge(renderAna, renderAt(3))
			a.Escalations = incident.Escalations{e}
			a.Acknowledge(renderAna, renderAt(3))
			return a, now
		},
		"paged": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			a.Escalations = incident.Escalations{renderPolicy()}
			return a, now
		},
		"exhausted": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			e := renderPolicy()
			e.Pages = append(e.Pages, incident.Page{ID: 3, Target: "U0CAROL01", User: incident.User{ID: "U0CAROL01"}, Level: 1, Step: 1,
				State: incident.PageFailed, Error: "the DM could not be opened: user_disabled"})
			e.Level, e.Step, e.State, e.Ended, e.Due = 1, 1, incident.EscalationExhausted, renderAt(12), time.Time{}
			a.Escalations = incident.Escalations{e}
			return a, renderView{Now: renderAt(13)}
		},
		"quiet": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			a.PageAt = renderAt(9)
			return a, now
		},
		"resolved_by_source": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			a.Group.Alerts[1].Status, a.Group.Alerts[1].EndsAt, a.Group.Status = incident.AlertResolved, renderAt(29), incident.AlertResolved
			a.Resolve(incident.User{}, renderAt(30))
			return a, renderView{Now: renderAt(31)}
		},
		"resolved_by_person": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			a.Resolve(renderAna, renderAt(30))
			return a, renderView{Now: renderAt(31)}
		},
		"declared": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			a.Incident = 12
			a.Acknowledge(renderAna, renderAt(3))
			return a, renderView{Now: renderAt(6), IncidentRef: "INC-12", IncidentChannel: "C0INC0012"}
		},
		"storm": func() (*incident.AlertRecord, renderView) {
			storm := &incident.AlertRecord{ID: 9, Route: "platform", Severity: incident.Sev2, Status: incident.AlertFiring,
				Received: renderAt(2), Updated: renderAt(3), Notifications: 45,
				Group: incident.AlertGroup{Source: incident.SourceStorm, Key: "storm", Status: incident.AlertFiring}}
			v := now
			for i := range 45 {
				m := renderFiring()
				m.ID, m.Storm = int64(100+i), 9
				m.Group.GroupLabels = map[string]string{"alertname": "DiskFull", "instance": fmt.Sprintf("db%d", i)}
				storm.Gathered = append(storm.Gathered, m.ID)
				v.StormMembers = append(v.StormMembers, m)
			}
			p := renderPolicy()
			p.Pages = p.Pages[:1]
			storm.Escalations = incident.Escalations{p}
			return storm, v
		},
		"unrouted": func() (*incident.AlertRecord, renderView) {
			a := renderFiring()
			a.Unrouted = true
			return a, now
		},
		"hostile": func() (*incident.AlertRecord, renderView) { return renderHostile(), now },
	}
}

// renderJSON is the golden form of a message.
func renderJSON(t *testing.T, text string, blocks []slack.Block) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep <…> readable, and visible to the checks below
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}{text, blocks}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRenderAlertGolden(t *testing.T) {
	for name, build := range renderCases() {
		t.Run(name, func(t *testing.T) {
			a, v := build()
			text, blocks := renderAlert(a, v)
			renderCheckLimits(t, text, blocks)
			got := renderJSON(t, text, blocks)
			file := filepath.Join("testdata", name+".golden")
			if renderUpdate() {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what renderAlert gives (run with -update and read the diff):\n%s", file, got)
			}
		})
	}
}

// renderLive finds what Slack would act on in text that came from an
// alert: a <!…> command, a plain special mention not broken by the word
// joiner, the hostile link, a code fence, a bidi override.
var renderLive = regexp.MustCompile("(?i)<!|@(here|channel|everyone)\\b|<https://evil|<@U0EVIL|```|\u202e|\x1b")

func TestRenderHostileTextIsInert(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "hostile.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if m := renderLive.Find(golden); m != nil {
		t.Errorf("hostile.golden holds %q", m)
	}
	a, v := renderHostile(), renderView{Now: renderAt(6)}
	text, blocks := renderAlert(a, v)
	for _, s := range append(renderTexts(blocks), text) {
		if m := renderLive.FindString(s); m != "" {
			t.Errorf("%q holds %q", s, m)
		}
	}
	// The bot's own links still work: the runbook, percent-encoded.
	if !bytes.Contains(golden, []byte("<https://runbook.example/a%7Cb%3Ec%20%3C!here%3E|Runbook>")) {
		t.Errorf("the runbook link is missing or not escaped:\n%s", golden)
	}
	if bytes.Contains(golden, []byte("javascript:")) {
		t.Error("a javascript: link was shown")
	}
}

// renderTexts lists every text of the blocks.
func renderTexts(blocks []slack.Block) []string {
	var out []string
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil {
				out = append(out, b.Text.Text)
			}
			for _, f := range b.Fields {
				out = append(out, f.Text)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if o, ok := e.(*slack.TextBlockObject); ok {
					out = append(out, o.Text)
				}
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					out = append(out, btn.Text.Text)
				}
			}
		}
	}
	return out
}

// renderCheckLimits fails when a message passes a limit of Slack's. Bytes
// are counted, never fewer than Slack's characters.
func renderCheckLimits(t *testing.T, text string, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > 50 {
		t.Errorf("%d blocks, over 50", len(blocks))
	}
	if len(text) > 4000 {
		t.Errorf("text is %d bytes, over 4000", len(text))
	}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock, *slack.ContextBlock:
			for _, s := range renderTexts([]slack.Block{b}) {
				if len(s) > 3000 {
					t.Errorf("a %s's text is %d bytes, over 3000", b.BlockType(), len(s))
				}
			}
		case *slack.ActionBlock:
			if len(b.BlockID) > 255 {
				t.Errorf("block_id %q is over 255", b.BlockID)
			}
			for _, s := range renderTexts([]slack.Block{b}) {
				if len(s) > 75 {
					t.Errorf("button text %q is over 75", s)
				}
			}
		}
	}
}

func TestRenderAlertLimits(t *testing.T) {
	big := strings.Repeat("<&@here x ", 512) // 5 KB, and every byte escapes to more
	a := renderFiring()
	a.Group.Truncated = 12
	a.Group.Title = big
	a.Group.Alerts = nil
	for i := range 500 {
		var links []incident.AlertLink
		for range 20 {
			links = append(links, incident.AlertLink{URL: "https://x.example/" + strings.Repeat("a", 5000), Text: big})
		}
		links = append(links, incident.AlertLink{URL: "https://x.example/short", Text: big})
		a.Group.Alerts = append(a.Group.Alerts, incident.Alert{
			Fingerprint: fmt.Sprint(i), Status: incident.AlertFiring, Summary: big, Value: big, Description: big,
			Labels: map[string]string{"a": big, "b": big, "c": big}, Annotations: map[string]string{"x": big},
			RunbookURL: "https://x.example/" + big, Links: links,
		})
	}
	e := renderPolicy()
	for i := range 500 {
		e.Pages = append(e.Pages, incident.Page{ID: 3 + i, Target: incident.Target(fmt.Sprintf("webhook:https://h%d.example/%s", i, big)),
			State: incident.PageFailed, Error: big})
	}
	a.Escalations = incident.Escalations{e, e, e}
	storm := &incident.AlertRecord{ID: 9, Route: big, Status: incident.AlertFiring, Received: renderAt(2),
		Group: incident.AlertGroup{Source: incident.SourceStorm, Status: incident.AlertFiring}}
	v := renderView{Now: renderAt(6), IncidentRef: big, IncidentChannel: big}
	for i := range 500 {
		m := renderFiring()
		m.ID, m.Group.Title, m.Group.GroupLabels = int64(i+10), big, nil
		v.StormMembers = append(v.StormMembers, m)
	}
	for _, rec := range []*incident.AlertRecord{a, storm} {
		text, blocks := renderAlert(rec, v)
		renderCheckLimits(t, text, blocks)
		if m := renderLive.FindString(string(renderJSON(t, text, blocks))); m != "" {
			t.Errorf("%s: holds %q", rec.Ref(), m)
		}
	}
}

func TestRenderAlertList(t *testing.T) {
	rec := func(id int64, received int, edit func(*incident.AlertRecord)) *incident.AlertRecord {
		a := renderFiring()
		a.ID, a.Received = id, renderAt(received)
		if edit != nil {
			edit(a)
		}
		return a
	}
	var many []*incident.AlertRecord
	for i := range 60 {
		many = append(many, rec(int64(i+1), i, nil))
	}
	resolved := rec(3, 0, func(a *incident.AlertRecord) { a.Resolve(renderAna, renderAt(5)) })
	acked := rec(5, 3, func(a *incident.AlertRecord) { a.Acknowledge(renderAna, renderAt(4)); a.Incident = 12 })
	hostile := rec(6, 1, func(a *incident.AlertRecord) { a.Group = renderHostile().Group })
	tests := []struct {
		name     string
		alerts   []*incident.AlertRecord
		markdown bool
		want     string   // the whole text, when set
		lines    int      // else its line count
		has, not []string // and what it holds, or must not
	}{
		{name: "empty", want: "No open alerts.", markdown: true},
		{name: "empty plain", want: "No open alerts."},
		{name: "only resolved", alerts: []*incident.AlertRecord{resolved}, markdown: true, want: "No open alerts."},
		{name: "newest first", alerts: []*incident.AlertRecord{rec(7, 0, nil), resolved, acked}, markdown: true, want: "*2 open alerts*, newest first:\n" +
			"• :eyes: *ALERT-5* · sev2 · [FIRING:1] HighErrorRate checkout — Error rate above 5% · route platform · for 5m · acknowledged by <@U0ANA0001> · INC-12\n" +
			"• :red_circle: *ALERT-7* · sev2 · [FIRING:1] HighErrorRate checkout — Error rate above 5% · route platform · for 6m"},
		{name: "plain", alerts: []*incident.AlertRecord{rec(7, 0, nil), acked}, want: "" +
			"ID       STATUS        SEVERITY  ROUTE     FOR  INCIDENT  TITLE\n" +
			"ALERT-5  acknowledged  sev2      platform  5m   INC-12    [FIRING:1] HighErrorRate checkout — Error rate above 5%\n" +
			"ALERT-7  firing        sev2      platform  6m   -         [FIRING:1] HighErrorRate checkout — Error rate above 5%"},
		{name: "over 50", alerts: many, markdown: true, lines: 52,
			has: []string{"*60 open alerts*, newest first:\n• :red_circle: *ALERT-60*", "*ALERT-11*", "\n… and 10 more"}, not: []string{"*ALERT-10*"}},
		{name: "over 50 plain", alerts: many, lines: 52, has: []string{"\nALERT-60 ", "\n… and 10 more"}, not: []string{"ALERT-10 "}},
		{name: "hostile", alerts: []*incident.AlertRecord{hostile}, markdown: true, lines: 2, not: []string{"<!", "<https://evil", "```", "\x1b"}},
		{name: "hostile plain", alerts: []*incident.AlertRecord{hostile}, lines: 2, not: []string{"\x1b", "\u202e", "@here"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renderAlertList(tc.alerts, renderAt(6), tc.markdown)
			if tc.want != "" && got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if n := strings.Count(got, "\n") + 1; tc.lines > 0 && n != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", n, tc.lines, got)
			}
			for _, s := range tc.has {
				if !strings.Contains(got, s) {
					t.Errorf("%q missing from\n%s", s, got)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(got, s) {
					t.Errorf("%q in\n%s", s, got)
				}
			}
		})
	}
}
