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
	printPolicies(&b, "/etc/incidentbot/escalation.yaml", p, nil)
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
	printPolicies(&b, "", &incident.Policies{}, nil)
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

// TestPoliciesCommandExampleFile: the shipped example names an Opsgenie key
// variable. Without it, `policies` still prints every policy, marks the
// target whose variable is missing, says why on stderr and exits 1, as
// `check` fails; with it, it exits 0 and never prints the key.
func TestPoliciesCommandExampleFile(t *testing.T) {
	env := offlineEnv(t)
	env["INCIDENTBOT_ESCALATION_FILE"] = filepath.Join("..", "..", "deploy", "escalation.example.yaml")
	code, out, stderr := command(t, env, "policies")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{"platform — Platform on-call", "database — Database on-call", "level 1: U0123ABCD (then wait 5m)",
		"schedule platform-primary — Platform primary on-call (Europe/Berlin)", "rotation weekly: shifts of 1w from 2026-01-05 09:00",
		"user group S0PLATONCALL follows who is on call", "calendar feed: /etc/incidentbot/vendor.ics",
		"opsgenie:OPSGENIE_API_KEY  (not set: OPSGENIE_API_KEY)", "webhook:https://hooks.example.com/…", "sev2 → database"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "INCIDENTBOT_ESCALATION_FILE") || !strings.Contains(stderr, "OPSGENIE_API_KEY is not set") {
		t.Errorf("stderr does not say what is missing: %q", stderr)
	}

	env["OPSGENIE_API_KEY"] = "0PSGENIE-SECRET-KEY"
	code, out, stderr = command(t, env, "policies")
	if code != 0 || stderr != "" || strings.Contains(out, "not set") || !strings.Contains(out, "opsgenie:OPSGENIE_API_KEY") {
		t.Errorf("with the key set: exit %d, stderr %q:\n%s", code, stderr, out)
	}
	if strings.Contains(out, "0PSGENIE-SECRET-KEY") || strings.Contains(out, "R0UTINGKEY") {
		t.Errorf("a key was printed:\n%s", out)
	}
}

// TestPoliciesCommandBrokenFile: a file wrong for another reason prints
// only the error, as before, even when a variable is missing too.
func TestPoliciesCommandBrokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	bad := strings.Replace(testPolicies, "timeout: 10m", "timeout: soon", 1)
	bad = strings.Replace(bad, `"pagerduty:R0UTINGKEYSECRET"`, `"opsgenie:UNSET_KEY"`, 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	env := offlineEnv(t)
	env["INCIDENTBOT_ESCALATION_FILE"] = file
	code, out, stderr := command(t, env, "policies")
	if code != 1 || out != "" || !strings.Contains(stderr, "timeout") || !strings.Contains(stderr, "UNSET_KEY") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	}
}

func TestPoliciesCommandNoFile(t *testing.T) {
	code, out, _ := command(t, offlineEnv(t), "policies")
	if code != 0 || !strings.Contains(out, "No escalation policies") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
