package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/internal/config"
)

// The configuration itself (Load, Validate, the table) is tested in
// internal/config; these tests run the subcommands that use it, each with
// its own environment.

// command runs `incidentbot args…` with env as the whole environment.
func command(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runCommand(args, &out, &errOut, config.MapEnv(env))
	return code, out.String(), errOut.String()
}

// offlineEnv is an environment for the offline subcommands: a database in a
// fresh directory, and no HTTP endpoint to ask for a snapshot.
func offlineEnv(t *testing.T) map[string]string {
	return map[string]string{"INCIDENTBOT_DB": filepath.Join(t.TempDir(), "incidentbot.db"), "INCIDENTBOT_HTTP_ADDR": ""}
}

func TestConfigCommand(t *testing.T) {
	code, out, _ := command(t, nil, "config")
	if code != 0 || !strings.HasPrefix(out, "VARIABLE") || !strings.Contains(out, "INCIDENTBOT_TEMPLATES_DIR") {
		t.Errorf("incidentbot config = %d:\n%s", code, out)
	}
}

// TestMisuseExitsTwo: an unknown subcommand, flag or argument exits 2 with
// the usage, whatever the subcommand.
func TestMisuseExitsTwo(t *testing.T) {
	for _, args := range [][]string{{"nonsense"}, {"check", "--nope"}, {"check", "extra"}, {"config", "-x"},
		{"list", "extra"}, {"policies", "--verbose"}, {"export"}, {"export", "--format", "pdf", "INC-1"}, {"export", "banana"}} {
		if code, _, stderr := command(t, offlineEnv(t), args...); code != 2 || stderr == "" {
			t.Errorf("incidentbot %s = %d (stderr %q), want 2 and a message", strings.Join(args, " "), code, stderr)
		}
	}
	if code, out, _ := command(t, nil, "help"); code != 0 || !strings.Contains(out, "incidentbot check") {
		t.Errorf("incidentbot help = %d:\n%s", code, out)
	}
}

// authServer answers auth.test for the bot token the test expects.
func authServer(t *testing.T, botToken string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/auth.test" || r.PostFormValue("token") != botToken {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"user_id":"U0BOT0001","user":"incidentbot"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/"
}

func TestCheckCommand(t *testing.T) {
	const app, bot = "xapp-1-A0TEST-1-abc", "xoxb-1-TEST-abc"
	escalation := filepath.Join("..", "..", "deploy", "escalation.example.yaml")
	tests := []struct {
		name  string
		env   map[string]string
		code  int
		lines []string // each must be a line of the output
		fail  []string // when code is 1: each is part of the output, which has a FAIL line
	}{
		{"no tokens", map[string]string{}, 0, []string{"ok   configuration", "ok   templates",
			"skip Slack auth.test: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set"}, nil},
		{"tokens", map[string]string{"SLACK_APP_TOKEN": app, "SLACK_BOT_TOKEN": bot}, 0,
			[]string{"ok   configuration", "ok   Slack accepts SLACK_BOT_TOKEN (auth.test)"}, nil},
		{"wrong bot token", map[string]string{"SLACK_APP_TOKEN": app, "SLACK_BOT_TOKEN": "xoxb-1-OTHER-abc"}, 1,
			[]string{"FAIL Slack accepts SLACK_BOT_TOKEN (auth.test): SLACK_BOT_TOKEN: invalid_auth"}, nil},
		// A token variable set to nothing (an empty Secret key) is a
		// mistake, not "no tokens": it fails instead of skipping auth.test.
		{"empty bot token", map[string]string{"SLACK_BOT_TOKEN": ""}, 1, nil,
			[]string{"FAIL configuration: ", "SLACK_BOT_TOKEN is not set (or is empty)"}},
		{"escalation file, Opsgenie key unset", map[string]string{"INCIDENTBOT_ESCALATION_FILE": escalation}, 1, nil,
			[]string{"FAIL escalation policies (INCIDENTBOT_ESCALATION_FILE): escalation file: policy \"platform\" level 2", "OPSGENIE_API_KEY is not set"}},
		// The key is read from the environment check was given.
		{"escalation file, Opsgenie key set", map[string]string{"INCIDENTBOT_ESCALATION_FILE": escalation, "OPSGENIE_API_KEY": "k"}, 0,
			[]string{"ok   escalation policies (INCIDENTBOT_ESCALATION_FILE)"}, nil},
		{"missing templates directory", map[string]string{"INCIDENTBOT_TEMPLATES_DIR": filepath.Join(t.TempDir(), "nope")}, 1, nil,
			[]string{"FAIL configuration: INCIDENTBOT_TEMPLATES_DIR must be an existing directory"}},
		{"unreadable duration", map[string]string{"INCIDENTBOT_UPDATE_EVERY": "soon"}, 1, nil, []string{"FAIL configuration: INCIDENTBOT_UPDATE_EVERY", "30m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := offlineEnv(t)
			env["INCIDENTBOT_SLACK_API_URL"] = authServer(t, bot)
			for k, v := range tc.env {
				env[k] = v
			}
			code, out, _ := command(t, env, "check")
			if code != tc.code {
				t.Errorf("exit code %d, want %d:\n%s", code, tc.code, out)
			}
			for _, want := range tc.lines {
				if !strings.Contains("\n"+out, "\n"+want+"\n") {
					t.Errorf("no line %q:\n%s", want, out)
				}
			}
			for _, want := range tc.fail {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if tc.code != 0 && !strings.Contains(out, "FAIL ") {
				t.Errorf("no FAIL line:\n%s", out)
			}
		})
	}
}
