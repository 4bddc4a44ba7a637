package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/store"
)

// The generic JSON (a cron job, a relay, curl): firing pages, the same
// dedup_key resolved resolves.
func TestAlertGenericJSON(t *testing.T) {
	h, alerts := alHarness(t, "")
	firing := `{"dedup_key": "backup-db1", "status": "firing", "summary": "Nightly backup of db1 failed",
	  "severity": "error", "source": "cron", "details": {"team": "platform", "host": "db1"},
	  "links": [{"href": "https://runbooks.example.com/backup", "text": "Runbook"}]}`
	if code, answer := h.postAlert("/alerts/generic", alToken, []byte(firing)); code != http.StatusOK || !strings.Contains(answer, `"result":"new"`) {
		t.Fatalf("POST /alerts/generic: %d %s", code, answer)
	}
	msg := h.ExpectMessage(alerts, "ALERT-1", "Nightly backup of db1 failed", "runbooks.example.com/backup")
	page := h.ExpectDM(pgCarol, "You are being paged for ALERT-1")
	resolved := `{"dedup_key": "backup-db1", "status": "resolved"}`
	if code, answer := h.postAlert("/alerts/generic", alToken, []byte(resolved)); code != http.StatusOK || !strings.Contains(answer, `"result":"resolved"`) {
		t.Fatalf("POST /alerts/generic (resolved): %d %s", code, answer)
	}
	h.ExpectShows(alerts, msg.TS, "Resolved")
	h.ExpectShows(h.fake.DM(pgCarol), page.TS, "Paging stopped")
	// Missing fields get a clear 400.
	if code, answer := h.postAlert("/alerts/generic", alToken, []byte(`{"status": "firing", "summary": "x"}`)); code != http.StatusBadRequest || !strings.Contains(answer, "dedup_key") {
		t.Errorf("a generic alert without dedup_key: %d %s, want 400 naming dedup_key", code, answer)
	}
}

// Grafana's webhook contact point, from its documented example.
func TestAlertGrafanaWebhook(t *testing.T) {
	h, alerts := alHarness(t, "")
	body, err := os.ReadFile(filepath.Join("..", "..", "incident", "testdata", "alerts", "grafana-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, answer := h.postAlert("/alerts/grafana", alToken, body); code != http.StatusOK || !strings.Contains(answer, `"result":"new"`) {
		t.Fatalf("POST /alerts/grafana: %d %s", code, answer)
	}
	h.ExpectMessage(alerts, "ALERT-1", "This alert was triggered for zone us-1", "high memory usage", "myrunbook.com/runbook/1234")
	h.ExpectDM(pgCarol, "You are being paged for ALERT-1")
}

// An alert none of its token's routes match is posted to the first of them,
// marked, and pages nobody: nothing sent is dropped silently.
func TestAlertUnroutedIsShownNotPaged(t *testing.T) {
	h, alerts := alHarness(t, "    match: {team: platform}\n")
	a := amFiring("Other", "x", "warning", h.clock.Now())
	a.Labels["team"] = "data"
	body := []byte(strings.Replace(string(amPayload("Other", a)), `"team":"platform"`, `"team":"data"`, 1))
	h.fire(body, "new")
	h.ExpectMessage(alerts, "ALERT-1", "Matched no route")
	h.idle()
	if n := len(h.alertPages(pgCarol)); n != 0 {
		t.Errorf("carol got %d pages for an unrouted alert, want 0", n)
	}
}

// `incidentbot alerts` lists the open alerts from the database, offline.
func TestAlertsCommand(t *testing.T) {
	h, _ := alHarness(t, "")
	h.fire(amPayload("HighErrorRate", amFiring("HighErrorRate", "checkout-1", "error", h.clock.Now())), "new")
	h.idle()
	h.stop()
	code, out, errOut := command(t, map[string]string{"INCIDENTBOT_DB": h.cfg.DB, "INCIDENTBOT_HTTP_ADDR": ""}, "alerts")
	if code != 0 || !strings.Contains(out, "ALERT-1") || !strings.Contains(out, "HighErrorRate") {
		t.Errorf("incidentbot alerts = %d:\n%s%s", code, out, errOut)
	}
	env := offlineEnv(t)
	db, err := store.Open(env["INCIDENTBOT_DB"], store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	code, out, _ = command(t, env, "alerts")
	if code != 0 || !strings.Contains(out, "No open alerts") {
		t.Errorf("incidentbot alerts on an empty database = %d: %q", code, out)
	}
}
