package config

import (
	"reflect"
	"strings"
	"testing"
)

// Distinctive fake tokens: none may ever appear in an error.
const (
	fakeAppToken  = "xapp-1-A0FAKEAPP-000-c0ffeec0ffeec0ffee"
	fakeBotToken  = "xoxb-0000-FAKEBOT-d00dd00dd00dd00d"
	fakeUserToken = "xoxp-0000-FAKEUSER-beefbeefbeefbeef"
	fakeRefresh   = "xoxe-1-FAKEREFRESH-feedfeedfeedfeed"
	fakeGarbage   = "hunter2-FAKEGARBAGE-0badc0de0badc0de"
)

// validConfig is a configuration that passes Validate, as Load would
// return it with the defaults.
func validConfig() Config {
	return Config{
		AppToken:      fakeAppToken,
		BotToken:      fakeBotToken,
		SlackApiURL:   "https://slack.com/api/",
		DB:            "incidentbot.db",
		TimelineEmoji: []string{"pushpin"},
		HTTPAddr:      "127.0.0.1:8080",
		LogFormat:     "json",
		LogLevel:      "info",
	}
}

func TestValidateDefaults(t *testing.T) {
	c := validConfig()
	warnings, err := c.Validate(true)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("Validate(valid config) = %v, %v", warnings, err)
	}
	if !reflect.DeepEqual(c, validConfig()) {
		t.Errorf("Validate changed a valid config: %+v", c)
	}
}

func TestValidateTokens(t *testing.T) {
	secrets := []string{fakeAppToken, fakeBotToken, fakeUserToken, fakeRefresh, fakeGarbage,
		"FAKEAPP", "FAKEBOT", "FAKEUSER", "FAKEREFRESH", "FAKEGARBAGE", "c0ffee", "d00d", "beef", "feed", "0badc0de"}
	tests := []struct {
		name     string
		app, bot string
		// Every part must be in the error.
		want []string
	}{
		{"app token missing", "", fakeBotToken, []string{"SLACK_APP_TOKEN", "not set", "xapp-"}},
		{"bot token missing", fakeAppToken, "", []string{"SLACK_BOT_TOKEN", "not set", "xoxb-"}},
		{"both missing", "", "", []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "xapp-", "xoxb-"}},
		{"app token blank", "  \n", fakeBotToken, []string{"SLACK_APP_TOKEN", "xapp-"}},
		{"app token with spaces", " " + fakeAppToken + " ", fakeBotToken, []string{"SLACK_APP_TOKEN", "spaces"}},
		{"bot token with a newline", fakeAppToken, fakeBotToken + "\n", []string{"SLACK_BOT_TOKEN", "newline"}},
		{"bot token in the app token", fakeBotToken, fakeBotToken, []string{"SLACK_APP_TOKEN", "bot token", "xapp-"}},
		{"app token in the bot token", fakeAppToken, fakeAppToken, []string{"SLACK_BOT_TOKEN", "app-level token", "xoxb-"}},
		{"tokens swapped", fakeBotToken, fakeAppToken, []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "xapp-", "xoxb-"}},
		{"user token as bot token", fakeAppToken, fakeUserToken, []string{"SLACK_BOT_TOKEN", "user token", "xoxb-"}},
		{"refresh token as bot token", fakeAppToken, fakeRefresh, []string{"SLACK_BOT_TOKEN", "refresh token", "xoxb-"}},
		{"garbage app token", fakeGarbage, fakeBotToken, []string{"SLACK_APP_TOKEN", "does not look like a Slack token", "xapp-"}},
		{"garbage bot token", fakeAppToken, fakeGarbage, []string{"SLACK_BOT_TOKEN", "does not look like a Slack token", "xoxb-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.AppToken, c.BotToken = tc.app, tc.bot
			_, err := c.Validate(true)
			if err == nil {
				t.Fatal("Validate accepted bad tokens")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q:\n%s", w, msg)
				}
			}
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error repeats part of a token (%q):\n%s", s, msg)
				}
			}
		})
	}
}

func TestValidateWithoutTokens(t *testing.T) {
	c := validConfig()
	c.AppToken, c.BotToken = "", fakeGarbage
	if _, err := c.Validate(false); err != nil {
		t.Errorf("Validate(false) checked the tokens: %v", err)
	}
}

func TestValidateFixes(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		check   func(Config) bool
		warning string // part of the one warning expected; "" for none
	}{
		{"API URL without trailing slash", func(c *Config) { c.SlackApiURL = "http://127.0.0.1:9000/api" },
			func(c Config) bool { return c.SlackApiURL == "http://127.0.0.1:9000/api/" }, "INCIDENTBOT_SLACK_API_URL"},
		{"API URL with spaces", func(c *Config) { c.SlackApiURL = " https://slack.com/api/ " },
			func(c Config) bool { return c.SlackApiURL == "https://slack.com/api/" }, ""},
		{"timeline emoji normalised", func(c *Config) { c.TimelineEmoji = []string{":pushpin:", " Round_Pushpin"} },
			func(c Config) bool { return reflect.DeepEqual(c.TimelineEmoji, []string{"pushpin", "round_pushpin"}) }, ""},
		{"no timeline emoji: pushpin", func(c *Config) { c.TimelineEmoji = []string{" ", "::"} },
			func(c Config) bool { return reflect.DeepEqual(c.TimelineEmoji, []string{"pushpin"}) }, ""},
		{"emoji with + and -", func(c *Config) { c.TimelineEmoji = []string{"+1", "white-check-mark"} },
			func(c Config) bool { return reflect.DeepEqual(c.TimelineEmoji, []string{"+1", "white-check-mark"}) }, ""},
		{"announce channel id", func(c *Config) { c.AnnounceChannel = " C0123ABCD " },
			func(c Config) bool { return c.AnnounceChannel == "C0123ABCD" }, ""},
		{"private announce channel id", func(c *Config) { c.AnnounceChannel = "G0123ABCD" },
			func(c Config) bool { return c.AnnounceChannel == "G0123ABCD" }, ""},
		{"no announce channel", func(c *Config) { c.AnnounceChannel = "" },
			func(c Config) bool { return c.AnnounceChannel == "" }, ""},
		{"HTTP disabled", func(c *Config) { c.HTTPAddr = "" }, func(c Config) bool { return c.HTTPAddr == "" }, ""},
		{"HTTP port only", func(c *Config) { c.HTTPAddr = ":8080" }, func(c Config) bool { return c.HTTPAddr == ":8080" }, ""},
		{"HTTP IPv6", func(c *Config) { c.HTTPAddr = "[::1]:8080" }, func(Config) bool { return true }, ""},
		{"console log format, any case", func(c *Config) { c.LogFormat = " Console " },
			func(c Config) bool { return c.LogFormat == "console" }, ""},
		{"log level in capitals", func(c *Config) { c.LogLevel = "WARN" }, func(Config) bool { return true }, ""},
		{"debug log level", func(c *Config) { c.LogLevel = "debug" }, func(Config) bool { return true }, ""},
		{"error log level", func(c *Config) { c.LogLevel = "error" }, func(Config) bool { return true }, ""},
		{"iCal token", func(c *Config) { c.ICalToken = "0123456789abcdefABCD-_.~" },
			func(c Config) bool { return c.ICalToken == "0123456789abcdefABCD-_.~" }, ""},
		{"alert receiver on every interface", func(c *Config) { c.AlertsAddr, c.AlertsStorm = "0.0.0.0:9094", 20 },
			func(c Config) bool { return c.AlertsAddr == "0.0.0.0:9094" }, ""},
		{"alert receiver on loopback", func(c *Config) { c.AlertsAddr, c.AlertsStorm = "127.0.0.1:9094", 1 }, func(Config) bool { return true }, ""},
		{"alert receiver port only", func(c *Config) { c.AlertsAddr, c.AlertsStorm = ":9094", 20 }, func(Config) bool { return true }, ""},
		{"alert receiver IPv6", func(c *Config) { c.AlertsAddr, c.AlertsStorm = "[::]:9094", 20 }, func(Config) bool { return true }, ""},
		// A Config built in code without the receiver may leave the storm
		// threshold zero: it is not used.
		{"receiver off, storm unset", func(c *Config) { c.AlertsAddr, c.AlertsStorm = "", 0 }, func(Config) bool { return true }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			warnings, err := c.Validate(true)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tc.check(c) {
				t.Errorf("after Validate: %+v", c)
			}
			switch {
			case tc.warning == "" && len(warnings) > 0:
				t.Errorf("unexpected warnings %q", warnings)
			case tc.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.warning)):
				t.Errorf("warnings %q, want one about %s", warnings, tc.warning)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"API URL not http", func(c *Config) { c.SlackApiURL = "ftp://slack.com/api/" }, []string{"INCIDENTBOT_SLACK_API_URL", "http(s)", "ftp://"}},
		{"API URL without host", func(c *Config) { c.SlackApiURL = "https://" }, []string{"INCIDENTBOT_SLACK_API_URL"}},
		{"API URL empty", func(c *Config) { c.SlackApiURL = "" }, []string{"INCIDENTBOT_SLACK_API_URL"}},
		{"API URL a host name", func(c *Config) { c.SlackApiURL = "slack.com/api/" }, []string{"INCIDENTBOT_SLACK_API_URL"}},
		{"DB empty", func(c *Config) { c.DB = "  " }, []string{"INCIDENTBOT_DB"}},
		{"announce channel name", func(c *Config) { c.AnnounceChannel = "#incidents" }, []string{"INCIDENTBOT_ANNOUNCE_CHANNEL", "C0123ABCD", "#incidents", "channel's details"}},
		{"announce channel without #", func(c *Config) { c.AnnounceChannel = "incidents" }, []string{"INCIDENTBOT_ANNOUNCE_CHANNEL"}},
		{"announce user id", func(c *Config) { c.AnnounceChannel = "U0123ABCD" }, []string{"INCIDENTBOT_ANNOUNCE_CHANNEL"}},
		{"bad emoji", func(c *Config) { c.TimelineEmoji = []string{"pushpin", "bad emoji!"} }, []string{"INCIDENTBOT_TIMELINE_EMOJI", "bad emoji!"}},
		{"HTTP addr nonsense", func(c *Config) { c.HTTPAddr = "nonsense" }, []string{"INCIDENTBOT_HTTP_ADDR", "nonsense", ":8080"}},
		{"HTTP addr without port", func(c *Config) { c.HTTPAddr = "localhost:" }, []string{"INCIDENTBOT_HTTP_ADDR"}},
		{"log format", func(c *Config) { c.LogFormat = "text" }, []string{"INCIDENTBOT_LOG_FORMAT", "json or console", "text"}},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, []string{"INCIDENTBOT_LOG_LEVEL", "verbose"}},
		{"log level empty", func(c *Config) { c.LogLevel = "" }, []string{"INCIDENTBOT_LOG_LEVEL"}},
		{"PagerDuty URL without scheme", func(c *Config) { c.PagerdutyURL = "events.pagerduty.com" }, []string{"INCIDENTBOT_PAGERDUTY_URL", "https://events.pagerduty.com"}},
		{"Opsgenie URL not http", func(c *Config) { c.OpsgenieURL = "ftp://api.opsgenie.com" }, []string{"INCIDENTBOT_OPSGENIE_URL", "ftp://"}},
		{"negative pace", func(c *Config) { c.SlackPace = -1 }, []string{"INCIDENTBOT_SLACK_PACE", "between 0"}},
		{"JSM URL not http", func(c *Config) { c.JSMURL = "api.atlassian.com" }, []string{"INCIDENTBOT_JSM_URL", "https://api.atlassian.com"}},
		{"iCal token short", func(c *Config) { c.ICalToken = "short-secret" }, []string{"INCIDENTBOT_ICAL_TOKEN", "fewer than 20", "openssl rand"}},
		{"iCal token not URL-safe", func(c *Config) { c.ICalToken = "a secret with spaces&more" }, []string{"INCIDENTBOT_ICAL_TOKEN", "letters, digits"}},
		{"alerts addr without port", func(c *Config) { c.AlertsAddr = "0.0.0.0" }, []string{"INCIDENTBOT_ALERTS_ADDR", "host:port such as 0.0.0.0:9094", `"0.0.0.0"`}},
		{"alerts addr empty port", func(c *Config) { c.AlertsAddr = "localhost:" }, []string{"INCIDENTBOT_ALERTS_ADDR", "127.0.0.1:9094"}},
		{"alerts addr port a name", func(c *Config) { c.AlertsAddr = "0.0.0.0:alerts" }, []string{"INCIDENTBOT_ALERTS_ADDR"}},
		{"alerts addr port too big", func(c *Config) { c.AlertsAddr = "0.0.0.0:70000" }, []string{"INCIDENTBOT_ALERTS_ADDR"}},
		{"alerts addr a URL", func(c *Config) { c.AlertsAddr = "http://0.0.0.0:9094" }, []string{"INCIDENTBOT_ALERTS_ADDR"}},
		{"alerts addr is the HTTP addr", func(c *Config) { c.AlertsAddr = c.HTTPAddr },
			[]string{"INCIDENTBOT_ALERTS_ADDR is INCIDENTBOT_HTTP_ADDR's address too (127.0.0.1:8080)", "127.0.0.1:9094"}},
		{"alerts storm zero with the receiver on", func(c *Config) { c.AlertsAddr, c.AlertsStorm = "127.0.0.1:9094", 0 },
			[]string{"INCIDENTBOT_ALERTS_STORM", "at least 1", "e.g. 20", "got 0"}},
		{"alerts storm negative", func(c *Config) { c.AlertsStorm = -1 }, []string{"INCIDENTBOT_ALERTS_STORM", "got -1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			_, err := c.Validate(false)
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestValidateReportsEverything checks every problem is reported at once,
// one per line, so one run shows all there is to fix.
func TestValidateReportsEverything(t *testing.T) {
	c := Config{AppToken: fakeBotToken, SlackApiURL: "nope", AnnounceChannel: "#incidents",
		TimelineEmoji: []string{"bad emoji!"}, HTTPAddr: "nonsense", LogFormat: "xml", LogLevel: "loud",
		AlertsAddr: "nonsense", AlertsStorm: -5}
	_, err := c.Validate(true)
	if err == nil {
		t.Fatal("Validate accepted a config with every value wrong")
	}
	lines := strings.Split(err.Error(), "\n")
	vars := []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "INCIDENTBOT_SLACK_API_URL", "INCIDENTBOT_DB",
		"INCIDENTBOT_ANNOUNCE_CHANNEL", "INCIDENTBOT_TIMELINE_EMOJI", "INCIDENTBOT_HTTP_ADDR",
		"INCIDENTBOT_LOG_FORMAT", "INCIDENTBOT_LOG_LEVEL", "INCIDENTBOT_ALERTS_ADDR", "INCIDENTBOT_ALERTS_STORM"}
	if len(lines) != len(vars) {
		t.Errorf("%d problems reported, want %d:\n%s", len(lines), len(vars), err)
	}
	for _, v := range vars {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("no problem reported for %s:\n%s", v, err)
		}
	}
}

// TestValidateICalTokenNotRepeated checks that a refused INCIDENTBOT_ICAL_TOKEN
// is named but never shown: it is a secret, and errors reach logs.
func TestValidateICalTokenNotRepeated(t *testing.T) {
	for _, token := range []string{"hunter2hunter2", "a secret with spaces&more"} {
		c := validConfig()
		c.ICalToken = token
		_, err := c.Validate(false)
		if err == nil || !strings.Contains(err.Error(), "INCIDENTBOT_ICAL_TOKEN") {
			t.Fatalf("Validate(%q) = %v, want an error naming INCIDENTBOT_ICAL_TOKEN", token, err)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("the error repeats the token: %q", err)
		}
	}
}
