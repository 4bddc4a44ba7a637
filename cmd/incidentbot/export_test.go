package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportUsesTheBotsTemplates: with INCIDENTBOT_TEMPLATES_DIR set, the
// draft `incidentbot export` prints offline is the one the bot uploaded on
// resolve, override and all; without it, both are the built-in draft.
func TestExportUsesTheBotsTemplates(t *testing.T) {
	dir := t.TempDir()
	override := "ACME POSTMORTEM {{.Ref}}: {{.Title}} ({{.Severity}})\n"
	if err := os.WriteFile(filepath.Join(dir, "postmortem.md.tmpl"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(h *harness) { h.cfg.TemplatesDir = dir })
	ch := h.declared(1, "declare sev2 Search slow")
	h.slash(h.alice, ch.ID, "resolve Rolled back")
	var uploaded string
	h.waitFor("the postmortem upload", func() bool {
		for _, f := range h.fake.Files() {
			if f.Name == "INC-1-postmortem.md" {
				uploaded = string(f.Content)
				return true
			}
		}
		return false
	})
	h.stop() // export opens the file itself; no endpoint to ask for a snapshot
	const want = "ACME POSTMORTEM INC-1: Search slow (SEV2)\n"
	if uploaded != want {
		t.Fatalf("the bot uploaded %q, want the override's %q", uploaded, want)
	}

	env := map[string]string{"INCIDENTBOT_DB": h.cfg.DB, "INCIDENTBOT_HTTP_ADDR": "", "INCIDENTBOT_TEMPLATES_DIR": dir}
	code, out, stderr := command(t, env, "export", "INC-1")
	if code != 0 || out != uploaded {
		t.Errorf("export with the override = %d (stderr %q):\n%s\nwant what the bot uploaded:\n%s", code, stderr, out, uploaded)
	}

	delete(env, "INCIDENTBOT_TEMPLATES_DIR")
	code, out, stderr = command(t, env, "export", "INC-1")
	if code != 0 || !strings.HasPrefix(out, "# INC-1: Search slow") || strings.Contains(out, "ACME") {
		t.Errorf("export without the override = %d (stderr %q):\n%s", code, stderr, out)
	}

	code, out, _ = command(t, env, "list")
	if code != 0 || !strings.Contains(out, "INC-1") || !strings.Contains(out, "Search slow") {
		t.Errorf("list = %d:\n%s", code, out)
	}
}

// TestExportBrokenOverride: an override that does not parse fails export
// by name, as it stops the bot, instead of silently using the default.
func TestExportBrokenOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "postmortem.md.tmpl"), []byte("{{.Ref"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := offlineEnv(t)
	env["INCIDENTBOT_TEMPLATES_DIR"] = dir
	code, _, stderr := command(t, env, "export", "INC-1")
	if code != 1 || !strings.Contains(stderr, "INCIDENTBOT_TEMPLATES_DIR") || !strings.Contains(stderr, "postmortem.md.tmpl") {
		t.Errorf("export with a broken override = %d, stderr %q", code, stderr)
	}
}
