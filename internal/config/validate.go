package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

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
		{"INCIDENTBOT_JSM_URL", c.JSMURL, "https://api.atlassian.com"},
	} {
		if pu, err := url.Parse(u.value); u.value != "" && (err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "") {
			bad("%s must be an http(s) URL such as %s (got %q)", u.name, u.example, u.value)
		}
	}
	if c.SlackPace < 0 || c.SlackPace > 100 {
		bad("INCIDENTBOT_SLACK_PACE must be between 0 (no pacing) and 100, e.g. 1 for Slack's own limits (got %g)", c.SlackPace)
	}
	if msg := checkICalToken(c.ICalToken); msg != "" {
		bad("%s", msg)
	}
	if c.HTTPAddr != "" {
		if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
			bad("INCIDENTBOT_HTTP_ADDR must be host:port such as 127.0.0.1:8080 or :8080, or empty to disable (got %q)", c.HTTPAddr)
		}
	}
	errs = append(errs, checkAlerts(c.AlertsAddr, c.HTTPAddr, c.AlertsStorm)...)
	clusterWarnings, clusterErrs := c.validateCluster()
	warnings = append(warnings, clusterWarnings...)
	errs = append(errs, clusterErrs...)
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

// checkAlerts checks the alert receiver's address (empty: off) and storm
// threshold. A Config built in code without the receiver (the demo, tests)
// leaves AlertsStorm zero, so zero is refused only when the receiver is on;
// from the environment it is 20 unless set.
func checkAlerts(addr, httpAddr string, storm int) []error {
	var errs []error
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("INCIDENTBOT_ALERTS_ADDR must be host:port such as 0.0.0.0:9094 (every interface) or 127.0.0.1:9094, or empty to turn the alert receiver off (got %q)", addr))
		} else if addr == httpAddr {
			errs = append(errs, fmt.Errorf("INCIDENTBOT_ALERTS_ADDR is INCIDENTBOT_HTTP_ADDR's address too (%s): give the alert receiver its own port, e.g. %s", addr, net.JoinHostPort(host, "9094")))
		}
	}
	if storm < 0 || storm == 0 && addr != "" {
		errs = append(errs, fmt.Errorf("INCIDENTBOT_ALERTS_STORM must be a whole number of at least 1: the new alert groups a route takes per minute before gathering them into one storm alert, e.g. 20 (got %d)", storm))
	}
	return errs
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

// MinICalToken is the shortest INCIDENTBOT_ICAL_TOKEN accepted: the token is
// all that keeps the rota (names, times) from anyone who can reach the port.
const MinICalToken = 20

// checkICalToken explains what is wrong with INCIDENTBOT_ICAL_TOKEN without
// repeating it; "" when it is usable or empty (the feeds are off).
func checkICalToken(token string) string {
	if token == "" {
		return ""
	}
	const how = "generate one with e.g. openssl rand -hex 20, or leave it empty to turn the calendar feeds off"
	if len(token) < MinICalToken {
		return fmt.Sprintf("INCIDENTBOT_ICAL_TOKEN is %d characters, fewer than %d: %s", len(token), MinICalToken, how)
	}
	for _, r := range token {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~", r)) {
			return "INCIDENTBOT_ICAL_TOKEN may hold only letters, digits and - _ . ~ (it is sent in the feed's URL): " + how
		}
	}
	return ""
}
