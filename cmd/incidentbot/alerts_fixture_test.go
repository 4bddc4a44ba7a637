package main

// The alert tests' fixtures: an escalation file with the paging tests'
// platform policy and an alert route to an #alerts channel, a harness with
// the alert receiver on a real port, Alertmanager-shaped payloads, and
// expectations on alert messages.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// alToken is the platform route's bearer token: a secret.
const alToken = "al-t0ken-0f-the-platform-route-5ecret"

// alRoute is the alert_routes block of the tests: the platform route pages
// the platform policy, declares at sev1; extra is added to the route.
func alRoute(channel, extra string) string {
	return fmt.Sprintf(`alert_routes:
  - name: platform
    token_env: AL_PLATFORM_TOKEN
    channel: %s
    page: platform
    declare: sev1
%s`, channel, extra)
}

// alHarness starts the bot on a simulated clock with the platform policy
// (carol, then dave), an #alerts channel and the platform route to it
// (route is added to its fields, e.g. "    quiet: 2m\n"), and the alert
// receiver on a free port. h.alerts is the channel.
func alHarness(t *testing.T, route string, opts ...harnessOption) (*harness, string) {
	t.Helper()
	var channel string
	base := func(h *harness) {
		withSimClock(h)
		channel = h.fake.AddChannel("alerts", false, h.alice, h.bob, h.fake.BotUserID())
		file := filepath.Join(t.TempDir(), "escalation.yaml")
		if err := os.WriteFile(file, []byte(pgPlatform(0)+alRoute(channel, route)), 0o600); err != nil {
			t.Fatal(err)
		}
		h.cfg.EscalationFile = file
		h.cfg.AlertsAddr = freeAddr(t)
		h.cfg.AlertsStorm = 20
		h.deps.Getenv = func(k string) string {
			if k == "AL_PLATFORM_TOKEN" {
				return alToken
			}
			return os.Getenv(k)
		}
		for _, u := range []slackfake.User{{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"},
			{ID: pgDave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"}} {
			h.fake.AddUser(u)
		}
	}
	h := newHarness(t, append([]harnessOption{base}, opts...)...)
	h.Secret(alToken)
	return h, channel
}

// amAlert is one alert of an Alertmanager webhook payload.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// amFiring is a firing alert of alertname name on instance, started at.
func amFiring(name, instance, severity string, at time.Time) amAlert {
	return amAlert{
		Status: "firing", StartsAt: at.UTC().Format(time.RFC3339), EndsAt: "0001-01-01T00:00:00Z",
		Labels:       map[string]string{"alertname": name, "instance": instance, "severity": severity, "team": "platform"},
		Annotations:  map[string]string{"summary": name + " on " + instance, "runbook_url": "https://runbooks.example.com/" + name},
		GeneratorURL: "http://prometheus.example.com/graph?g0.expr=up", Fingerprint: fmt.Sprintf("%x", name+instance),
	}
}

// amResolved is a firing alert resolved at.
func amResolved(a amAlert, at time.Time) amAlert {
	a.Status, a.EndsAt = "resolved", at.UTC().Format(time.RFC3339)
	return a
}

// amPayload is Alertmanager's webhook payload (version 4) for the group of
// alertname name.
func amPayload(name string, alerts ...amAlert) []byte {
	status := "resolved"
	for _, a := range alerts {
		if a.Status == "firing" {
			status = "firing"
		}
	}
	p := map[string]any{
		"version": "4", "groupKey": `{}:{alertname="` + name + `"}`, "status": status, "receiver": "incidentbot",
		"groupLabels": map[string]string{"alertname": name}, "commonLabels": map[string]string{"alertname": name, "team": "platform"},
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.example.com:9093", "truncatedAlerts": 0,
		"alerts": alerts,
	}
	b, _ := json.Marshal(p)
	return b
}

// postAlert posts body to the receiver's path with the bearer token (none
// if empty) and returns the status and body of the answer.
func (h *harness) postAlert(path, token string, body []byte) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.cfg.AlertsAddr+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// fire posts an Alertmanager payload with the platform token and checks it
// was taken with the given result ("new", "updated", "resolved", …).
func (h *harness) fire(body []byte, result string) {
	h.t.Helper()
	code, answer := h.postAlert("/alerts/alertmanager", alToken, body)
	if code != http.StatusOK || !strings.Contains(answer, `"result":"`+result+`"`) {
		h.t.Fatalf("POST /alerts/alertmanager: %d %s, want 200 with result %q", code, answer, result)
	}
}

// alertMessages are the bot's messages in channel that show an alert.
func alertMessages(fake *slackfake.Server, channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range fake.Messages(channel) {
		if m.BotID != "" && strings.Contains(m.Text+string(m.Blocks), "ALERT-") {
			out = append(out, m)
		}
	}
	return out
}

// alertPages are the page DMs user got about alerts.
func (h *harness) alertPages(user string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.fake.Messages(h.fake.DM(user)) {
		if m.BotID != "" && strings.Contains(m.Text, "You are being paged for ALERT-") {
			out = append(out, m)
		}
	}
	return out
}
