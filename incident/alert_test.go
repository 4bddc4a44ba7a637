package incident

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fixtures under testdata/alerts are copied from documented examples:
//   - alertmanager-firing.json: the version 4 sample payload published with
//     the alertmanager-webhook-types crate (docs.rs, assets/sample-v4-payload.json),
//     the fields of Prometheus' webhook_config documentation; -resolved is the
//     same group resolved.
//   - grafana-firing.json: the "Webhook JSON payload" of Grafana's webhook
//     notifier documentation (docs/sources/alerting/configure-notifications/
//     manage-contact-points/integrations/webhook-notifier.md), verbatim.
//   - generic-firing.json: incidentbot's own generic JSON (issue 16).
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alerts", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeAlertmanagerFixture(t *testing.T) {
	g, err := DecodeAlertmanager(fixture(t, "alertmanager-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != SourceAlertmanager || g.Status != AlertFiring || g.Key != `{}/{severity="critical"}:{alertname="ProbeFailure"}` {
		t.Errorf("group = %s %s %q", g.Source, g.Status, g.Key)
	}
	if g.Labels["severity"] != "critical" || g.GroupLabels["alertname"] != "ProbeFailure" || g.ExternalURL != "http://prometheus.example.org:9093" {
		t.Errorf("labels %v group %v url %q", g.Labels, g.GroupLabels, g.ExternalURL)
	}
	if len(g.Alerts) != 1 {
		t.Fatalf("%d alerts", len(g.Alerts))
	}
	a := g.Alerts[0]
	want := time.Date(2023, 2, 6, 13, 8, 45, 828e6, time.UTC)
	if a.Fingerprint != "1a30ba71cca2921f" || a.Status != AlertFiring || !a.StartsAt.Equal(want) || !a.EndsAt.IsZero() {
		t.Errorf("alert = %+v", a)
	}
	if a.Summary != "BlackBox Probe Failure: https://server.example.org" || !strings.HasPrefix(a.Description, "Instance https://server.example.org has been down") {
		t.Errorf("summary %q description %q", a.Summary, a.Description)
	}
	if len(a.Links) != 1 || a.Links[0].Text != "Source" || !strings.Contains(a.Links[0].URL, "g0.expr=probe_success") {
		t.Errorf("links = %+v", a.Links)
	}
	if got := g.Summary(); got != "[FIRING:1] ProbeFailure — BlackBox Probe Failure: https://server.example.org" {
		t.Errorf("Summary() = %q", got)
	}

	r, err := DecodeAlertmanager(fixture(t, "alertmanager-resolved.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != AlertResolved || r.Alerts[0].Status != AlertResolved || r.Alerts[0].EndsAt.IsZero() {
		t.Errorf("resolved = %s %+v", r.Status, r.Alerts[0])
	}
}

func TestDecodeGrafanaFixture(t *testing.T) {
	g, err := DecodeGrafana(fixture(t, "grafana-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != SourceGrafana || g.Key != "{}:{}" || g.Title != "[FIRING:2] (blue)" || g.Labels["team"] != "blue" {
		t.Errorf("group = %s %q %q %v", g.Source, g.Key, g.Title, g.Labels)
	}
	if len(g.Alerts) != 2 {
		t.Fatalf("%d alerts", len(g.Alerts))
	}
	a := g.Alerts[0]
	if a.Fingerprint != "c6eadffa33fcdf37" || a.RunbookURL != "https://myrunbook.com/runbook/1234" || a.Value != "B=44.24 C=1" {
		t.Errorf("alert = %+v", a)
	}
	if len(a.Links) != 2 || a.Links[0].Text != "Source" || a.Links[1].Text != "Silence" {
		t.Errorf("links = %+v (empty dashboard and panel URLs are dropped)", a.Links)
	}
	want := time.Date(2021, 10, 12, 7, 51, 3, 157076e3, time.UTC)
	if !g.EarliestStart().Equal(want) {
		t.Errorf("EarliestStart = %v, want %v", g.EarliestStart(), want)
	}
	if got := g.Summary(); got != "[FIRING:2] (blue) — This alert was triggered for zone us-1" {
		t.Errorf("Summary() = %q", got)
	}
}

func TestDecodeGenericFixture(t *testing.T) {
	g, err := DecodeGeneric(fixture(t, "generic-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != SourceGeneric || g.Key != "nightly-backup-db1" || g.Status != AlertFiring || g.Title != "Nightly backup of db1 failed" {
		t.Errorf("group = %+v", g)
	}
	a := g.Alerts[0]
	if a.Fingerprint != g.Key || a.Labels["team"] != "platform" || a.Labels["severity"] != "error" || a.Labels["source"] != "cron@backup-runner" {
		t.Errorf("labels = %v", a.Labels)
	}
	if _, ok := a.Labels["exit_code"]; ok || a.Annotations["exit_code"] != "1" || a.Description != "pg_dump exited with status 1" {
		t.Errorf("annotations = %v, description %q", a.Annotations, a.Description)
	}
	if len(a.Links) != 1 || a.Links[0] != (AlertLink{URL: "https://runbooks.example.org/backup", Text: "Runbook"}) {
		t.Errorf("links = %+v (javascript: must be dropped)", a.Links)
	}
	if !g.EarliestStart().IsZero() {
		t.Errorf("generic alerts carry no time")
	}
}

func TestDecodeErrors(t *testing.T) {
	am := func(s string) []byte {
		return []byte(`{"version":"4","groupKey":"k","status":"firing","alerts":[` + s + `]}`)
	}
	tests := []struct {
		name   string
		decode func([]byte) (*AlertGroup, error)
		body   string
		want   string
	}{
		{"empty", DecodeAlertmanager, "  ", "Alertmanager payload: The body is empty."},
		{"syntax", DecodeAlertmanager, `{"status": firing}`, "not valid JSON (syntax error at byte 13)"},
		{"truncated", DecodeGrafana, `{"status": "firing"`, "Grafana payload: The body is not valid JSON"},
		{"array", DecodeAlertmanager, `[1,2]`, "The body is JSON array, not an object."},
		{"field type", DecodeAlertmanager, `{"alerts": {"secret": "hunter2"}}`, `"alerts" is JSON object, not an array.`},
		{"no version", DecodeAlertmanager, `{"groupKey":"k","status":"firing","alerts":[{}]}`, `"version" is missing`},
		{"version", DecodeAlertmanager, `{"version":"5","groupKey":"k"}`, `"version" is "5"; only version 4 is understood.`},
		{"am version to grafana", DecodeGrafana, string(am(`{}`)), `"version" is "4"; only version 1 is understood.`},
		{"no key", DecodeAlertmanager, `{"version":"4","status":"firing","alerts":[{}]}`, `"groupKey" is missing.`},
		{"no alerts", DecodeAlertmanager, `{"version":"4","groupKey":"k","status":"firing","alerts":[]}`, `"alerts" is empty.`},
		{"no status", DecodeAlertmanager, `{"version":"4","groupKey":"k","alerts":[{}]}`, `"status" is missing; it is firing or resolved.`},
		{"bad status", DecodeAlertmanager, `{"version":"4","groupKey":"k","status":"pending","alerts":[{}]}`, `"status" is "pending", not firing or resolved.`},
		{"alert status", DecodeAlertmanager, string(am(`{"status":"acked","fingerprint":"f"}`)), `alerts[0]: "status" is "acked"`},
		{"alert identity", DecodeAlertmanager, string(am(`{"status":"firing"}`)), `alerts[0]: it has neither "fingerprint" nor "labels".`},
		{"alert time", DecodeAlertmanager, string(am(`{"status":"firing","fingerprint":"f","startsAt":"yesterday"}`)), `alerts[0]: "startsAt" is not an RFC 3339 time.`},
		{"time type", DecodeAlertmanager, string(am(`{"status":"firing","fingerprint":"f","endsAt":5}`)), `"alerts.endsAt" is JSON number, not a string.`},
		{"long status", DecodeAlertmanager, `{"version":"4","groupKey":"k","status":"` + strings.Repeat("x", 100) + `","alerts":[{}]}`, `"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"…, not firing`},
		{"generic key", DecodeGeneric, `{"status":"firing","summary":"s"}`, `Generic alert payload: "dedup_key" is missing.`},
		{"generic long key", DecodeGeneric, `{"dedup_key":"` + strings.Repeat("k", 300) + `","status":"firing","summary":"s"}`, `"dedup_key" is 300 bytes, over the limit of 255.`},
		{"generic status", DecodeGeneric, `{"dedup_key":"k","status":"open","summary":"s"}`, `"status" is "open", not firing or resolved.`},
		{"generic summary", DecodeGeneric, `{"dedup_key":"k","status":"firing"}`, `"summary" is missing; a firing alert needs one.`},
		{"generic details", DecodeGeneric, `{"dedup_key":"k","status":"firing","summary":"s","details":"text"}`, `"details" is JSON string, not an object.`},
		{"generic links", DecodeGeneric, `{"dedup_key":"k","status":"firing","summary":"s","links":"x"}`, `"links" is JSON string, not an array.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := tt.decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error, got %+v", g)
			}
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) {
				t.Errorf("%T is not an InputError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q echoes the body", err)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	// A resolved generic alert needs no summary; status is read in any case;
	// an alert without fingerprint is identified by its labels.
	g, err := DecodeGeneric([]byte(`{"dedup_key":" k ","status":"RESOLVED"}`))
	if err != nil || g.Key != "k" || g.Status != AlertResolved {
		t.Fatalf("%+v %v", g, err)
	}
	body := `{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"a":"1"}},{"status":"firing","labels":{"a":"2"}}]}`
	g, err = DecodeAlertmanager([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if f0, f1 := g.Alerts[0].Fingerprint, g.Alerts[1].Fingerprint; len(f0) != 16 || f0 == f1 {
		t.Errorf("fingerprints %q %q", f0, f1)
	}
	g2, _ := DecodeAlertmanager([]byte(body))
	if g2.Alerts[0].Fingerprint != g.Alerts[0].Fingerprint {
		t.Errorf("label fingerprints are not stable")
	}
}
