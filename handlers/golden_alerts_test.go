package handlers_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// The alerts part of TestPersistedIdentifiersGolden: what the alert
// receiver stores and enqueues, and the alert buttons.

// goldenAlertToken is the bearer token of the scenario's alert routes.
const goldenAlertToken = "golden-alert-token-0123456789"

// goldenAlertRoutes are the scenario's routes, without their channel yet:
// quiet (team=quiet, paging database after 2 minutes), then platform (every
// other alert, paging platform).
func goldenAlertRoutes() []incident.AlertRoute {
	quiet, err := incident.ParseMatchers(map[string]string{"team": "quiet"})
	if err != nil {
		panic(err)
	}
	return []incident.AlertRoute{
		{Name: "quiet", TokenEnv: "GOLDEN_ALERTS_TOKEN", Match: quiet, Page: "database", Quiet: 2 * time.Minute},
		{Name: "platform", TokenEnv: "GOLDEN_ALERTS_TOKEN", Page: "platform"},
	}
}

// postAlert posts an Alertmanager payload to the receiver, as Alertmanager
// does, and writes down the answer.
func (g *golden) postAlert(body string) {
	g.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/alerts/alertmanager", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+goldenAlertToken)
	rec := httptest.NewRecorder()
	g.alerts.ServeHTTP(rec, req)
	g.printf("receiver %d %s\n", rec.Code, strings.TrimSpace(rec.Body.String()))
}

func goldenAlert(name, team, status string) string {
	return `{"version":"4","groupKey":"{}:{alertname=\"` + name + `\"}","status":"` + status + `","receiver":"incidentbot",
"groupLabels":{"alertname":"` + name + `"},"commonLabels":{"alertname":"` + name + `","team":"` + team + `","severity":"error"},
"commonAnnotations":{"summary":"` + name + ` on checkout"},"externalURL":"http://alertmanager.test:9093",
"alerts":[{"status":"` + status + `","labels":{"alertname":"` + name + `","team":"` + team + `","severity":"error"},
"annotations":{"summary":"` + name + ` on checkout","runbook_url":"https://runbooks.test/` + name + `"},
"startsAt":"2023-08-17T09:58:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.test/graph","fingerprint":"f-` + name + `"}]}`
}

// alertScenario: an alert paged and acknowledged from the page DM, an
// incident declared from it, its resolution by Alertmanager; a quiet
// route's alert paged after its quiet period, acknowledged and resolved
// from its message.
func (g *golden) alertScenario() {
	f := g.fake
	channel := f.AddChannel("alerts", false, alice, bob, f.BotUserID())
	for i := range g.routes {
		g.routes[i].Channel = channel
	}
	g.step("Alertmanager: HighErrorRate firing (route platform, pages bob)", func() {
		g.postAlert(goldenAlert("HighErrorRate", "platform", "firing"))
	})
	g.step("Alertmanager repeats it", func() { g.postAlert(goldenAlert("HighErrorRate", "platform", "firing")) })
	g.step("bob: Acknowledge (the alert's page DM)", func() { g.click(bob, f.DM(bob), "page_ack") })
	g.step("alice: Declare incident", func() { g.click(alice, channel, "alert_declare") })
	g.step("Alertmanager: DiskFull firing (route quiet)", func() { g.postAlert(goldenAlert("DiskFull", "quiet", "firing")) })
	g.advance(2 * time.Minute)
	g.step("alice: Acknowledge (the alert's message)", func() { g.click(alice, channel, "alert_ack") })
	g.step("alice: Resolve", func() { g.click(alice, channel, "alert_resolve") })
	g.step("Alertmanager: HighErrorRate resolved", func() { g.postAlert(goldenAlert("HighErrorRate", "platform", "resolved")) })
}

// printAlerts writes down the identifiers stored in the alert records.
func (g *golden) printAlerts() {
	g.t.Helper()
	g.printf("\n== alerts\n")
	if err := g.db.View(func(tx *store.Tx) error {
		for id := int64(1); ; id++ {
			a, err := tx.Alert(id)
			if err != nil {
				return nil
			}
			g.printf("alert %d route=%s key=%q status=%s severity=%s channel=%s ts=%s incident=%d acked_by=%s resolved_by=%s version=%d\n",
				a.ID, a.Route, a.Key, a.Status, a.Severity, a.Channel, a.TS, a.Incident, a.AckedBy.ID, a.ResolvedBy.ID, a.Version)
			for _, e := range a.Escalations {
				g.printf("  escalation %d policy=%s state=%s\n", e.ID, e.Policy, e.State)
				for _, p := range e.Pages {
					g.printf("    page %d target=%s state=%s channel=%s ts=%s\n", p.ID, p.Target, p.State, p.Channel, p.TS)
				}
			}
		}
	}); err != nil {
		g.t.Fatal(err)
	}
}
