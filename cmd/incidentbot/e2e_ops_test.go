package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

func TestMetricsAppearAndMove(t *testing.T) {
	h := newHarness(t)
	if rec := h.get("/readyz", "127.0.0.1:5000"); rec.Code != http.StatusOK {
		t.Fatalf("/readyz = %d %s on a connected bot", rec.Code, rec.Body)
	}
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.idle()
	series := []string{
		`incidentbot_envelopes_received_total{type="slash_commands"}`,
		`incidentbot_envelopes_acked_total{type="slash_commands"}`,
		`incidentbot_ack_latency_seconds_count{type="slash_commands"}`,
		`incidentbot_slack_api_calls_total{method="conversations.create",outcome="ok"}`,
		`incidentbot_slack_api_calls_total{method="chat.postMessage",outcome="ok"}`,
		`incidentbot_jobs_total{kind="create_channel",outcome="ok"}`,
		`incidentbot_db_commit_seconds_count`,
		`incidentbot_open_incidents{severity="sev2"}`,
		`incidentbot_socket_connected`,
	}
	before := map[string]float64{}
	for _, s := range series {
		if before[s] = h.metric(s); before[s] <= 0 {
			t.Errorf("%s = %v after a declare, want > 0", s, before[s])
		}
	}
	h.slash(h.bob, h.general, "declare sev2 Search is slow")
	h.incidentChannel(2)
	h.idle()
	for _, s := range series[:len(series)-1] {
		if got := h.metric(s); got <= before[s] {
			t.Errorf("%s did not move after a second declare: %v → %v", s, before[s], got)
		}
	}
	h.slash(h.alice, ch.ID, "resolve fixed")
	h.idle()
	if got := h.metric(`incidentbot_open_incidents{severity="sev2"}`); got != 1 {
		t.Errorf("open sev2 incidents after resolving one of two = %v, want 1", got)
	}
	// A rate limit shows up as such.
	h.fake.FailNext("chat.postMessage", 1, slackfake.Fault{Status: 429, RetryAfter: time.Millisecond})
	h.slash(h.alice, ch.ID, "reopen")
	h.idle()
	if got := h.metric(`incidentbot_slack_api_calls_total{method="chat.postMessage",outcome="rate_limited"}`); got < 1 {
		t.Errorf("rate-limited chat.postMessage calls = %v, want ≥ 1", got)
	}
}

func TestBackupOfLiveDatabaseRestoresToIdenticalExport(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev1 Domain expired, every service down")
	ts := h.fake.PostMessage(h.alice, ch.ID, "SSL handshakes failing on every edge")
	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	h.slash(h.alice, ch.ID, "note --at 15m ago first alert fired")
	h.slash(h.alice, ch.ID, "followup short-term: alert on expiring domains <@"+h.bob+"|bob>")
	h.idle()

	if rec := h.get("/backup", "192.0.2.7:4000"); rec.Code != http.StatusForbidden {
		t.Errorf("/backup from a remote address = %d, want 403", rec.Code)
	}
	rec := h.get("/backup", "127.0.0.1:4000")
	if rec.Code != http.StatusOK {
		t.Fatalf("/backup = %d %s", rec.Code, rec.Body)
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl := incident.MustLoadDefaults()
	var live, restored []byte
	h.view(func(tx *store.Tx) error {
		doc, err := report.Postmortem(tx, tmpl, 1, at)
		live = []byte(doc)
		return err
	})
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	if err := db.View(func(tx *store.Tx) error {
		doc, err := report.Postmortem(tx, tmpl, 1, at)
		restored = []byte(doc)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live, restored) {
		t.Errorf("the restored export differs from the live one:\nlive:\n%s\nrestored:\n%s", live, restored)
	}
	if !bytes.Contains(restored, []byte("SSL handshakes failing")) || !bytes.Contains(restored, []byte("alert on expiring domains")) {
		t.Errorf("the restored export lacks the pinned message or the follow-up:\n%s", restored)
	}
}
