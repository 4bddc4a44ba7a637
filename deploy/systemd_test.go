package deploy_test

import (
	"bufio"
	"maps"
	"path"
	"strings"
	"testing"
)

const (
	unitFile    = "systemd/incidentbot.service"
	envExample  = "systemd/incidentbot.env.example"
	exampleName = "deploy/" + envExample // as the install instructions name it
)

// parseUnit reads a systemd unit as INI: [Section], Key=Value, # and ;
// comments, backslash continuations. Keys may repeat (Environment=), so each
// key keeps every value in order.
func parseUnit(t *testing.T, text string) map[string]map[string][]string {
	t.Helper()
	sections := map[string]map[string][]string{}
	var section, pending string
	sc := bufio.NewScanner(strings.NewReader(text))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			sections[section] = map[string][]string{}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: not a Key=Value line inside a section: %q", unitFile, lineNo, line)
		}
		sections[section][key] = append(sections[section][key], strings.TrimSpace(value))
	}
	return sections
}

// unitEnv is the service's environment as systemd builds it: Environment=
// assignments (space separated, each possibly quoted), then the
// EnvironmentFile= files, which override them. The one file the unit reads,
// /etc/incidentbot/incidentbot.env, is the example its install
// instructions copy there.
func unitEnv(t *testing.T, text string, unit map[string]map[string][]string, commented bool) map[string]string {
	env := map[string]string{}
	for _, line := range unit["Service"]["Environment"] {
		for _, kv := range strings.Fields(line) {
			if k, v, ok := strings.Cut(strings.Trim(kv, `"`), "="); ok {
				env[k] = v
			}
		}
	}
	for _, f := range unit["Service"]["EnvironmentFile"] {
		f = strings.TrimPrefix(f, "-")
		if !strings.Contains(text, exampleName+" "+f) {
			t.Fatalf("%s: EnvironmentFile=%s, but the install instructions do not copy %s there", unitFile, f, exampleName)
		}
		maps.Copy(env, parseEnvFile(t, envExample, commented))
	}
	return env
}

// TestSystemdStarts: the unit's environment and its env example, on a
// filesystem with only the unit's StateDirectory writable, pass what the
// bot runs at start and `incidentbot check`, also with the example's
// commented optional settings switched on.
func TestSystemdStarts(t *testing.T) {
	text := string(readFile(t, unitFile))
	unit := parseUnit(t, text)
	state := unit["Service"]["StateDirectory"]
	if len(state) != 1 {
		t.Fatalf("%s: want one StateDirectory, have %q", unitFile, state)
	}
	for _, commented := range []bool{false, true} {
		env := unitEnv(t, text, unit, commented)
		// ProtectSystem=strict: the state directory is the only writable
		// place, so the database must be there.
		if db := env["INCIDENTBOT_DB"]; !under(db, "/var/lib/"+state[0]) {
			t.Errorf("%s: INCIDENTBOT_DB=%q is not under StateDirectory /var/lib/%s", unitFile, db, state[0])
		}
		root := t.TempDir()
		mkdirs(t, root, "/var/lib/"+state[0])
		name := unitFile
		if commented {
			name += " with " + envExample + "'s optional settings"
		}
		startup(t, name, rooted(env, root))
	}
	checkPlaceholderTokens(t, envExample, parseEnvFile(t, envExample, false))
}

// TestSystemdUnit checks what the start cannot: how the service runs,
// restarts and stops, and the sandbox's key settings.
func TestSystemdUnit(t *testing.T) {
	unit := parseUnit(t, string(readFile(t, unitFile)))
	for _, w := range []struct{ section, key, value string }{
		{"Unit", "After", "network-online.target"}, // Socket Mode dials out
		{"Service", "DynamicUser", "yes"},
		{"Service", "Restart", "on-failure"},
		{"Service", "KillSignal", "SIGTERM"}, // the bot closes the socket and database cleanly
		{"Service", "ProtectSystem", "strict"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "CapabilityBoundingSet", ""}, // none at all
		{"Service", "UMask", "0077"},             // the database is owner-only
		{"Install", "WantedBy", "multi-user.target"},
	} {
		vs := unit[w.section][w.key]
		if len(vs) == 0 || vs[len(vs)-1] != w.value {
			t.Errorf("%s: [%s] %s=%q, want %q", unitFile, w.section, w.key, vs, w.value)
		}
	}
	exec := unit["Service"]["ExecStart"]
	if len(exec) != 1 || !strings.HasSuffix(exec[0], "/incidentbot run") || !path.IsAbs(strings.Fields(exec[0])[0]) {
		t.Errorf("%s: ExecStart=%q, want an absolute path to incidentbot followed by run", unitFile, exec)
	}
}
