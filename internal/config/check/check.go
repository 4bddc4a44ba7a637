// Package check is `incidentbot check`: it validates a deployment before it
// starts, from an environment alone (configuration, escalation file,
// templates, the database file and, when tokens are given, the bot token).
// The deployment tests run it on every shipped artefact's environment.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
	"github.com/incidentbot/incidentbot/store"
)

// A Check is one line of `incidentbot check`.
type Check struct {
	Name string
	Run  func() error
	// Skip, when set, says why the check is not run; Run is then nil.
	Skip string
}

// Run loads the configuration from lookup (nil: os.LookupEnv), validates it
// and runs every check on it, writing one line per check to w: "ok   …",
// "FAIL …: why", "warn …" for a fix Validate made, "skip …". It reports
// whether nothing failed. The tokens are checked, and auth.test called, when
// any token variable is set, even to nothing (an empty one fails).
func Run(w io.Writer, lookup config.Lookup) bool {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	cfg, err := config.Load(lookup)
	if err != nil {
		fmt.Fprintf(w, "FAIL configuration: %v\n", err)
		return false
	}
	tokens := config.TokensSet(lookup)
	warnings, err := cfg.Validate(tokens)
	for _, msg := range warnings {
		fmt.Fprintf(w, "warn %s\n", msg)
	}
	if !report(w, "configuration", err) {
		return false
	}
	ok := true
	for _, c := range Checks(cfg, tokens, lookup.Getenv) {
		if c.Skip != "" {
			fmt.Fprintf(w, "skip %s\n", c.Skip)
			continue
		}
		ok = report(w, c.Name, c.Run()) && ok
	}
	return ok
}

// Checks returns the checks of a validated configuration, in the order they
// run. withTokens says whether the tokens were given (and validated);
// getenv reads the Opsgenie keys the escalation file names.
func Checks(cfg config.Config, withTokens bool, getenv func(string) string) []Check {
	auth := Check{Name: "Slack accepts SLACK_BOT_TOKEN (auth.test)", Run: func() error { return Auth(cfg) }}
	channels := Check{Name: "the bot can post to its announce and status channels", Run: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return Channels(ctx, slackClient(cfg), cfg)
	}}
	if !withTokens {
		auth = Check{Skip: "Slack auth.test: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set"}
		channels = Check{Skip: "the announce and status channels: SLACK_BOT_TOKEN is not set"}
	}
	return []Check{
		{Name: "escalation policies (INCIDENTBOT_ESCALATION_FILE)", Run: func() error {
			p, err := incident.LoadPolicies(cfg.EscalationFile, builtin.Set(builtin.Options{Getenv: getenv}).Check)
			if err != nil || cfg.AlertsAddr == "" || len(p.AlertRoutes) == 0 {
				return err
			}
			// The receiver is on: every route's bearer token must be set.
			_, err = AlertTokens(p.AlertRoutes, getenv)
			return err
		}},
		{Name: "templates", Run: func() error {
			_, err := incident.LoadTemplates(cfg.TemplatesDir)
			return err
		}},
		{Name: "database " + cfg.DB, Run: func() error { return Database(cfg.DB) }},
		auth,
		channels,
	}
}

// report writes a check's line and reports whether it passed.
func report(w io.Writer, what string, err error) bool {
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", what, err)
		return false
	}
	fmt.Fprintf(w, "ok   %s\n", what)
	return true
}

// Database opens the database as the bot will; a file held by a running bot
// is fine (it is in use), a missing one will be created, so its directory
// must exist and be writable.
func Database(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return creatable(path)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	return db.Close()
}

// creatable checks that the database's directory exists and is writable by
// creating the file, and removes it: check leaves nothing behind.
func creatable(path string) error {
	db, err := store.Open(path, store.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		return err
	}
	_ = db.Close()
	return os.Remove(path)
}

// Auth calls auth.test with the bot token at cfg.SlackApiURL.
func Auth(cfg config.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := slackClient(cfg).AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("SLACK_BOT_TOKEN: %w", err)
	}
	if resp.UserID == "" {
		return errors.New("auth.test returned no bot user")
	}
	return nil
}

func slackClient(cfg config.Config) *slack.Client {
	return slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.SlackApiURL), slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}))
}
