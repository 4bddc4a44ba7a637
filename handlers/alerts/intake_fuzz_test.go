package alerts

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// FuzzAlertIntake feeds hostile bodies to the three decoders and renders
// what they accept as the message the bot would post: decoding never
// panics, and the message stays inside Slack's limits with no live mention
// or link taken from the body. Seeds: the documented payload fixtures.
func FuzzAlertIntake(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "incident", "testdata", "alerts", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(uint8(0), b)
			f.Add(uint8(1), b)
			f.Add(uint8(2), b)
		}
	}
	f.Add(uint8(2), []byte(`{"dedup_key":"<!channel>","status":"firing","summary":"<!here> *x* <https://evil|y>","details":{"a":"<@U1>"}}`))
	decoders := []func([]byte) (*incident.AlertGroup, error){incident.DecodeAlertmanager, incident.DecodeGrafana, incident.DecodeGeneric}
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		g, err := decoders[int(which)%len(decoders)](body)
		if err != nil {
			return
		}
		a := &incident.AlertRecord{ID: 7, Route: "platform", Key: "k", Group: *g, Severity: incident.Sev2, Status: incident.AlertFiring,
			Received: now, Updated: now, Notifications: 1, Channel: "C0ALERTS1"}
		a.Group.Merge(g) // a repeat of itself
		text, blocks := renderAlert(a, renderView{Command: "/incident", Now: now.Add(time.Minute)})
		renderCheckLimits(t, text, blocks)
		for _, s := range append(renderTexts(blocks), text, renderAlertList([]*incident.AlertRecord{a}, now, true)) {
			if m := renderLive.FindString(s); m != "" {
				t.Fatalf("%q holds %q", s, m)
			}
		}
	})
}
