package deploy_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/internal/config/check"
)

// The tests run in deploy/, so the repository root is "..".
const repoRoot = ".."

// Each artefact's test builds the environment the bot would get from it and
// a stand-in for the filesystem it would see (a temporary root holding only
// what the artefact provides: its volumes, mounts and state directories),
// then runs what the bot runs at start on it. These are the checks that
// catch a deployment that cannot start.

// startup runs boot on an artefact's environment and fails the test with
// every problem, naming the artefact. It returns the configuration.
func startup(t *testing.T, artefact string, env map[string]string) config.Config {
	t.Helper()
	cfg, problems := boot(t, env)
	for _, p := range problems {
		t.Errorf("%s: %s", artefact, p)
	}
	return cfg
}

// boot loads the environment as the bot does (config.Load), validates it as
// `incidentbot run` does (tokens required), and runs `incidentbot check` on
// it (check.Run). It returns what the bot or check would refuse. Slack is a
// local stand-in that accepts the environment's bot token, so auth.test runs
// without a network: that one variable is added to the environment.
func boot(t *testing.T, env map[string]string) (config.Config, []string) {
	env = maps.Clone(env)
	env["INCIDENTBOT_SLACK_API_URL"] = fakeSlack(t, env["SLACK_BOT_TOKEN"])
	cfg, err := config.Load(config.MapEnv(env))
	if err != nil {
		return cfg, []string{"the configuration does not load: " + err.Error()}
	}
	var problems []string
	if _, err := cfg.Validate(true); err != nil {
		problems = append(problems, "`incidentbot run` would refuse to start:\n"+err.Error())
	}
	var out bytes.Buffer
	if !check.Run(&out, config.MapEnv(env)) || !strings.Contains(out.String(), "ok   Slack accepts SLACK_BOT_TOKEN") {
		problems = append(problems, "`incidentbot check` does not pass:\n"+out.String())
	}
	return cfg, problems
}

// fakeSlack answers auth.test for botToken, and conversations.info with a
// channel the bot is in, and nothing else.
func fakeSlack(t *testing.T, botToken string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if botToken == "" || r.PostFormValue("token") != botToken {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
			return
		}
		switch r.URL.Path {
		case "/api/auth.test":
			_, _ = w.Write([]byte(`{"ok":true,"user_id":"U0BOT0001","user":"incidentbot"}`))
		case "/api/conversations.info":
			_, _ = w.Write([]byte(`{"ok":true,"channel":{"id":"` + r.PostFormValue("channel") + `","name":"incidents","is_member":true}}`))
		default:
			_, _ = w.Write([]byte(`{"ok":false,"error":"unknown_method"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/"
}

// rooted rewrites every absolute path in env to the same path under root,
// the test's stand-in for the filesystem the bot sees.
func rooted(env map[string]string, root string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if path.IsAbs(v) {
			v = filepath.Join(root, filepath.FromSlash(v))
		}
		out[k] = v
	}
	return out
}

// mkdirs creates directories (absolute, as the artefact names them) under
// root.
func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// parseEnvFile reads KEY=value lines, skipping blank lines and # comments.
// With commented, lines such as `#INCIDENTBOT_LOG_LEVEL=info` (an optional
// setting shown commented out) count as set too.
func parseEnvFile(t *testing.T, name string, commented bool) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for i, line := range strings.Split(string(readFile(t, name)), "\n") {
		line = strings.TrimSpace(line)
		if commented && envLine.MatchString(strings.TrimPrefix(line, "#")) {
			line = strings.TrimPrefix(line, "#")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s:%d: not KEY=value: %q", name, i+1, line)
			continue
		}
		vars[k] = strings.Trim(v, `"`)
	}
	return vars
}

var envLine = regexp.MustCompile(`^[A-Z][A-Z0-9_]*=\S*$`)

// under reports whether file p is inside directory dir (both absolute).
func under(p, dir string) bool {
	if dir == "" || !path.IsAbs(p) {
		return false
	}
	rel, err := filepath.Rel(path.Clean(dir), path.Clean(p))
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// checkPlaceholderTokens checks that both tokens are present with the right
// prefix and are obviously placeholders, never real tokens.
func checkPlaceholderTokens(t *testing.T, file string, vars map[string]string) {
	t.Helper()
	for name, prefix := range map[string]string{"SLACK_APP_TOKEN": "xapp-", "SLACK_BOT_TOKEN": "xoxb-"} {
		v, ok := vars[name]
		switch {
		case !ok:
			t.Errorf("%s: no %s", file, name)
		case !strings.HasPrefix(v, prefix):
			t.Errorf("%s: %s placeholder %q should start with %s", file, name, v, prefix)
		case realToken.MatchString(v):
			t.Errorf("%s: %s looks like a real token; never commit one", file, name)
		}
	}
}

// realToken matches Slack tokens' numeric segments (xoxb-123456-…).
var realToken = regexp.MustCompile(`^x(app|oxb)-\d+-`)

// TestBootCatchesWhatStopsTheBot: boot fails a deployment the bot could
// not start, such as one pointing INCIDENTBOT_TEMPLATES_DIR at a directory
// nothing creates (what the Kubernetes manifests once did), or without a
// writable directory for the database.
func TestBootCatchesWhatStopsTheBot(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "/data")
	good := map[string]string{"SLACK_APP_TOKEN": "xapp-REPLACE-ME", "SLACK_BOT_TOKEN": "xoxb-REPLACE-ME",
		"INCIDENTBOT_DB": "/data/incidentbot.db"}
	if _, problems := boot(t, rooted(good, root)); len(problems) != 0 {
		t.Fatalf("a good environment: %q", problems)
	}
	for _, tc := range []struct{ variable, value, want string }{
		{"INCIDENTBOT_TEMPLATES_DIR", "/etc/incidentbot/templates", "INCIDENTBOT_TEMPLATES_DIR must be an existing directory"},
		{"INCIDENTBOT_DB", "/var/lib/incidentbot/incidentbot.db", "FAIL database"},
		{"SLACK_BOT_TOKEN", "", "SLACK_BOT_TOKEN is not set"},
	} {
		env := maps.Clone(good)
		env[tc.variable] = tc.value
		_, problems := boot(t, rooted(env, root))
		if got := strings.Join(problems, "\n"); !strings.Contains(got, tc.want) {
			t.Errorf("%s=%q: boot found %q, want a problem saying %q", tc.variable, tc.value, got, tc.want)
		}
	}
}
