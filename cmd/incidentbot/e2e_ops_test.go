package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
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
