package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// A firing alert is posted once in the route's channel with its buttons and
// pages the route's policy; Acknowledge in the page DM stops paging for
// everyone, and the alert's message says who took it.
func TestAlertFiringPagesAndAcknowledge(t *testing.T) {
	h, alerts := alHarness(t, "")
	start := h.clock.Now().Add(-3 * time.Minute)
	h.fire(amPayload("HighErrorRate", amFiring("HighErrorRate", "checkout-1", "error", start)), "new")

	msg := h.ExpectMessage(alerts, "ALERT-1", "HighErrorRate", "alert_ack", "alert_declare", "alert_resolve")
	page := h.ExpectDM(pgCarol, "You are being paged for ALERT-1", "HighErrorRate")
	h.ExpectShows(alerts, msg.TS, "<@"+pgCarol+">")

	h.clickDM(pgCarol, page.TS, "page_ack")
	h.ExpectShows(alerts, msg.TS, "Acknowledged by <@"+pgCarol+">")
	h.ExpectShows(h.fake.DM(pgCarol), page.TS, "Acknowledged by <@"+pgCarol+">")
	h.FastForward(20 * time.Minute) // past every level: nobody else is paged
	if n := len(h.alertPages(pgDave)); n != 0 {
		t.Errorf("dave got %d pages after carol acknowledged, want 0", n)
	}
	if n := len(alertMessages(h.fake, alerts)); n != 1 {
		t.Errorf("%d alert messages, want 1", n)
	}
	h.AssertNoSecret()
}

// A resolution from the source resolves the alert: the message says so,
// paging stops and the page DM says why; /metrics counts it.
func TestAlertResolvedBySource(t *testing.T) {
	h, alerts := alHarness(t, "")
	start := h.clock.Now().Add(-time.Minute)
	a := amFiring("DiskFull", "db-1", "warning", start)
	h.fire(amPayload("DiskFull", a), "new")
	msg := h.ExpectMessage(alerts, "ALERT-1", "DiskFull")
	page := h.ExpectDM(pgCarol, "You are being paged for ALERT-1")

	h.FastForward(time.Minute)
	h.fire(amPayload("DiskFull", amResolved(a, h.clock.Now())), "resolved")
	h.ExpectShows(alerts, msg.TS, "Resolved")
	h.ExpectShows(h.fake.DM(pgCarol), page.TS, "Paging stopped")
	h.FastForward(20 * time.Minute)
	if n := len(h.alertPages(pgDave)); n != 0 {
		t.Errorf("dave got %d pages for a resolved alert, want 0", n)
	}
	for series, want := range map[string]float64{
		"incidentbot_alerts_received_total": 2, "incidentbot_alerts_opened_total": 1,
		"incidentbot_alerts_resolved_total": 1, "incidentbot_alerts_firing": 0,
	} {
		if got := h.metric(series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	// A late resolution of the same group changes nothing.
	h.fire(amPayload("DiskFull", amResolved(a, h.clock.Now())), "ignored")
}

// Repeats of a group (Alertmanager's repeat_interval, or a retry of a
// request already committed) update the one message and page nobody again;
// an alert joining the group is added to it.
func TestAlertRepeatsUpdateOneMessage(t *testing.T) {
	h, alerts := alHarness(t, "")
	start := h.clock.Now().Add(-time.Minute)
	one := amFiring("HighLatency", "api-1", "warning", start)
	body := amPayload("HighLatency", one)
	h.fire(body, "new")
	msg := h.ExpectMessage(alerts, "ALERT-1", "HighLatency")
	h.ExpectDM(pgCarol, "You are being paged for ALERT-1")
	h.fire(body, "updated")
	h.fire(body, "updated")
	two := amFiring("HighLatency", "api-2", "warning", start.Add(30*time.Second))
	h.fire(amPayload("HighLatency", one, two), "updated")
	h.ExpectShows(alerts, msg.TS, "api-2", "api-1")
	h.idle()
	if n := len(alertMessages(h.fake, alerts)); n != 1 {
		t.Errorf("%d alert messages after repeats, want 1", n)
	}
	if n := len(h.alertPages(pgCarol)); n != 1 {
		t.Errorf("carol got %d pages after repeats, want 1", n)
	}
	if got := h.metric("incidentbot_alerts_received_total"); got != 4 {
		t.Errorf("alerts received = %v, want 4", got)
	}
}

// Two groups are two alerts: two messages, two pages.
func TestAlertTwoGroups(t *testing.T) {
	h, alerts := alHarness(t, "")
	now := h.clock.Now()
	h.fire(amPayload("A", amFiring("A", "x", "warning", now)), "new")
	h.fire(amPayload("B", amFiring("B", "y", "warning", now)), "new")
	h.ExpectMessage(alerts, "ALERT-1")
	h.ExpectMessage(alerts, "ALERT-2")
	h.ExpectDM(pgCarol, "You are being paged for ALERT-1")
	h.ExpectDM(pgCarol, "You are being paged for ALERT-2")
	out := ackText(h.slash(h.alice, h.general, "alerts"))
	if !strings.Contains(out, "ALERT-1") || !strings.Contains(out, "ALERT-2") {
		t.Errorf("/incident alerts = %q, want both alerts", out)
	}
}

// Declare incident on an alert opens an incident with the alert on its
// timeline, started when the alert started and detected when the bot got
// it; each links to the other.
func TestAlertDeclareFromButton(t *testing.T) {
	h, alerts := alHarness(t, "")
	start := h.clock.Now().Add(-7 * time.Minute)
	h.fire(amPayload("CheckoutErrors", amFiring("CheckoutErrors", "checkout-1", "error", start)), "new")
	msg := h.ExpectMessage(alerts, "ALERT-1", "alert_declare")
	h.click(h.alice, alerts, msg.TS, "alert_declare")
	ch := h.incidentChannel(1)
	h.ExpectMessage(ch.ID, "Declared from alert", "ALERT-1")
	h.ExpectShows(alerts, msg.TS, "INC-1")
	// The pinned summary links back to the alert's message.
	h.ExpectShows(ch.ID, h.summaryTS(1), "Declared from alert ALERT-1", "/archives/"+alerts+"/p")
	inc := h.storedIncident(1)
	if !inc.Times.Started.Equal(start.Truncate(time.Second)) {
		t.Errorf("started = %v, want the alert's startsAt %v", inc.Times.Started, start)
	}
	if inc.Times.Detected.IsZero() || inc.Alert != 1 {
		t.Errorf("detected = %v, alert = %d; want the receipt time and ALERT-1", inc.Times.Detected, inc.Alert)
	}
	if !h.hasEvent(1, "alert", "ALERT-1") {
		t.Error("the incident's timeline does not hold the alert")
	}
	// Declared once: the message has no Declare button any more.
	h.idle()
	if m, _ := h.fake.Message(alerts, msg.TS); strings.Contains(string(m.Blocks), "alert_declare") {
		t.Error("the alert's message still offers Declare incident")
	}
}

// A critical alert on a route with declare: sev1 declares by itself.
func TestAlertAutoDeclaresAtSev1(t *testing.T) {
	h, alerts := alHarness(t, "")
	h.fire(amPayload("DatabaseDown", amFiring("DatabaseDown", "db-1", "critical", h.clock.Now())), "new")
	msg := h.ExpectMessage(alerts, "ALERT-1")
	ch := h.incidentChannel(1)
	h.ExpectMessage(ch.ID, "Declared from alert", "ALERT-1")
	h.ExpectShows(alerts, msg.TS, "INC-1")
	if inc := h.storedIncident(1); inc.Severity.String() != "sev1" {
		t.Errorf("auto-declared %s, want sev1", inc.Severity)
	}
}

// Bad requests get a clear answer and change nothing.
func TestAlertReceiverRefusals(t *testing.T) {
	h, alerts := alHarness(t, "")
	good := amPayload("X", amFiring("X", "y", "warning", h.clock.Now()))
	for _, tt := range []struct {
		name, path, token string
		body              []byte
		code              int
		says              string
	}{
		{"no token", "/alerts/alertmanager", "", good, http.StatusUnauthorized, "bearer token"},
		{"unknown token", "/alerts/alertmanager", "not-the-token-of-any-route", good, http.StatusUnauthorized, "bearer token"},
		{"bad JSON", "/alerts/alertmanager", alToken, []byte(`{"version":"4",`), http.StatusBadRequest, "JSON"},
		{"wrong version", "/alerts/alertmanager", alToken, []byte(`{"version":"3","groupKey":"k","status":"firing","alerts":[{}]}`), http.StatusBadRequest, "version"},
		{"oversize", "/alerts/alertmanager", alToken, []byte(`{"x":"` + strings.Repeat("a", 1<<20) + `"}`), http.StatusRequestEntityTooLarge, "1 MiB"},
		{"unknown path", "/alerts/nagios", alToken, good, http.StatusNotFound, "/alerts/alertmanager"},
	} {
		code, answer := h.postAlert(tt.path, tt.token, tt.body)
		if code != tt.code || !strings.Contains(answer, tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tt.name, code, answer, tt.code, tt.says)
		}
		if strings.Contains(answer, alToken) {
			t.Errorf("%s: the answer shows the token", tt.name)
		}
	}
	h.idle()
	if n := len(alertMessages(h.fake, alerts)); n != 0 {
		t.Errorf("%d alert messages after refused requests, want 0", n)
	}
	h.AssertNoSecret()
}

// Resolve on the message resolves by hand: paging stops, the message says
// who resolved it.
func TestAlertResolveButton(t *testing.T) {
	h, alerts := alHarness(t, "")
	h.fire(amPayload("Flaky", amFiring("Flaky", "x", "warning", h.clock.Now())), "new")
	msg := h.ExpectMessage(alerts, "ALERT-1", "alert_resolve")
	page := h.ExpectDM(pgCarol, "You are being paged for ALERT-1")
	h.click(h.bob, alerts, msg.TS, "alert_resolve")
	h.ExpectShows(alerts, msg.TS, "Resolved", "<@"+h.bob+">")
	h.ExpectShows(h.fake.DM(pgCarol), page.TS, "Paging stopped")
}

// The alert's buttons work only in the channel it was posted to.
func TestAlertButtonsBoundToTheirChannel(t *testing.T) {
	h, alerts := alHarness(t, "")
	h.fire(amPayload("Flaky", amFiring("Flaky", "x", "warning", h.clock.Now())), "new")
	msg := h.ExpectMessage(alerts, "ALERT-1", "alert_resolve")
	h.idle()
	// The same button, replayed from another channel.
	id := h.fake.ClickButtonFrom(h.bob, h.general, alerts, msg.TS, "alert_resolve")
	h.waitAck(id)
	h.ExpectEphemeral(h.bob, "only in the channel the alert was posted to")
	h.idle()
	m, _ := h.fake.Message(alerts, msg.TS)
	if strings.Contains(m.Text+string(m.Blocks), "Resolved") {
		t.Error("a click from another channel resolved the alert")
	}
}

// A route with quiet: pages only if the alert still fires after it.
func TestAlertQuietPeriod(t *testing.T) {
	h, alerts := alHarness(t, "    quiet: 2m\n")
	a := amFiring("Blip", "x", "warning", h.clock.Now())
	h.fire(amPayload("Blip", a), "new")
	h.ExpectMessage(alerts, "ALERT-1", "Quiet")
	h.FastForward(time.Minute)
	if n := len(h.alertPages(pgCarol)); n != 0 {
		t.Fatalf("carol was paged during the quiet period")
	}
	h.fire(amPayload("Blip", amResolved(a, h.clock.Now())), "resolved")
	h.FastForward(5 * time.Minute)
	if n := len(h.alertPages(pgCarol)); n != 0 {
		t.Errorf("carol was paged for an alert that resolved in its quiet period")
	}
	b := amFiring("Stays", "x", "warning", h.clock.Now())
	h.fire(amPayload("Stays", b), "new")
	h.FastForward(3 * time.Minute)
	h.ExpectDM(pgCarol, "You are being paged for ALERT-2")
}

// More new groups than the storm limit in a minute are gathered into one
// storm alert with one page.
func TestAlertStormGathersIntoOnePage(t *testing.T) {
	h, alerts := alHarness(t, "", withConfig(func(c *Config) { c.AlertsStorm = 3 }))
	now := h.clock.Now()
	for i := range 8 {
		name := "Down" + itoa(i)
		h.fire(amPayload(name, amFiring(name, "x", "warning", now)), map[bool]string{true: "new", false: "storm"}[i < 3])
	}
	h.ExpectMessage(alerts, "storm")
	h.idle()
	if n := len(alertMessages(h.fake, alerts)); n != 4 {
		t.Errorf("%d alert messages, want 3 alerts and one storm", n)
	}
	if n := len(h.alertPages(pgCarol)); n != 4 {
		t.Errorf("carol got %d pages, want 4 (3 alerts, 1 storm)", n)
	}
	if got := h.metric("incidentbot_alerts_suppressed_total"); got != 5 {
		t.Errorf("suppressed = %v, want 5", got)
	}
}

// An Acknowledge clicked on a page DM after the source resolved the alert
// (Slack was slow to redraw the DM) is answered, and changes nothing: the
// alert stays resolved, nobody is recorded as acknowledging it.
func TestAlertPageClickedAfterItEnded(t *testing.T) {
	h, alerts := alHarness(t, "")
	a := amFiring("DiskFull", "db-1", "warning", h.clock.Now().Add(-time.Minute))
	h.fire(amPayload("DiskFull", a), "new")
	msg := h.ExpectMessage(alerts, "ALERT-1", "DiskFull")
	page := h.ExpectDM(pgCarol, "You are being paged for ALERT-1")
	h.idle()
	h.fake.FailNext("chat.update", 1000, slackfake.Fault{Status: 503})
	h.FastForward(time.Minute)
	h.fire(amPayload("DiskFull", amResolved(a, h.clock.Now())), "resolved") // committed when answered
	h.clickDM(pgCarol, page.TS, "page_ack")
	h.ExpectEphemeral(pgCarol, "Paging for ALERT-1 had stopped (resolved)", "<#"+alerts+">")
	h.fake.ClearFaults()
	h.FastForward(time.Minute)
	h.ExpectShows(alerts, msg.TS, "Resolved")
	if m, ok := h.fake.Message(alerts, msg.TS); ok && strings.Contains(m.Text+string(m.Blocks), "Acknowledged by") {
		t.Errorf("the resolved alert shows an acknowledgement made after it ended: %s", m.Text)
	}
}
