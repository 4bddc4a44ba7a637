package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(Config) bool
	}{
		{"defaults", map[string]string{}, func(c Config) bool {
			return c.SlackApiURL == "https://slack.com/api/" && c.DB == "incidentbot.db" && c.HTTPAddr == "127.0.0.1:8080" &&
				c.LogFormat == "json" && c.LogLevel == "info" && reflect.DeepEqual(c.TimelineEmoji, []string{"pushpin"}) &&
				c.AppToken == "" && c.BotToken == "" && c.AnnounceChannel == "" && c.UpdateEvery == 30*time.Minute &&
				c.TimelinePrefix == "TL:" && c.AlertsAddr == "" && c.AlertsStorm == 20
		}},
		{"unprefixed tokens", map[string]string{"SLACK_APP_TOKEN": fakeAppToken, "SLACK_BOT_TOKEN": fakeBotToken},
			func(c Config) bool { return c.AppToken == fakeAppToken && c.BotToken == fakeBotToken }},
		{"prefixed tokens", map[string]string{"INCIDENTBOT_SLACK_APP_TOKEN": fakeAppToken, "INCIDENTBOT_SLACK_BOT_TOKEN": fakeBotToken},
			func(c Config) bool { return c.AppToken == fakeAppToken && c.BotToken == fakeBotToken }},
		// envconfig's rule: the prefixed name, when set, wins.
		{"prefixed token wins", map[string]string{"INCIDENTBOT_SLACK_BOT_TOKEN": fakeBotToken, "SLACK_BOT_TOKEN": fakeGarbage},
			func(c Config) bool { return c.BotToken == fakeBotToken }},
		{"unprefixed DB and HTTP_ADDR are not read", map[string]string{"DB": "/elsewhere.db", "HTTP_ADDR": ":9999"},
			func(c Config) bool { return c.DB == "incidentbot.db" && c.HTTPAddr == "127.0.0.1:8080" }},
		// Set but empty is not unset: the default does not apply.
		{"empty disables", map[string]string{"INCIDENTBOT_HTTP_ADDR": "", "INCIDENTBOT_TIMELINE_PREFIX": "", "INCIDENTBOT_UPDATE_EVERY": "0"},
			func(c Config) bool { return c.HTTPAddr == "" && c.TimelinePrefix == "" && c.UpdateEvery == 0 }},
		{"every variable", map[string]string{
			"INCIDENTBOT_SLACK_API_URL": "http://127.0.0.1:9000/api/", "INCIDENTBOT_DB": "/var/lib/incidentbot/x.db",
			"INCIDENTBOT_ANNOUNCE_CHANNEL": "C0123ABCD", "INCIDENTBOT_TIMELINE_EMOJI": ":pushpin:, Round_Pushpin",
			"INCIDENTBOT_HTTP_ADDR": "", "INCIDENTBOT_LOG_FORMAT": "console", "INCIDENTBOT_LOG_LEVEL": "debug",
			"INCIDENTBOT_UPDATE_EVERY": "1h30m", "INCIDENTBOT_RESPONDERS": "U0123ABCD,S0456EFGH",
			"INCIDENTBOT_ALERTS_ADDR": "0.0.0.0:9094", "INCIDENTBOT_ALERTS_STORM": "50"},
			func(c Config) bool {
				return c.SlackApiURL == "http://127.0.0.1:9000/api/" && c.DB == "/var/lib/incidentbot/x.db" &&
					c.AnnounceChannel == "C0123ABCD" && c.HTTPAddr == "" && c.LogFormat == "console" && c.LogLevel == "debug" &&
					reflect.DeepEqual(c.TimelineEmoji, []string{":pushpin:", " Round_Pushpin"}) && c.UpdateEvery == 90*time.Minute &&
					reflect.DeepEqual(c.Responders, []string{"U0123ABCD", "S0456EFGH"}) &&
					c.AlertsAddr == "0.0.0.0:9094" && c.AlertsStorm == 50
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(MapEnv(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(c) {
				t.Errorf("Load() = %+v", c)
			}
		})
	}
}

// TestLoadIgnoresProcessEnv: Load reads only the environment it is given,
// never the process's, whatever envconfig would do on its own. It also
// guards the hook Load uses to make envconfig read that environment.
func TestLoadIgnoresProcessEnv(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", fakeBotToken)
	t.Setenv("INCIDENTBOT_DB", "/from/the/process.db")
	c, err := Load(MapEnv(map[string]string{"INCIDENTBOT_LOG_LEVEL": "warn"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BotToken != "" || c.DB != "incidentbot.db" || c.LogLevel != "warn" {
		t.Errorf("Load(map) read the process environment: token set %v, DB %q, log level %q", c.BotToken != "", c.DB, c.LogLevel)
	}
	// And nil means the process environment.
	if c, err := Load(nil); err != nil || c.BotToken != fakeBotToken || c.DB != "/from/the/process.db" {
		t.Errorf("Load(nil) = DB %q, %v; want the process environment", c.DB, err)
	}
}

// TestLoadConcurrent: each Load sees its own environment.
func TestLoadConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			want := fmt.Sprintf("/db/%d.db", i)
			c, err := Load(MapEnv(map[string]string{"INCIDENTBOT_DB": want}))
			if err != nil || c.DB != want {
				t.Errorf("Load %d: DB %q, %v", i, c.DB, err)
			}
		})
	}
	wg.Wait()
}

func TestLoadParseError(t *testing.T) {
	tests := []struct {
		variable, value string
		want            []string
	}{
		{"INCIDENTBOT_UPDATE_EVERY", "half an hour", []string{"INCIDENTBOT_UPDATE_EVERY", `"half an hour"`, "30m"}},
		{"INCIDENTBOT_ALERTS_STORM", "many", []string{"INCIDENTBOT_ALERTS_STORM", `"many"`, "a whole number such as 20"}},
		{"INCIDENTBOT_ALERTS_STORM", "2.5", []string{"INCIDENTBOT_ALERTS_STORM", "a whole number"}},
		{"INCIDENTBOT_SLACK_PACE", "fast", []string{"INCIDENTBOT_SLACK_PACE", "a number such as 1"}},
	}
	for _, tc := range tests {
		_, err := Load(MapEnv(map[string]string{tc.variable: tc.value, "SLACK_BOT_TOKEN": fakeBotToken}))
		if err == nil {
			t.Errorf("Load accepted %s=%s", tc.variable, tc.value)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "FAKEBOT") {
			t.Errorf("error repeats a token: %q", err)
		}
	}
}

// TestLoadThenValidate reads the prefixed bot token and the emoji list from
// an environment and checks they pass Validate as an operator would write
// them; a token set to nothing is refused by name.
func TestLoadThenValidate(t *testing.T) {
	c, err := Load(MapEnv(map[string]string{"SLACK_APP_TOKEN": fakeAppToken, "INCIDENTBOT_SLACK_BOT_TOKEN": fakeBotToken,
		"INCIDENTBOT_TIMELINE_EMOJI": ":pushpin:, Round_Pushpin"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(true); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !reflect.DeepEqual(c.TimelineEmoji, []string{"pushpin", "round_pushpin"}) {
		t.Errorf("timeline emoji %q, want [pushpin round_pushpin]", c.TimelineEmoji)
	}

	c, err = Load(MapEnv(map[string]string{"SLACK_APP_TOKEN": fakeAppToken, "SLACK_BOT_TOKEN": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Validate(true); err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") || strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Errorf("an empty SLACK_BOT_TOKEN: Validate = %v, want an error about it alone", err)
	}
}

func TestTokensSet(t *testing.T) {
	want := []string{"INCIDENTBOT_SLACK_APP_TOKEN", "SLACK_APP_TOKEN", "INCIDENTBOT_SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN"}
	if got := TokenVariables(); !slices.Equal(got, want) {
		t.Errorf("TokenVariables() = %q, want %q", got, want)
	}
	for _, name := range want {
		if !TokensSet(MapEnv(map[string]string{name: ""})) {
			t.Errorf("TokensSet ignores %s set to nothing", name)
		}
	}
	if TokensSet(MapEnv(map[string]string{"INCIDENTBOT_DB": "x.db", "SLACK_TOKEN": "x"})) {
		t.Error("TokensSet without a token variable")
	}
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	if err := PrintTable(&b); err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // variable → the rest of its row
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		f := strings.Fields(line)
		rows[f[0]] = f[1:]
	}
	tests := []struct {
		variable, def, required string
	}{
		{"SLACK_APP_TOKEN", "-", "run"},
		{"SLACK_BOT_TOKEN", "-", "run"},
		{"INCIDENTBOT_SLACK_API_URL", "https://slack.com/api/", "no"},
		{"INCIDENTBOT_DB", "incidentbot.db", "no"},
		{"INCIDENTBOT_ANNOUNCE_CHANNEL", "-", "no"},
		{"INCIDENTBOT_TIMELINE_EMOJI", "pushpin", "no"},
		{"INCIDENTBOT_HTTP_ADDR", "127.0.0.1:8080", "no"},
		{"INCIDENTBOT_LOG_FORMAT", "json", "no"},
		{"INCIDENTBOT_LOG_LEVEL", "info", "no"},
		{"INCIDENTBOT_CONFIRM_EMOJI", "white_check_mark", "no"},
		{"INCIDENTBOT_TIMELINE_PREFIX", "TL:", "no"},
		{"INCIDENTBOT_STATUS_CHANNEL", "-", "no"},
		{"INCIDENTBOT_UPDATE_EVERY", "30m", "no"},
		{"INCIDENTBOT_FOLLOWUP_EMOJI", "memo", "no"},
		{"INCIDENTBOT_TEMPLATES_DIR", "-", "no"},
		{"INCIDENTBOT_RESPONDERS", "-", "no"},
		{"INCIDENTBOT_ESCALATION_FILE", "-", "no"},
		{"INCIDENTBOT_PAGERDUTY_URL", "https://events.pagerduty.com", "no"},
		{"INCIDENTBOT_OPSGENIE_URL", "https://api.opsgenie.com", "no"},
		{"INCIDENTBOT_JSM_URL", "https://api.atlassian.com", "no"},
		{"INCIDENTBOT_SLACK_PACE", "1", "no"},
		{"INCIDENTBOT_ICAL_TOKEN", "-", "no"},
		{"INCIDENTBOT_ALERTS_ADDR", "-", "no"},
		{"INCIDENTBOT_ALERTS_STORM", "20", "no"},
		{"INCIDENTBOT_CLUSTER_NODE_ID", "-", "no"},
		{"INCIDENTBOT_CLUSTER_BIND", "-", "no"},
		{"INCIDENTBOT_CLUSTER_PEERS", "-", "no"},
		{"INCIDENTBOT_CLUSTER_TLS_CERT", "-", "no"},
		{"INCIDENTBOT_CLUSTER_TLS_KEY", "-", "no"},
		{"INCIDENTBOT_CLUSTER_TLS_CA", "-", "no"},
		{"INCIDENTBOT_CLUSTER_INSECURE", "-", "no"},
		{"INCIDENTBOT_CLUSTER_DIR", "-", "no"},
		{"INCIDENTBOT_CLUSTER_SNAPSHOT_EVERY", "-", "no"},
	}
	for _, tc := range tests {
		t.Run(tc.variable, func(t *testing.T) {
			row, ok := rows[tc.variable]
			if !ok {
				t.Fatalf("%s is not listed:\n%s", tc.variable, b.String())
			}
			if len(row) < 3 || row[0] != tc.def || row[1] != tc.required {
				t.Errorf("%s: %q, want default %q, required %q and a description", tc.variable, row, tc.def, tc.required)
			}
		})
	}
	if n := reflect.TypeFor[Config]().NumField(); len(rows) != n || len(tests) != n {
		t.Errorf("the table lists %d variables and this test checks %d; Config has %d fields:\n%s", len(rows), len(tests), n, b.String())
	}
}
