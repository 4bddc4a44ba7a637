package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// The demo is the README's first command: it replays the reference
// incident against the fake Slack through the real bot and writes the
// postmortem draft, then plays an alert from Alertmanager through the real
// receiver. A newcomer sees the incident unfold in the transcript, finds
// every pinned finding, customer update and follow-up in the draft, and
// sees the alert page that week's on-call, who acknowledges it.
func TestDemoReplaysTheIncident(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	path, err := runDemo(context.Background(), demoScript, dir, &out, zerolog.Nop())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if path != filepath.Join(dir, "INC-1-postmortem.md") {
		t.Errorf("draft written to %s", path)
	}
	expectAll(t, "the transcript", out.String(),
		"🚨 Declared INC-1 (SEV2): Configuration updates not propagating to edge POPs",
		"DM jonas               incidentbot: 🚨 You are being paged for INC-1",
		"✅ Page acknowledged by @jonas",
		"#status-page           incidentbot: Configuration updates not propagating to edge POPs — Resolved",
		"uploaded INC-1-postmortem.md",
		// Three days later, the alert.
		"#alerts                incidentbot: :red_circle: ALERT-1 · sev3 · [FIRING:1] ConfigPushesNotReachingPOPs",
		"DM mara                incidentbot: 🚨 You are being paged for ALERT-1",
		"#alerts                incidentbot: updated its message: :eyes: ALERT-1",
		":large_green_circle: ALERT-1 · sev3 · [RESOLVED] ConfigPushesNotReachingPOPs",
	)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expectAll(t, "the draft", string(raw),
		"# INC-1: Configuration updates not propagating to edge POPs",
		"| Detected | 2023-08-17 10:46 UTC |",
		"| Resolved | 2023-08-18 10:33 UTC |",
		"mara: Found it: a stale KV value in the FRA POP",
		"priya: Status page incident opened",
		"jonas: Rate Limiting and the Developer Portals are affected as well.",
		"Customer update posted (Investigating) by @priya",
		"jonas: Fastly marked their incident resolved",
		"Large customer confirms their site is back up.",
		"## Follow-up actions",
		"alert when config pushes stop reaching POPs",
		"only re-enable the new infrastructure once the vendor's fix is verified",
	)
}

// expectAll reports each of wants that text (what) lacks.
func expectAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not hold %q", what, want)
		}
	}
}
