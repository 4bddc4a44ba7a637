package main

import (
	"strings"
	"testing"
	"time"
)

// The real Prometheus Alertmanager (v0.35.0, built from its module) sends
// its webhook with the route's bearer token to the bot's receiver: the
// alert is posted, pages the on-call, and Alertmanager's resolution
// resolves it and stops paging.
func TestRealAlertmanagerPagesThroughTheBot(t *testing.T) {
	alertmanagerBinary(t) // builds (or skips, saying why) before the bot starts
	h, alerts := alHarness(t, "")
	am := startAlertmanager(t, "http://"+h.cfg.AlertsAddr+"/alerts/alertmanager", alToken)
	firing := alertmanagerAlert{
		Labels:       map[string]string{"alertname": "CheckoutErrors", "team": "platform", "severity": "error", "service": "checkout"},
		Annotations:  map[string]string{"summary": "Checkout error rate above 5%", "runbook_url": "https://runbooks.example.com/checkout"},
		StartsAt:     time.Now().Add(-2 * time.Minute),
		GeneratorURL: "http://prometheus.example.com/graph?g0.expr=rate",
	}
	am.Post(t, firing)
	wait := func(what string, cond func() bool) { t.Helper(); waitUntil(t, h.fake, what, 60*time.Second, cond) }
	wait("the alert's message", func() bool { return len(alertMessages(h.fake, alerts)) == 1 })
	msg := alertMessages(h.fake, alerts)[0]
	if !strings.Contains(msg.Text+string(msg.Blocks), "Checkout error rate above 5%") {
		t.Errorf("the alert's message does not show the summary: %s", msg.Text)
	}
	wait("carol's page", func() bool { return len(h.alertPages(pgCarol)) == 1 })

	resolved := firing
	resolved.EndsAt = time.Now()
	am.Post(t, resolved)
	wait("the alert's message to say it resolved", func() bool {
		m, _ := h.fake.Message(alerts, msg.TS)
		return strings.Contains(m.Text+string(m.Blocks), "Resolved")
	})
	page := h.alertPages(pgCarol)[0]
	wait("the page DM to say paging stopped", func() bool {
		m, _ := h.fake.Message(h.fake.DM(pgCarol), page.TS)
		return strings.Contains(m.Text+string(m.Blocks), "Paging stopped")
	})
	if n := len(h.alertPages(pgCarol)); n != 1 {
		t.Errorf("carol got %d pages, want 1", n)
	}
	h.AssertNoSecret()
}
