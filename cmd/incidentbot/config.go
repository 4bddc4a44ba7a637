package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/rs/zerolog"
)

// envPrefix prefixes every variable; the two tokens are also read without it.
const envPrefix = "INCIDENTBOT"

// Config is incidentbot's configuration, read from the environment. The
// `req` tag says which subcommands need a variable, for `incidentbot config`.
type Config struct {
	AppToken string `envconfig:"SLACK_APP_TOKEN" show:"SLACK_APP_TOKEN" req:"run" desc:"app-level token (xapp-…) with the connections:write scope; also INCIDENTBOT_SLACK_APP_TOKEN"`
	BotToken string `envconfig:"SLACK_BOT_TOKEN" show:"SLACK_BOT_TOKEN" req:"run" desc:"bot token (xoxb-…) from OAuth & Permissions; also INCIDENTBOT_SLACK_BOT_TOKEN"`
	// SlackApiURL is spelt so envconfig splits it into INCIDENTBOT_SLACK_API_URL.
	SlackApiURL     string        `split_words:"true" default:"https://slack.com/api/" desc:"Slack Web API base URL, ending in /; tests and the demo point it at the fake Slack"`
	DB              string        `default:"incidentbot.db" desc:"bbolt database file; its directory must exist and be writable"`
	AnnounceChannel string        `split_words:"true" desc:"channel id (C…) where declarations and resolutions are announced; empty: nowhere"`
	TimelineEmoji   []string      `split_words:"true" default:"pushpin" desc:"reaction name(s), comma separated, that add a message to the timeline"`
	HTTPAddr        string        `split_words:"true" default:"127.0.0.1:8080" desc:"address of /healthz and /readyz; empty disables"`
	LogFormat       string        `split_words:"true" default:"json" desc:"log format: json, or console for humans"`
	LogLevel        string        `split_words:"true" default:"info" desc:"log level: debug, info, warn or error"`
	ConfirmEmoji    string        `split_words:"true" default:"white_check_mark" desc:"reaction the bot adds to a message it put on the timeline"`
	TimelinePrefix  string        `split_words:"true" default:"TL:" desc:"a message in an incident channel that starts with this goes onto the timeline; empty disables"`
	StatusChannel   string        `split_words:"true" desc:"channel id (C…) where customer status updates are posted; empty: recorded and shown in the incident channel only"`
	UpdateEvery     time.Duration `split_words:"true" default:"30m" desc:"nudge an open incident's channel when no customer update was posted for this long (Go duration, e.g. 30m); 0 disables"`
	FollowupEmoji   string        `split_words:"true" default:"memo" desc:"reaction that records a message in an incident channel as a follow-up action"`
	TemplatesDir    string        `split_words:"true" desc:"directory whose postmortem.md.tmpl / update-<status>.tmpl files override the built-in templates"`
	EscalationFile  string        `split_words:"true" desc:"YAML file of escalation policies (see deploy/escalation.example.yaml); empty: people are paged directly only"`
	PagerdutyURL    string        `split_words:"true" default:"https://events.pagerduty.com" desc:"PagerDuty Events API v2 base URL (events go to <base>/v2/enqueue); tests point it at a local server"`
	OpsgenieURL     string        `split_words:"true" default:"https://api.opsgenie.com" desc:"Opsgenie API base URL; EU accounts use https://api.eu.opsgenie.com"`
	Responders      []string      `desc:"user ids (U…) and/or user group ids (S…), comma separated, who alone may change incidents; empty: any member of the incident channel"`
}

// loadConfig reads the environment. Validation is separate (Validate), so
// it can be tested without touching the environment.
func loadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process(envPrefix, &c); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			return c, fmt.Errorf("%s: cannot read %q as a %s", pe.KeyName, pe.Value, pe.TypeName)
		}
		return c, err
	}
	return c, nil
}

var (
	channelIDPattern = regexp.MustCompile(`^[CG][A-Z0-9]{6,}$`)
	emojiPattern     = regexp.MustCompile(`^[a-z0-9_+'-]+$`)
	responderPattern = regexp.MustCompile(`^[UWS][A-Z0-9]{6,}$`)
)

// Validate checks the configuration for a subcommand and normalises it. It
// reports every problem at once, each naming the variable and what a valid
// value looks like; it never repeats a token's value. Warnings are fixes it
// made that the operator should know about.
func (c *Config) Validate(needTokens bool) (warnings []string, err error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if needTokens {
		if msg := checkToken(c.AppToken, "xapp-", "SLACK_APP_TOKEN",
			"the app-level token from Basic Information → App-Level Tokens, with the connections:write scope"); msg != "" {
			bad("%s", msg)
		}
		if msg := checkToken(c.BotToken, "xoxb-", "SLACK_BOT_TOKEN",
			"the Bot User OAuth Token from OAuth & Permissions, after installing the app"); msg != "" {
			bad("%s", msg)
		}
	}

	c.SlackApiURL = strings.TrimSpace(c.SlackApiURL)
	if u, err := url.Parse(c.SlackApiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("INCIDENTBOT_SLACK_API_URL must be an http(s) URL such as https://slack.com/api/ (got %q)", c.SlackApiURL)
	} else if !strings.HasSuffix(c.SlackApiURL, "/") {
		c.SlackApiURL += "/"
		warnings = append(warnings, "INCIDENTBOT_SLACK_API_URL did not end in /; using "+c.SlackApiURL)
	}

	if strings.TrimSpace(c.DB) == "" {
		bad("INCIDENTBOT_DB must name a database file, e.g. /var/lib/incidentbot/incidentbot.db")
	}

	c.AnnounceChannel = strings.TrimSpace(c.AnnounceChannel)
	if c.AnnounceChannel != "" && !channelIDPattern.MatchString(c.AnnounceChannel) {
		bad("INCIDENTBOT_ANNOUNCE_CHANNEL must be a channel id such as C0123ABCD, not a name (got %q): in Slack, open the channel's details and copy the id at the bottom", c.AnnounceChannel)
	}

	var emojis []string
	for _, e := range c.TimelineEmoji {
		e = strings.Trim(strings.TrimSpace(strings.ToLower(e)), ":")
		switch {
		case e == "":
			continue
		case !emojiPattern.MatchString(e):
			bad("INCIDENTBOT_TIMELINE_EMOJI must be reaction names such as pushpin or pushpin,round_pushpin (got %q)", e)
		default:
			emojis = append(emojis, e)
		}
	}
	if len(emojis) == 0 {
		emojis = []string{"pushpin"}
	}
	c.TimelineEmoji = emojis

	c.StatusChannel = strings.TrimSpace(c.StatusChannel)
	if c.StatusChannel != "" && !channelIDPattern.MatchString(c.StatusChannel) {
		bad("INCIDENTBOT_STATUS_CHANNEL must be a channel id such as C0123ABCD, not a name (got %q)", c.StatusChannel)
	}
	if c.UpdateEvery < 0 || c.UpdateEvery > 0 && c.UpdateEvery < time.Minute {
		bad("INCIDENTBOT_UPDATE_EVERY must be a duration of at least 1m such as 30m, or 0 to disable (got %s)", c.UpdateEvery)
	}
	c.FollowupEmoji = strings.Trim(strings.TrimSpace(strings.ToLower(c.FollowupEmoji)), ":")
	if c.FollowupEmoji != "" && !emojiPattern.MatchString(c.FollowupEmoji) {
		bad("INCIDENTBOT_FOLLOWUP_EMOJI must be a reaction name such as memo (got %q)", c.FollowupEmoji)
	}
	if c.TemplatesDir != "" {
		if st, err := os.Stat(c.TemplatesDir); err != nil || !st.IsDir() {
			bad("INCIDENTBOT_TEMPLATES_DIR must be an existing directory (got %q); leave it empty for the built-in templates", c.TemplatesDir)
		}
	}
	c.ConfirmEmoji = strings.Trim(strings.TrimSpace(strings.ToLower(c.ConfirmEmoji)), ":")
	if c.ConfirmEmoji != "" && !emojiPattern.MatchString(c.ConfirmEmoji) {
		bad("INCIDENTBOT_CONFIRM_EMOJI must be a reaction name such as white_check_mark (got %q)", c.ConfirmEmoji)
	}
	var responders []string
	for _, id := range c.Responders {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
		case !responderPattern.MatchString(id):
			bad("INCIDENTBOT_RESPONDERS must be user ids (U0123ABCD) or user group ids (S0123ABCD), comma separated, not names (got %q): copy ids from a profile's ⋮ menu → Copy member ID", id)
		default:
			responders = append(responders, id)
		}
	}
	c.Responders = responders

	for _, u := range []struct{ name, value, example string }{
		{"INCIDENTBOT_PAGERDUTY_URL", c.PagerdutyURL, "https://events.pagerduty.com"},
		{"INCIDENTBOT_OPSGENIE_URL", c.OpsgenieURL, "https://api.opsgenie.com"},
	} {
		if pu, err := url.Parse(u.value); u.value != "" && (err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "") {
			bad("%s must be an http(s) URL such as %s (got %q)", u.name, u.example, u.value)
		}
	}
	if c.HTTPAddr != "" {
		if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
			bad("INCIDENTBOT_HTTP_ADDR must be host:port such as 127.0.0.1:8080 or :8080, or empty to disable (got %q)", c.HTTPAddr)
		}
	}
	switch c.LogFormat = strings.ToLower(strings.TrimSpace(c.LogFormat)); c.LogFormat {
	case "json", "console":
	default:
		bad("INCIDENTBOT_LOG_FORMAT must be json or console (got %q)", c.LogFormat)
	}
	if _, err := zerolog.ParseLevel(strings.ToLower(c.LogLevel)); err != nil || c.LogLevel == "" {
		bad("INCIDENTBOT_LOG_LEVEL must be debug, info, warn or error (got %q)", c.LogLevel)
	}
	return warnings, errors.Join(errs...)
}

// checkToken explains what is wrong with a token without ever printing it.
func checkToken(token, prefix, name, where string) string {
	t := strings.TrimSpace(token)
	kinds := map[string]string{"xapp-": "an app-level token (xapp-…)", "xoxb-": "a bot token (xoxb-…)",
		"xoxp-": "a user token (xoxp-…)", "xoxe-": "a refresh token (xoxe-…)"}
	switch {
	case t == "":
		return fmt.Sprintf("%s is not set (or is empty): set it to %s, which starts with %s", name, where, prefix)
	case t != token:
		return fmt.Sprintf("%s has spaces or a newline around it: remove them (it should start with %s)", name, prefix)
	case strings.HasPrefix(t, prefix):
		return ""
	}
	for p, kind := range kinds {
		if strings.HasPrefix(t, p) {
			return fmt.Sprintf("%s holds %s, but it needs %s, which starts with %s", name, kind, where, prefix)
		}
	}
	return fmt.Sprintf("%s does not look like a Slack token: it needs %s, which starts with %s", name, where, prefix)
}

// configTable is the template of `incidentbot config`. envconfig hands it
// each variable's Key, Alt and struct Tags.
const configTable = `VARIABLE	DEFAULT	REQUIRED	DESCRIPTION
{{range .}}{{or (.Tags.Get "show") .Key}}	{{or (.Tags.Get "default") "-"}}	{{or (.Tags.Get "req") "no"}}	{{.Tags.Get "desc"}}
{{end}}`

// printConfigTable writes every variable with its default, whether it is
// required, and what it means.
func printConfigTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	tmpl := template.Must(template.New("config").Parse(configTable))
	if err := envconfig.Usaget(envPrefix, &Config{}, tw, tmpl); err != nil {
		return err
	}
	return tw.Flush()
}
