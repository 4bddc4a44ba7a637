package check

import (
	"reflect"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// Distinctive token values: none may show in an error.
const (
	platformToken = "PLATFORM-0123456789abcdef-SECRET"
	dataToken     = "DATA-fedcba9876543210-SECRET"
)

func TestAlertTokens(t *testing.T) {
	routes := []incident.AlertRoute{
		{Name: "checkout", TokenEnv: "PLATFORM_ALERTS_TOKEN"},
		{Name: "data", TokenEnv: "DATA_ALERTS_TOKEN"},
		{Name: "platform", TokenEnv: "PLATFORM_ALERTS_TOKEN"},
		{Name: "legacy", TokenEnv: "OLD_PLATFORM_TOKEN"}, // another variable, the same token
	}
	env := map[string]string{
		"PLATFORM_ALERTS_TOKEN": platformToken + "\n", // a Secret's trailing newline
		"DATA_ALERTS_TOKEN":     dataToken,
		"OLD_PLATFORM_TOKEN":    " " + platformToken,
	}
	got, err := AlertTokens(routes, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("alertTokens: %v", err)
	}
	want := map[string][]string{platformToken: {"checkout", "platform", "legacy"}, dataToken: {"data"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alertTokens = %v, want %v", got, want)
	}
	if got, err := AlertTokens(nil, func(string) string { return "" }); err != nil || len(got) != 0 {
		t.Errorf("no routes: %v, %v; want no tokens", got, err)
	}
}

func TestAlertTokensRefuses(t *testing.T) {
	const how = `set it to a long random secret, e.g. the output of "openssl rand -hex 32"`
	tests := []struct {
		name   string
		routes []incident.AlertRoute
		env    map[string]string
		want   []string // each a line of the error, in order
	}{
		{"unset", []incident.AlertRoute{{Name: "platform", TokenEnv: "PLATFORM_ALERTS_TOKEN"}}, nil,
			[]string{"PLATFORM_ALERTS_TOKEN (token_env of alert route platform) is empty: " + how}},
		{"empty", []incident.AlertRoute{{Name: "platform", TokenEnv: "PLATFORM_ALERTS_TOKEN"}}, map[string]string{"PLATFORM_ALERTS_TOKEN": ""},
			[]string{"PLATFORM_ALERTS_TOKEN (token_env of alert route platform) is empty: " + how}},
		{"spaces only", []incident.AlertRoute{{Name: "platform", TokenEnv: "PLATFORM_ALERTS_TOKEN"}}, map[string]string{"PLATFORM_ALERTS_TOKEN": " \n\t"},
			[]string{"PLATFORM_ALERTS_TOKEN (token_env of alert route platform) is empty: " + how}},
		{"short", []incident.AlertRoute{{Name: "platform", TokenEnv: "PLATFORM_ALERTS_TOKEN"}}, map[string]string{"PLATFORM_ALERTS_TOKEN": "SECRET-short15c"},
			[]string{"PLATFORM_ALERTS_TOKEN (token_env of alert route platform) is 15 characters, fewer than 16: " + how}},
		{"short once trimmed", []incident.AlertRoute{{Name: "platform", TokenEnv: "T"}}, map[string]string{"T": "  SECRET-short15c  "},
			[]string{"T (token_env of alert route platform) is 15 characters, fewer than 16"}},
		// A variable shared by routes is reported once, naming them all;
		// every variable at fault is reported.
		{"shared and several", []incident.AlertRoute{{Name: "checkout", TokenEnv: "P"}, {Name: "data", TokenEnv: "D"}, {Name: "platform", TokenEnv: "P"}, {Name: "ok", TokenEnv: "OK"}},
			map[string]string{"D": "SECRET", "OK": platformToken},
			[]string{"P (token_env of alert routes checkout, platform) is empty", "D (token_env of alert route data) is 6 characters, fewer than 16"}},
		{"no token_env", []incident.AlertRoute{{Name: "platform"}}, nil,
			[]string{"alert route platform has no token_env"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AlertTokens(tc.routes, func(k string) string { return tc.env[k] })
			if err == nil {
				t.Fatalf("alertTokens = %v, want an error", got)
			}
			if got != nil {
				t.Errorf("alertTokens returned tokens with an error: %d", len(got))
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d is\n\t%q\nwant it to start with\n\t%q", i+1, lines[i], w)
				}
			}
			// No value, nor any part of one, is shown: every value
			// above holds SECRET.
			for _, v := range tc.env {
				if v = strings.TrimSpace(v); v != "" && strings.Contains(err.Error(), v) || strings.Contains(err.Error(), "SECRET") {
					t.Errorf("the error shows a token: %v", err)
				}
			}
		})
	}
}
