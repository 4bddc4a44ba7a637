package incident_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// routesFile has a policy and a schedule for routes to page, and routes of
// every shape: full, minimal, paging a schedule, sharing a token.
const routesFile = `
policies:
  - name: platform
    levels:
      - targets: [U0123ABCD]
        timeout: 5m
schedules:
  - name: platform-primary
    time_zone: UTC
    rotations:
      - name: weekly
        start: 2026-01-05T09:00
        shift: 1w
        participants: [U01ANA0001]
alert_routes:
  - name: platform
    token_env: PLATFORM_ALERTS_TOKEN
    match: {team: platform, service: "=~checkout|cart"}
    channel: C0PLATALERTS
    page: Platform
    severity_from: priority
    severity_map: {P1: sev1, page: "2"}
    declare: sev1
    quiet: 2m
  - name: oncall
    token_env: platform_alerts_token
    channel: G0PRIVATE1
    page: "schedule:Platform-Primary"
    quiet: "0"
  - name: rest
    token_env: PLATFORM_ALERTS_TOKEN
    channel: C0ALLALERTS
`

func TestParseAlertRoutes(t *testing.T) {
	ps, err := incident.ParsePolicies([]byte(routesFile), env)
	if err != nil {
		t.Fatalf("ParsePolicies: %v", err)
	}
	want := []incident.AlertRoute{
		{Name: "platform", TokenEnv: "PLATFORM_ALERTS_TOKEN", Channel: "C0PLATALERTS", Page: "platform", // the name as defined
			SeverityFrom: "priority", SeverityMap: map[string]incident.Severity{"P1": incident.Sev1, "page": incident.Sev2},
			Declare: incident.Sev1, Quiet: 2 * time.Minute},
		{Name: "oncall", TokenEnv: "platform_alerts_token", Channel: "G0PRIVATE1", Page: "schedule:platform-primary"},
		{Name: "rest", TokenEnv: "PLATFORM_ALERTS_TOKEN", Channel: "C0ALLALERTS"},
	}
	if len(ps.AlertRoutes) != len(want) {
		t.Fatalf("got %d routes, want %d: %+v", len(ps.AlertRoutes), len(want), ps.AlertRoutes)
	}
	for i, w := range want {
		got := ps.AlertRoutes[i]
		matchers := got.Match
		got.Match = nil
		if !reflect.DeepEqual(got, w) {
			t.Errorf("route %d =\n\t%+v\nwant\n\t%+v", i+1, got, w)
		}
		if i > 0 && len(matchers) != 0 {
			t.Errorf("route %d has matchers %v, want none", i+1, matchers)
		}
	}
	var ms []string
	for _, m := range ps.AlertRoutes[0].Match {
		ms = append(ms, m.String())
	}
	if strings.Join(ms, " ") != "service=~checkout|cart team=platform" {
		t.Errorf("matchers = %v", ms)
	}
	r := ps.AlertRoutes[0]
	if !r.Matches(map[string]string{"team": "platform", "service": "cart"}) || r.Matches(map[string]string{"team": "platform"}) {
		t.Error("the parsed matchers do not match as written")
	}
	if s := r.Severity(map[string]string{"priority": "page"}); s != incident.Sev2 {
		t.Errorf("Severity(priority=page) = %v, want sev2", s)
	}
}

func TestPoliciesAlertRoute(t *testing.T) {
	ps, err := incident.ParsePolicies([]byte(routesFile), env)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ lookup, want string }{
		{"platform", "platform"},
		{" OnCall ", "oncall"},
		{"REST", "rest"},
		{"plat", ""},
		{"", ""},
	}
	for _, tc := range tests {
		r, ok := ps.AlertRoute(tc.lookup)
		if ok != (tc.want != "") || ok && r.Name != tc.want {
			t.Errorf("AlertRoute(%q) = %v, %v; want %q", tc.lookup, r, ok, tc.want)
		}
	}
	if r, _ := ps.AlertRoute("rest"); r != &ps.AlertRoutes[2] {
		t.Error("AlertRoute returned a copy, want a pointer into AlertRoutes")
	}
	var none *incident.Policies
	if r, ok := none.AlertRoute("platform"); r != nil || ok {
		t.Errorf("nil.AlertRoute = %v, %v", r, ok)
	}
}

// A file of routes alone loads: alerts can be posted with no policy to page.
func TestLoadPoliciesOnlyAlertRoutes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "escalation.yaml")
	file := "alert_routes:\n  - name: all\n    token_env: ALERTS_TOKEN\n    channel: C0ALERTS01\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := incident.LoadPolicies(path, env)
	if err != nil {
		t.Fatalf("LoadPolicies: %v", err)
	}
	if !ps.Empty() || len(ps.AlertRoutes) != 1 || ps.AlertRoutes[0].Page != "" || ps.AlertRoutes[0].Match != nil {
		t.Errorf("policies %d, routes %+v", len(ps.List), ps.AlertRoutes)
	}
	if ps, err := incident.ParsePolicies([]byte(fullFile), env); err != nil || ps.AlertRoutes != nil {
		t.Errorf("a file without alert_routes: routes %v, %v; want nil", ps.AlertRoutes, err)
	}
}

// route writes the required fields of a route after its name (indented
// for the alert_routes list), then extra.
func route(extra string) string {
	return "    token_env: ALERTS_TOKEN\n    channel: C0ALERTS01\n" + extra
}

func TestParseAlertRoutesErrors(t *testing.T) {
	const head = "policies:\n  - name: platform\n    levels:\n      - targets: [U0123ABCD]\n        timeout: 5m\nalert_routes:\n"
	one := func(fields string) string { return head + "  - name: r\n" + fields }
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"name missing", head + "  - token_env: ALERTS_TOKEN\n    channel: C0ALERTS01\n",
			[]string{"alert route 1: name is missing: write e.g. name: platform"}},
		{"name upper case", head + "  - name: Platform\n" + route(""),
			[]string{`alert route "Platform": name must be lowercase letters, digits, - or _`}},
		{"defined twice in another case", one(route("    match: {a: b}\n")) + "  - name: R\n" + route(""),
			[]string{`alert route "R": defined twice (names are case-insensitive)`}},
		{"token_env missing", one("    channel: C0ALERTS01\n"),
			[]string{`alert route "r": token_env is missing: write the name of the environment variable holding the route's bearer token, e.g. token_env: PLATFORM_ALERTS_TOKEN`}},
		{"token_env starts with a digit", one("    token_env: 1TOKEN\n    channel: C0ALERTS01\n"),
			[]string{`alert route "r": token_env ("…") is not an environment variable name`}},
		// A token pasted where its variable's name belongs is not repeated.
		{"token_env holds a token", one("    token_env: XXXXSECRET-0123456789abcdef\n    channel: C0ALERTS01\n"),
			[]string{`token_env ("XXX…") is not an environment variable name`, "never the token itself"}},
		{"channel missing", one("    token_env: ALERTS_TOKEN\n"),
			[]string{`alert route "r": channel is missing: write the id of the channel its alerts are posted in, e.g. channel: C0PLATALERTS`}},
		{"channel a name", one("    token_env: ALERTS_TOKEN\n    channel: \"#alerts\"\n"),
			[]string{`alert route "r": channel "#alerts" is not a channel id: write the id (C… or G…`}},
		{"channel lower case", one("    token_env: ALERTS_TOKEN\n    channel: c0alerts01\n"),
			[]string{`channel "c0alerts01" is not a channel id`}},
		{"channel a user id", one("    token_env: ALERTS_TOKEN\n    channel: U0123ABCD\n"),
			[]string{`channel "U0123ABCD" is not a channel id`}},
		{"page an unknown policy", one(route("    page: plat\n")),
			[]string{`alert route "r": page "plat" is not a policy defined under policies: (defined: platform): write a policy's name, schedule:<name>`}},
		{"page with no policies", "alert_routes:\n  - name: r\n" + route("    page: platform\n"),
			[]string{`page "platform" is not a policy defined under policies: (defined: none)`}},
		{"page an unknown schedule", one(route("    page: \"schedule:nope\"\n")),
			[]string{`alert route "r": page "schedule:nope": no schedule of that name is defined under schedules: (defined: none)`}},
		{"page a user", one(route("    page: U0123ABCD\n")),
			[]string{`page "U0123ABCD" is not a policy`}},
		{"match regex", one(route("    match: {service: \"=~(\", team: \"=~[\"}\n")),
			[]string{`alert route "r": match "service": The matcher for service is not a regular expression`,
				`alert route "r": match "team": The matcher for team is not a regular expression`, "RE2 syntax"}},
		{"match empty label", one(route("    match: {\"\": x}\n")),
			[]string{`alert route "r": match "": A matcher needs a label name.`}},
		{"match a list", one(route("    match: [team=platform]\n")),
			[]string{"cannot unmarshal !!seq into match: it must be a mapping of label to value"}},
		{"severity_map value", one(route("    severity_map: {P1: sev0, P2: high}\n")),
			[]string{`alert route "r": severity_map P1: "sev0" is not a severity: use sev1, sev2, sev3 or sev4, e.g. severity_map: {P1: sev2}`,
				`severity_map P2: "high" is not a severity`}},
		{"severity_map a list", one(route("    severity_map: [P1]\n")),
			[]string{"into severity_map: it must be a mapping of label value to severity"}},
		{"declare", one(route("    declare: critical\n")),
			[]string{`alert route "r": declare "critical" is not a severity: write the least severe alert that declares an incident by itself, e.g. declare: sev1`}},
		{"quiet not a duration", one(route("    quiet: 2\n")),
			[]string{`alert route "r": quiet "2" is not a duration: write e.g. quiet: 2m`}},
		{"quiet negative", one(route("    quiet: -1m\n")),
			[]string{`alert route "r": quiet -1m must be between 0 and 24h`}},
		{"quiet too long", one(route("    quiet: 25h\n")),
			[]string{"quiet 25h must be between 0 and 24h"}},
		{"unreachable after a catch-all", one(route("")) + "  - name: s\n" + route("    match: {team: x}\n"),
			[]string{`alert route "s": never receives an alert: alert route "r" before it has the same token_env ALERTS_TOKEN and no match`}},
		{"misspelt field", one(route("    chanel: C0ALERTS01\n")),
			[]string{"field chanel is unknown in an alert route (fields: name, token_env, match, channel, page, severity_from, severity_map, declare, quiet)"}},
		{"alert_routes not a list", head[:len(head)-len("alert_routes:\n")] + "alert_routes:\n  name: r\n",
			[]string{"into alert_routes: it must be a list of routes, each starting with - name:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := incident.ParsePolicies([]byte(tc.file), env)
			if err == nil {
				t.Fatalf("ParsePolicies succeeded (%+v), want an error", ps.AlertRoutes)
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

// Every problem of every route is reported at once, in file order, each on
// its own line.
func TestParseAlertRoutesReportsEveryProblem(t *testing.T) {
	file := `
alert_routes:
  - token_env: "1BAD"
    channel: "#alerts"
  - name: platform
    page: nope
    declare: worst
    quiet: forever
  - name: Platform
    token_env: OK_TOKEN
    channel: C0PLATALERTS
    severity_map: {P1: zero}
`
	_, err := incident.ParsePolicies([]byte(file), env)
	if err == nil {
		t.Fatal("ParsePolicies succeeded, want an error")
	}
	checkFileError(t, err)
	want := []string{
		`alert route 1: name is missing`,
		`alert route 1: token_env ("…") is not an environment variable name`,
		`alert route 1: channel "#alerts" is not a channel id`,
		`alert route "platform": token_env is missing`,
		`alert route "platform": channel is missing`,
		`alert route "platform": page "nope" is not a policy defined under policies: (defined: none)`,
		`alert route "platform": declare "worst" is not a severity`,
		`alert route "platform": quiet "forever" is not a duration`,
		`alert route "Platform": name must be lowercase letters`,
		`alert route "Platform": severity_map P1: "zero" is not a severity`,
		`alert route "Platform": defined twice (names are case-insensitive)`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && !strings.Contains(lines[i], w) {
			t.Errorf("line %d is\n\t%q\nwant it to contain\n\t%q", i+1, lines[i], w)
		}
	}
}

// The example documents alert_routes field by field, and its routes load.
func TestExampleFileAlertRoutes(t *testing.T) {
	data, err := os.ReadFile("../deploy/escalation.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := incident.ParsePolicies(data, anyEnv)
	if err != nil {
		t.Fatalf("deploy/escalation.example.yaml: %v", err)
	}
	if len(ps.AlertRoutes) < 2 || ps.AlertRoutes[0].TokenEnv != ps.AlertRoutes[1].TokenEnv {
		t.Errorf("the example has no two routes sharing a token: %+v", ps.AlertRoutes)
	}
	r, ok := ps.AlertRoute("platform-checkout")
	if !ok || len(r.Match) == 0 || r.Page == "" || len(r.SeverityMap) == 0 || !r.Declare.Valid() || r.Quiet == 0 {
		t.Errorf("the example's first route does not show every field: %+v", r)
	}
	for _, field := range []string{"alert_routes", "name", "token_env", "match", "channel", "page", "severity_from", "severity_map", "declare", "quiet"} {
		if !strings.Contains(string(data), "# "+field+" (") {
			t.Errorf("the example does not document %s", field)
		}
	}
	if !strings.Contains(string(data), "Routes sharing one token_env are tried in file order") {
		t.Error("the example does not say how routes sharing a token are tried")
	}
}
