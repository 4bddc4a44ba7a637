package incident

import (
	"strings"
	"testing"
	"time"
)

func testAlert(fp string, status AlertStatus, start int, summary string) Alert {
	a := Alert{Fingerprint: fp, Status: status, Summary: summary, Labels: map[string]string{"fp": fp}}
	if start > 0 {
		a.StartsAt = time.Date(2024, 5, 1, 10, start, 0, 0, time.UTC)
	}
	return a
}

func testGroup(status AlertStatus, alerts ...Alert) *AlertGroup {
	return &AlertGroup{
		Source: SourceAlertmanager, Key: "k", Status: status, Alerts: alerts,
		GroupLabels: map[string]string{"service": "checkout", "alertname": "HighErrorRate"},
	}
}

func statuses(g *AlertGroup) string {
	var b strings.Builder
	b.WriteString(string(g.Status) + ":")
	for _, a := range g.Alerts {
		b.WriteString(" " + a.Fingerprint + "=" + string(a.Status))
	}
	return b.String()
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name  string
		first *AlertGroup
		next  *AlertGroup
		want  string
	}{
		{"repeat", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, "")),
			testGroup(AlertFiring, testAlert("a", AlertFiring, 1, "")), "firing: a=firing"},
		{"joins", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, "")),
			testGroup(AlertFiring, testAlert("b", AlertFiring, 2, ""), testAlert("a", AlertFiring, 1, "")), "firing: a=firing b=firing"},
		{"one resolves", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, ""), testAlert("b", AlertFiring, 2, "")),
			testGroup(AlertFiring, testAlert("a", AlertResolved, 1, ""), testAlert("b", AlertFiring, 2, "")), "firing: a=resolved b=firing"},
		{"all resolve", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, ""), testAlert("b", AlertFiring, 2, "")),
			testGroup(AlertFiring, testAlert("a", AlertResolved, 1, ""), testAlert("b", AlertResolved, 2, "")), "resolved: a=resolved b=resolved"},
		{"group resolves absent ones", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, ""), testAlert("b", AlertFiring, 2, "")),
			testGroup(AlertResolved, testAlert("a", AlertResolved, 1, "")), "resolved: a=resolved b=resolved"},
		{"absent stays firing", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, ""), testAlert("b", AlertFiring, 2, "")),
			testGroup(AlertFiring, testAlert("a", AlertResolved, 1, "")), "firing: a=resolved b=firing"},
		{"refires", testGroup(AlertResolved, testAlert("a", AlertResolved, 1, "")),
			testGroup(AlertFiring, testAlert("a", AlertFiring, 5, "")), "firing: a=firing"},
		{"nil", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, "")), nil, "firing: a=firing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.first.Merge(tt.next)
			if got := statuses(tt.first); got != tt.want {
				t.Errorf("after Merge: %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMergeKeepsStartAndCopies(t *testing.T) {
	g := testGroup(AlertFiring, testAlert("a", AlertFiring, 1, "old"))
	next := testGroup(AlertFiring, testAlert("a", AlertFiring, 9, "new"), testAlert("b", AlertFiring, 0, ""))
	next.Labels = map[string]string{"team": "platform"}
	next.Title = "t"
	g.Merge(next)
	a := g.Alerts[0]
	if a.StartsAt.Minute() != 1 || a.Summary != "new" {
		t.Errorf("merged alert = %+v: the start is kept, the rest is next's", a)
	}
	if g.Labels["team"] != "platform" || g.Title != "t" {
		t.Errorf("group fields not updated: %+v", g)
	}
	next.Alerts[0].Labels["fp"] = "changed"
	next.Labels["team"] = "changed"
	if g.Alerts[0].Labels["fp"] != "a" || g.Labels["team"] != "platform" {
		t.Errorf("Merge shares maps with next")
	}
	if got := g.EarliestStart(); got.Minute() != 1 {
		t.Errorf("EarliestStart = %v", got)
	}
}

func TestSummary(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name string
		g    *AlertGroup
		want string
	}{
		{"firing", testGroup(AlertFiring, testAlert("a", AlertResolved, 1, "first"), testAlert("b", AlertFiring, 2, "Error rate 7%\non checkout")),
			"[FIRING:1] HighErrorRate checkout — Error rate 7% on checkout"},
		{"two firing", testGroup(AlertFiring, testAlert("a", AlertFiring, 1, ""), testAlert("b", AlertFiring, 2, "")),
			"[FIRING:2] HighErrorRate checkout"},
		{"resolved", testGroup(AlertResolved, testAlert("a", AlertResolved, 1, "first")),
			"[RESOLVED] HighErrorRate checkout — first"},
		{"no group labels", &AlertGroup{Key: "k", Status: AlertFiring, Labels: map[string]string{"alertname": "DiskFull"}, Alerts: []Alert{testAlert("a", AlertFiring, 1, "")}},
			"[FIRING:1] DiskFull"},
		{"generic", &AlertGroup{Key: "k", Status: AlertFiring, Title: "Backup failed", Alerts: []Alert{testAlert("k", AlertFiring, 0, "Backup failed")}},
			"[FIRING:1] Backup failed"},
		{"nothing", &AlertGroup{Key: "{}:{}", Status: AlertFiring, Alerts: []Alert{testAlert("a", AlertFiring, 0, "")}},
			`[FIRING:1] alert group "{}:{}"`},
	}
	for _, tt := range tests {
		if got := tt.g.Summary(); got != tt.want {
			t.Errorf("%s: Summary() = %q, want %q", tt.name, got, tt.want)
		}
	}
	g := testGroup(AlertFiring, testAlert("a", AlertFiring, 1, long))
	if s := g.Summary(); len([]rune(s)) != MaxAlertSummary || !strings.HasSuffix(s, "…") {
		t.Errorf("long Summary has %d runes: %q", len([]rune(s)), s)
	}
}

func TestEarliestStart(t *testing.T) {
	g := testGroup(AlertFiring, testAlert("a", AlertFiring, 0, ""), testAlert("b", AlertFiring, 7, ""), testAlert("c", AlertResolved, 3, ""))
	if got := g.EarliestStart(); got.Minute() != 3 {
		t.Errorf("EarliestStart = %v, want minute 3 (zero times skipped, resolved alerts count)", got)
	}
	if !testGroup(AlertFiring, testAlert("a", AlertFiring, 0, "")).EarliestStart().IsZero() {
		t.Errorf("no times: want zero")
	}
}

func TestMergeFixtures(t *testing.T) {
	g, err := DecodeAlertmanager(fixture(t, "alertmanager-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeAlertmanager(fixture(t, "alertmanager-resolved.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.Merge(r)
	if g.Status != AlertResolved || len(g.Alerts) != 1 || g.Alerts[0].EndsAt.IsZero() {
		t.Errorf("after the resolution: %s", statuses(g))
	}
	if got := g.Summary(); !strings.HasPrefix(got, "[RESOLVED] ProbeFailure") {
		t.Errorf("Summary() = %q", got)
	}
}
