package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

const testPolicies = `policies:
  - name: platform
    description: Platform on-call
    repeat: 1
    levels:
      - targets: [U0123ABCD]
        timeout: 5m
      - targets: [S0456EFGH, "pagerduty:R0UTINGKEYSECRET"]
        timeout: 10m
severity_defaults:
  sev1: platform
`

func TestPrintPoliciesRedactsKeys(t *testing.T) {
	p, err := incident.ParsePolicies([]byte(testPolicies), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printPolicies(&b, "/etc/incidentbot/escalation.yaml", p)
	out := b.String()
	for _, want := range []string{"platform — Platform on-call", "level 1: U0123ABCD (then wait 5m)",
		"level 2: S0456EFGH, pagerduty:R0U…", "repeat: 1", "sev1 → platform"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "R0UTINGKEYSECRET") {
		t.Errorf("the routing key was printed:\n%s", out)
	}
	b.Reset()
	printPolicies(&b, "", &incident.Policies{})
	if !strings.Contains(b.String(), "/incident page @someone") {
		t.Errorf("without a file: %q", b.String())
	}
}

// TestBadEscalationFileStopsTheBot: a broken file is refused at start with
// the policy and field at fault, instead of the bot running half-configured.
func TestBadEscalationFileStopsTheBot(t *testing.T) {
	h := buildHarness(t, slackfake.Options{})
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	bad := strings.Replace(testPolicies, "timeout: 10m", "timeout: soon", 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	h.cfg.EscalationFile = file
	_, err := newApp(h.cfg, h.deps)
	if err == nil {
		t.Fatal("the bot started with a broken escalation file")
	}
	for _, want := range []string{"INCIDENTBOT_ESCALATION_FILE", `policy "platform" level 2`, "timeout", "5m"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
