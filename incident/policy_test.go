package incident_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
)

// secrets must never appear in an error: a routing key (and a part of one),
// an environment variable's value, a webhook URL's path and query.
var secrets = []string{"R0UTINGKEY", "INGKEY", "og-secret-value", "XXXXSECRET", "token="}

// env checks provider targets as the bot does, with an injected
// environment in which OPSGENIE_API_KEY is set, and nothing else.
var env = builtin.Set(builtin.Options{Getenv: func(name string) string {
	return map[string]string{"OPSGENIE_API_KEY": "og-secret-value"}[name]
}}).Check

const fullFile = `
policies:
  - name: platform
    description: Platform on-call   # optional
    repeat: 1          # optional
    levels:
      - targets: [U0123ABCD]
        timeout: 5m
      - targets: [S0456EFGH, "pagerduty:R0UTINGKEY", "opsgenie:OPSGENIE_API_KEY", "webhook:https://hooks.example.com/page"]
        timeout: 10m
  - name: database
    levels:
      - targets: [W0789WXYZ]
        timeout: 1h30m
severity_defaults:
  sev1: platform
  SEV2: Database
`

func TestParsePoliciesFullFile(t *testing.T) {
	got, err := incident.ParsePolicies([]byte(fullFile), env)
	if err != nil {
		t.Fatalf("ParsePolicies: %v", err)
	}
	want := &incident.Policies{
		List: []incident.Policy{
			{
				Name:        "platform",
				Description: "Platform on-call",
				Repeat:      1,
				Levels: []incident.Level{
					{Targets: []incident.Target{"U0123ABCD"}, Timeout: 5 * time.Minute},
					{Targets: []incident.Target{"S0456EFGH", "pagerduty:R0UTINGKEY", "opsgenie:OPSGENIE_API_KEY", "webhook:https://hooks.example.com/page"}, Timeout: 10 * time.Minute},
				},
			},
			{
				Name:   "database",
				Levels: []incident.Level{{Targets: []incident.Target{"W0789WXYZ"}, Timeout: 90 * time.Minute}},
			},
		},
		SeverityDefaults: map[incident.Severity]string{incident.Sev1: "platform", incident.Sev2: "database"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePolicies =\n%#v\nwant\n%#v", got, want)
	}
}

func TestParsePoliciesValidVariants(t *testing.T) {
	tests := []struct {
		name, file string
		policies   int
	}{
		{"same target on two levels", "policies:\n  - name: p\n    levels:\n      - {targets: [U0123ABCD], timeout: 1m}\n      - {targets: [U0123ABCD], timeout: 24h}\n", 1},
		{"block list of targets", "policies:\n  - name: p-1_x\n    repeat: 9\n    levels:\n      - targets:\n          - U0123ABCD\n          - \"webhook:http://localhost:8080/x?token=XXXXSECRET\"\n        timeout: 2m\n", 1},
		{"policies without severity defaults", "policies:\n  - name: p\n    levels: [{targets: [S0456EFGH], timeout: 5m}]\n", 1},
		{"no policies", "policies: []\n", 0},
		{"leading document marker", "---\npolicies:\n  - name: p\n    levels: [{targets: [U0123ABCD], timeout: 5m}]\n", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := incident.ParsePolicies([]byte(tc.file), env)
			if err != nil {
				t.Fatalf("ParsePolicies: %v", err)
			}
			if len(ps.List) != tc.policies {
				t.Errorf("got %d policies, want %d", len(ps.List), tc.policies)
			}
		})
	}
}

// policy wraps one level's YAML (indented for a levels list) in a policy named platform.
func policy(levels string) string {
	return "policies:\n  - name: platform\n    levels:\n" + levels
}

func TestParsePoliciesErrors(t *testing.T) {
	ok := "      - targets: [U0123ABCD]\n        timeout: 5m\n"
	target := func(tg string) string {
		return policy("      - targets: [U0123ABCD, " + tg + "]\n        timeout: 5m\n")
	}
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"name missing", "policies:\n  - levels:\n" + ok,
			[]string{"policy 1: name is missing: write e.g. name: platform"}},
		{"name upper case", "policies:\n  - name: Platform\n    levels:\n" + ok,
			[]string{`policy "Platform": name must be lowercase letters, digits, - or _ (it is typed in /incident page <name>)`}},
		{"name with a space", "policies:\n  - name: plat form\n    levels:\n" + ok,
			[]string{`policy "plat form": name must be`}},
		{"name too long", "policies:\n  - name: " + strings.Repeat("a", 41) + "\n    levels:\n" + ok,
			[]string{"name must be", "at most 40"}},
		{"name starts with -", "policies:\n  - name: -x\n    levels:\n" + ok,
			[]string{`policy "-x": name must be`}},
		{"defined twice", policy(ok) + "  - name: platform\n    levels:\n" + ok,
			[]string{`policy "platform": defined twice (names are case-insensitive)`}},
		{"defined twice in another case", policy(ok) + "  - name: PLATFORM\n    levels:\n" + ok,
			[]string{`policy "PLATFORM": defined twice (names are case-insensitive)`, `policy "PLATFORM": name must be`}},
		{"levels missing", "policies:\n  - name: platform\n",
			[]string{`policy "platform": levels are missing: add at least one level with targets and a timeout`}},
		{"targets missing", policy(ok + "      - timeout: 5m\n"),
			[]string{`policy "platform" level 2: targets are missing: list user ids (U…), user group ids (S…) or pagerduty:/opsgenie:/webhook:/jsm: targets`}},
		{"targets empty list", policy("      - targets: []\n        timeout: 5m\n"),
			[]string{`policy "platform" level 1: targets are missing`}},
		{"timeout missing", policy(ok + "      - targets: [U0123ABCD]\n"),
			[]string{`policy "platform" level 2: timeout is missing: write e.g. timeout: 5m`}},
		{"timeout without unit", policy(ok + "      - targets: [U0123ABCD]\n        timeout: 5\n"),
			[]string{`policy "platform" level 2: timeout "5" is not a duration: write e.g. 5m or 1h30m`}},
		{"timeout too short", policy("      - targets: [U0123ABCD]\n        timeout: 30s\n"),
			[]string{`policy "platform" level 1: timeout 30s must be between 1m and 24h`}},
		{"timeout too long", policy("      - targets: [U0123ABCD]\n        timeout: 25h\n"),
			[]string{"timeout 25h must be between 1m and 24h"}},
		{"repeat too big", "policies:\n  - name: platform\n    repeat: 12\n    levels:\n" + ok,
			[]string{`policy "platform": repeat must be between 0 and 9 (got 12)`}},
		{"repeat negative", "policies:\n  - name: platform\n    repeat: -1\n    levels:\n" + ok,
			[]string{"repeat must be between 0 and 9 (got -1)"}},
		{"a name, not a user id", target("bob"),
			[]string{`policy "platform" level 1 target 2 ("bob"): not a target: use a user id such as U0123ABCD (not a name), a user group id such as S0456EFGH, pagerduty:<routing key>, opsgenie:<ENV_VAR holding the API key>, jsm:<ENV_VAR holding the API key> or webhook:https://…`}},
		{"lower-case user id", target("u0123abcd"),
			[]string{`target 2 ("u0123abcd"): not a target`}},
		{"user id too short", target("U012"),
			[]string{`target 2 ("U012"): not a target`}},
		{"empty target", target(`""`),
			[]string{`target 2 (""): not a target`}},
		{"bare routing key", target("R0UTINGKEYR0UTINGKEYR0UTINGKEY12"),
			[]string{`target 2 ("R0U…"): not a target`}},
		{"URL without webhook prefix", target(`"https://hooks.example.com/XXXXSECRET"`),
			[]string{`target 2 ("https:…"): not a target: a URL needs the webhook: prefix`}},
		{"unknown provider", target(`"pd:R0UTINGKEY"`),
			[]string{`target 2 ("pd:…"): not a target`}},
		{"pagerduty key missing", target(`"pagerduty:"`),
			[]string{`target 2 ("pagerduty:…"): the routing key is missing`, "Integration Key"}},
		{"pagerduty key with a space", target(`"pagerduty:R0UT INGKEY"`),
			[]string{`target 2 ("pagerduty:R0U…"): the routing key is missing or has spaces`}},
		{"opsgenie key instead of env var name", target(`"opsgenie:og-secret-value"`),
			[]string{`target 2 ("opsgenie:og-…"): not an environment variable name`, "not the key itself"}},
		{"opsgenie env var unset", target(`"opsgenie:MISSING_KEY"`),
			[]string{`policy "platform" level 1 target 2 ("opsgenie:MISSING_KEY"): the environment variable MISSING_KEY is not set: set it to the API key of an Opsgenie API integration`}},
		{"opsgenie env var name missing", target(`"opsgenie:"`),
			[]string{`target 2 ("opsgenie:…"): not an environment variable name`}},
		{"webhook not http", target(`"webhook:ftp://hooks.example.com/XXXXSECRET"`),
			[]string{`target 2 ("webhook:ftp://hooks.example.com/…"): not an http(s) URL: write e.g. webhook:https://hooks.example.com/page`}},
		{"webhook without host", target(`"webhook:https:///XXXXSECRET"`),
			[]string{`target 2 ("webhook:…"): not an http(s) URL`}},
		{"webhook without scheme", target(`"webhook:hooks.example.com/XXXXSECRET"`),
			[]string{`target 2 ("webhook:…"): not an http(s) URL`}},
		{"webhook unparsable", target(`"webhook:https://hooks.example.com/%zzXXXXSECRET?token=1"`),
			[]string{`target 2 ("webhook:…"): not an http(s) URL`}},
		{"duplicate target", target(`U0123ABCD`),
			[]string{`policy "platform" level 1 target 2 ("U0123ABCD"): listed twice in this level`}},
		{"duplicate provider target", policy("      - targets: [\"pagerduty:R0UTINGKEY\", \"pagerduty:R0UTINGKEY\"]\n        timeout: 5m\n"),
			[]string{`target 2 ("pagerduty:R0U…"): listed twice`}},
		{"targets not a list", policy("      - targets: pagerduty:R0UTINGKEY\n        timeout: 5m\n"),
			[]string{"line 4: targets must be a list"}},
		{"target written as key: value", policy("      - targets:\n          - pagerduty: R0UTINGKEY\n        timeout: 5m\n"),
			[]string{"line 5: target 1 is not a single value", "no space after the colon"}},
		{"not a severity", policy(ok) + "severity_defaults:\n  sev5: platform\n",
			[]string{`severity_defaults: "sev5" is not a severity: use sev1, sev2, sev3 or sev4`}},
		{"undefined policy", policy(ok) + "  - name: database\n    levels:\n" + ok + "severity_defaults:\n  sev1: plat\n",
			[]string{`severity_defaults: sev1 names policy "plat", which is not defined (defined: platform, database)`}},
		{"undefined policy, none defined", "severity_defaults:\n  sev1: plat\n",
			[]string{`severity_defaults: sev1 names policy "plat", which is not defined (defined: none)`}},
		{"severity given twice", policy(ok) + "severity_defaults:\n  sev1: platform\n  \"1\": platform\n",
			[]string{`severity_defaults: sev1 is given twice (as "1" and "sev1"): keep one`}},
		{"severity names no policy", policy(ok) + "severity_defaults:\n  sev2:\n",
			[]string{"severity_defaults: sev2 names no policy: write e.g. sev2: platform"}},
		{"misspelt level field", policy("      - targets: [U0123ABCD]\n        timout: 5m\n"),
			[]string{"escalation file: line 5: field timout is unknown in a level (fields: targets, timeout)"}},
		{"misspelt policy field", "policies:\n  - name: platform\n    level:\n" + ok,
			[]string{"line 3: field level is unknown in a policy (fields: name, description, repeat, levels)"}},
		{"misspelt top-level field", "policy:\n  - name: platform\n",
			[]string{"line 1: field policy is unknown at the top level (fields: policies, schedules, severity_defaults, alert_routes)"}},
		{"repeat not a number", "policies:\n  - name: platform\n    repeat: many\n    levels:\n" + ok,
			[]string{"line 3: cannot unmarshal", "into a whole number"}},
		{"top level is a list", "- name: platform\n",
			[]string{"line 1: cannot unmarshal !!seq into the top level: it must be a mapping"}},
		{"policies not a list", "policies:\n  name: platform\n",
			[]string{"line 2: cannot unmarshal !!map into policies: it must be a list"}},
		{"levels not a list", "policies:\n  - name: platform\n    levels:\n      targets: [U0123ABCD]\n",
			[]string{"line 4: cannot unmarshal !!map into levels: it must be a list"}},
		{"severity_defaults not a mapping", policy(ok) + "severity_defaults: [platform]\n",
			[]string{"line 6: cannot unmarshal !!seq into severity_defaults: it must be a mapping"}},
		{"YAML syntax error", "policies:\n  - name: platform\n    levels: [\n",
			[]string{"escalation file: ", "line "}},
		{"bad indentation", "policies:\n  - name: platform\n   levels:\n",
			[]string{"escalation file: line "}},
		{"two documents", policy(ok) + "---\n" + policy(ok),
			[]string{"only one YAML document is allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := incident.ParsePolicies([]byte(tc.file), env)
			if err == nil {
				t.Fatalf("ParsePolicies succeeded (%+v), want an error", ps)
			}
			checkFileError(t, err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// checkFileError checks what every invalid file's error shares.
func checkFileError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "escalation file: ") {
		t.Errorf("error does not start with %q:\n%s", "escalation file: ", msg)
	}
	if !errors.Is(err, incident.ErrInvalidInput) {
		t.Errorf("errors.Is(err, ErrInvalidInput) is false for %v", err)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error shows the secret %q:\n%s", s, msg)
		}
	}
}

func TestParsePoliciesReportsEveryProblem(t *testing.T) {
	file := `
policies:
  - name: platform
    repeat: 12
    levels:
      - targets: [bob, "pagerduty:R0UTINGKEY", "opsgenie:MISSING_KEY"]
        timeout: "5"
      - targets: ["webhook:ftp://hooks.example.com/XXXXSECRET"]
  - levels: []
severity_defaults:
  sev1: plat
  sev9: platform
`
	_, err := incident.ParsePolicies([]byte(file), env)
	if err == nil {
		t.Fatal("ParsePolicies succeeded, want an error")
	}
	checkFileError(t, err)
	want := []string{
		`policy "platform": repeat must be between 0 and 9 (got 12)`,
		`policy "platform" level 1 target 1 ("bob"): not a target`,
		`policy "platform" level 1 target 3 ("opsgenie:MISSING_KEY"): the environment variable MISSING_KEY is not set`,
		`policy "platform" level 1: timeout "5" is not a duration`,
		`policy "platform" level 2 target 1 ("webhook:ftp://hooks.example.com/…"): not an http(s) URL`,
		`policy "platform" level 2: timeout is missing`,
		`policy 2: name is missing`,
		`policy 2: levels are missing`,
		`severity_defaults: sev1 names policy "plat", which is not defined (defined: platform)`,
		`severity_defaults: "sev9" is not a severity`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && !strings.Contains(lines[i], w) {
			t.Errorf("line %d is %q, want it to contain %q", i+1, lines[i], w)
		}
	}
}

func TestParsePoliciesEmpty(t *testing.T) {
	for name, file := range map[string]string{
		"empty":         "",
		"blank lines":   "\n\n  \n",
		"only comments": "# no policies yet\n# policies:\n",
		"marker only":   "---\n",
	} {
		t.Run(name, func(t *testing.T) {
			ps, err := incident.ParsePolicies([]byte(file), env)
			if err != nil {
				t.Fatalf("ParsePolicies: %v", err)
			}
			if !ps.Empty() {
				t.Errorf("Empty() = false for %+v", ps)
			}
			if _, ok := ps.ForSeverity(incident.Sev1); ok {
				t.Error("ForSeverity(Sev1) found a policy in an empty file")
			}
		})
	}
}

func TestParsePoliciesNilGetenvReadsEnvironment(t *testing.T) {
	_, err := incident.ParsePolicies([]byte(policy("      - targets: [\"opsgenie:INCIDENTBOT_TEST_UNSET_VARIABLE_3F9A\"]\n        timeout: 5m\n")), builtin.Set(builtin.Options{}).Check)
	if err == nil || !strings.Contains(err.Error(), "INCIDENTBOT_TEST_UNSET_VARIABLE_3F9A is not set") {
		t.Errorf("err = %v, want the variable reported as not set", err)
	}
}

func TestPoliciesLookups(t *testing.T) {
	ps, err := incident.ParsePolicies([]byte(fullFile), env)
	if err != nil {
		t.Fatalf("ParsePolicies: %v", err)
	}
	gets := []struct {
		name, lookup, want string // want "" means not found
	}{
		{"exact", "platform", "platform"},
		{"upper case", "PLATFORM", "platform"},
		{"mixed case with spaces", " DataBase ", "database"},
		{"unknown", "plat", ""},
		{"empty", "", ""},
	}
	for _, tc := range gets {
		t.Run("Get "+tc.name, func(t *testing.T) {
			p, ok := ps.Get(tc.lookup)
			if ok != (tc.want != "") || (ok && p.Name != tc.want) {
				t.Errorf("Get(%q) = %v, %v; want %q", tc.lookup, p, ok, tc.want)
			}
		})
	}
	sevs := []struct {
		sev  incident.Severity
		want string
	}{
		{incident.Sev1, "platform"},
		{incident.Sev2, "database"},
		{incident.Sev3, ""},
		{0, ""},
	}
	for _, tc := range sevs {
		t.Run("ForSeverity "+tc.sev.String(), func(t *testing.T) {
			p, ok := ps.ForSeverity(tc.sev)
			if ok != (tc.want != "") || (ok && p.Name != tc.want) {
				t.Errorf("ForSeverity(%v) = %v, %v; want %q", tc.sev, p, ok, tc.want)
			}
		})
	}
	if p, _ := ps.Get("platform"); p != &ps.List[0] {
		t.Error("Get returned a copy, want a pointer into List")
	}
	if ps.Empty() {
		t.Error("Empty() = true for a file with policies")
	}
	t.Run("nil receiver", func(t *testing.T) {
		var none *incident.Policies
		if p, ok := none.Get("platform"); p != nil || ok {
			t.Errorf("nil.Get = %v, %v", p, ok)
		}
		if p, ok := none.ForSeverity(incident.Sev1); p != nil || ok {
			t.Errorf("nil.ForSeverity = %v, %v", p, ok)
		}
		if !none.Empty() {
			t.Error("nil.Empty() = false")
		}
	})
}

func TestTarget(t *testing.T) {
	tests := []struct {
		name     string
		target   incident.Target
		kind     incident.TargetKind
		value    string
		provider bool
		redacted string
	}{
		{"user", "U0123ABCD", incident.TargetUser, "U0123ABCD", false, "U0123ABCD"},
		{"enterprise user", "W0123ABCD", incident.TargetUser, "W0123ABCD", false, "W0123ABCD"},
		{"user group", "S0456EFGH", incident.TargetGroup, "S0456EFGH", false, "S0456EFGH"},
		{"pagerduty", "pagerduty:R0UTINGKEY", incident.TargetPagerDuty, "R0UTINGKEY", true, "pagerduty:R0U…"},
		{"short pagerduty key", "pagerduty:R0UT", incident.TargetPagerDuty, "R0UT", true, "pagerduty:…"},
		{"opsgenie", "opsgenie:OPSGENIE_API_KEY", incident.TargetOpsgenie, "OPSGENIE_API_KEY", true, "opsgenie:OPSGENIE_API_KEY"},
		{"opsgenie key pasted", "opsgenie:og-secret-value", incident.TargetOpsgenie, "og-secret-value", true, "opsgenie:og-…"},
		{"webhook", "webhook:https://hooks.example.com/page", incident.TargetWebhook, "https://hooks.example.com/page", true, "webhook:https://hooks.example.com/…"},
		{"webhook with credentials and query", "webhook:http://user:XXXXSECRET@hooks.example.com:8443/p?token=XXXXSECRET#f", incident.TargetWebhook,
			"http://user:XXXXSECRET@hooks.example.com:8443/p?token=XXXXSECRET#f", true, "webhook:http://hooks.example.com:8443/…"},
		{"webhook not a URL", "webhook:not a url/XXXXSECRET", incident.TargetWebhook, "not a url/XXXXSECRET", true, "webhook:…"},
		{"a name", "bob", 0, "bob", false, "bob"},
		{"a long unknown value", "R0UTINGKEYR0UTINGKEYR0UTINGKEY12", 0, "R0UTINGKEYR0UTINGKEYR0UTINGKEY12", false, "R0U…"},
		{"an unknown prefix", "pd:R0UTINGKEY", 0, "pd:R0UTINGKEY", false, "pd:…"},
		{"a URL without a prefix", "https://hooks.example.com/XXXXSECRET", 0, "https://hooks.example.com/XXXXSECRET", false, "https:…"},
		{"empty", "", 0, "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.target.Kind(); got != tc.kind {
				t.Errorf("Kind() = %v, want %v", got, tc.kind)
			}
			if got := tc.target.Value(); got != tc.value {
				t.Errorf("Value() = %q, want %q", got, tc.value)
			}
			if got := tc.target.Provider(); got != tc.provider {
				t.Errorf("Provider() = %v, want %v", got, tc.provider)
			}
			got := tc.target.Redacted()
			if got != tc.redacted {
				t.Errorf("Redacted() = %q, want %q", got, tc.redacted)
			}
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Errorf("Redacted() = %q shows the secret %q", got, s)
				}
			}
		})
	}
}

func TestLoadPolicies(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "escalation.yaml")
	if err := os.WriteFile(good, []byte(fullFile), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(policy("      - targets: [bob]\n        timeout: 5m\n")), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("file", func(t *testing.T) {
		ps, err := incident.LoadPolicies(good, env)
		if err != nil {
			t.Fatalf("LoadPolicies: %v", err)
		}
		if len(ps.List) != 2 {
			t.Errorf("got %d policies, want 2", len(ps.List))
		}
	})
	t.Run("no path", func(t *testing.T) {
		ps, err := incident.LoadPolicies("", env)
		if err != nil || ps == nil || !ps.Empty() {
			t.Errorf("LoadPolicies(\"\") = %+v, %v; want empty policies", ps, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "missing.yaml")
		_, err := incident.LoadPolicies(missing, env)
		if err == nil {
			t.Fatal("LoadPolicies succeeded for a missing file")
		}
		if !strings.HasPrefix(err.Error(), "escalation file: ") || !strings.Contains(err.Error(), missing) {
			t.Errorf("error %q does not name the escalation file %s", err, missing)
		}
		if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("error %v: want fs.ErrNotExist, not ErrInvalidInput", err)
		}
	})
	t.Run("invalid file", func(t *testing.T) {
		_, err := incident.LoadPolicies(bad, env)
		if err == nil {
			t.Fatal("LoadPolicies succeeded for an invalid file")
		}
		checkFileError(t, err)
	})
}

// anyEnv sets every environment variable, as a deployment would set those
// the example names.
var anyEnv = builtin.Set(builtin.Options{Getenv: func(string) string { return "x" }}).Check

func TestExampleFileParses(t *testing.T) {
	data, err := os.ReadFile("../deploy/escalation.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := incident.ParsePolicies(data, anyEnv)
	if err != nil {
		t.Fatalf("deploy/escalation.example.yaml: %v", err)
	}
	kinds := map[incident.TargetKind]bool{}
	for _, p := range ps.List {
		for _, l := range p.Levels {
			for _, tg := range l.Targets {
				kinds[tg.Kind()] = true
			}
		}
	}
	for _, k := range []incident.TargetKind{incident.TargetUser, incident.TargetGroup, incident.TargetPagerDuty, incident.TargetOpsgenie, incident.TargetWebhook} {
		if !kinds[k] {
			t.Errorf("the example shows no target of kind %d", k)
		}
	}
	for _, name := range []string{"platform", "database"} {
		if _, ok := ps.Get(name); !ok {
			t.Errorf("the example defines no policy %s", name)
		}
	}
	for _, s := range []incident.Severity{incident.Sev1, incident.Sev2} {
		if _, ok := ps.ForSeverity(s); !ok {
			t.Errorf("the example has no severity_defaults entry for %s", s)
		}
	}
}

// The ConfigMap's embedded escalation.yaml is a real escalation file too.
func TestConfigMapEscalationParses(t *testing.T) {
	data, err := os.ReadFile("../deploy/kubernetes/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(data, &cm); err != nil {
		t.Fatalf("configmap.yaml: %v", err)
	}
	if _, err := incident.ParsePolicies([]byte(cm.Data["escalation.yaml"]), anyEnv); err != nil {
		t.Errorf("configmap.yaml escalation.yaml: %v", err)
	}
}
