package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The demo's last scene: three days after the outage, the alert its first
// follow-up asked for ("alert when config pushes stop reaching POPs")
// fires in Alertmanager, which posts it to incidentbot's receiver; the
// alert route pages whoever is on call that week, who acknowledges it, and
// Alertmanager sends the resolution.

// demoAlertsToken is the demo route's bearer token (DEMO_ALERTS_TOKEN).
const demoAlertsToken = "demo-alertmanager-token-not-a-secret"

// demoAlertRoute is appended to the demo's escalation file: %s is #alerts.
const demoAlertRoute = `
alert_routes:
  - name: config-pushes
    token_env: DEMO_ALERTS_TOKEN
    channel: %s
    page: schedule:platform-primary
`

// demoAlertsAddr picks a free loopback port for the demo's receiver (the
// configuration takes a fixed port; the demo must not need one).
func demoAlertsAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// alertmanager posts the demo alert with status (firing, resolved) as
// Alertmanager's webhook (version 4) does.
func alertmanager(status string) func(*demo, string) (string, error) {
	return func(d *demo, last string) (string, error) {
		now := d.clock.Now().UTC()
		started := time.Date(2023, 8, 21, 13, 52, 0, 0, time.UTC)
		alert := map[string]any{
			"status": status, "startsAt": started.Format(time.RFC3339), "endsAt": "0001-01-01T00:00:00Z",
			"labels": map[string]string{"alertname": "ConfigPushesNotReachingPOPs", "pop": "FRA", "severity": "warning", "team": "platform"},
			"annotations": map[string]string{
				"summary":     "Config pushes have not reached FRA for 10 minutes",
				"description": "The newest config version served in FRA is 10 minutes behind the origin's.",
				"runbook_url": "https://runbooks.stellate-demo.example/config-propagation",
			},
			"generatorURL": "http://prometheus.stellate-demo.example/graph?g0.expr=config_push_lag_seconds",
			"fingerprint":  "c0nf1gpu5h",
		}
		if status == "resolved" {
			alert["endsAt"] = now.Format(time.RFC3339)
		}
		body, err := json.Marshal(map[string]any{
			"version": "4", "groupKey": `{}:{alertname="ConfigPushesNotReachingPOPs"}`, "status": status, "receiver": "incidentbot",
			"groupLabels": map[string]string{"alertname": "ConfigPushesNotReachingPOPs"}, "commonLabels": alert["labels"],
			"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.stellate-demo.example:9093",
			"truncatedAlerts": 0, "alerts": []any{alert},
		})
		if err != nil {
			return "", err
		}
		req, err := http.NewRequest(http.MethodPost, "http://"+d.app.alerts.Addr().String()+"/alerts/alertmanager", bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+demoAlertsToken)
		d.out.note(d.clock.Now(), "Alertmanager", "webhook", fmt.Sprintf("POST /alerts/alertmanager (%s: ConfigPushesNotReachingPOPs, pop=FRA)", status))
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("the alert receiver answered %d: %s", resp.StatusCode, answer)
		}
		return last, nil
	}
}
