package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// cmdCheck validates a deployment before it starts: configuration,
// templates, the database file, and (when tokens are set) the bot token with
// auth.test. Each check prints one line; the exit code is 1 if any failed.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot check\n\nChecks the configuration from the environment.\n")
	}
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(stdout, "FAIL configuration: %v\n", err)
		return 1
	}
	tokens := cfg.AppToken != "" || cfg.BotToken != ""
	failed := false
	report := func(what string, err error) {
		if err != nil {
			failed = true
			fmt.Fprintf(stdout, "FAIL %s: %v\n", what, err)
			return
		}
		fmt.Fprintf(stdout, "ok   %s\n", what)
	}
	warnings, err := cfg.Validate(tokens)
	for _, w := range warnings {
		fmt.Fprintf(stdout, "warn %s\n", w)
	}
	report("configuration", err)
	if err != nil {
		return 1
	}
	for _, c := range extraChecks {
		report(c.name, c.run(cfg))
	}
	_, err = incident.LoadTemplates(cfg.TemplatesDir)
	report("templates", err)
	report("database "+cfg.DB, checkDB(cfg.DB))
	if tokens {
		report("Slack accepts SLACK_BOT_TOKEN (auth.test)", checkAuth(cfg))
	} else {
		fmt.Fprintln(stdout, "skip Slack auth.test: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are not set")
	}
	if failed {
		return 1
	}
	return 0
}

// extraChecks are checks other capabilities add (the escalation file).
var extraChecks []struct {
	name string
	run  func(Config) error
}

// checkDB opens the database as the bot will; a file held by a running bot
// is fine (it is in use), a missing one will be created.
func checkDB(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return checkPath(path)
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

// checkPath checks that the database's directory exists and is writable.
func checkPath(path string) error {
	db, err := store.Open(path, store.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		return err
	}
	_ = db.Close()
	return os.Remove(path) // check leaves nothing behind
}

func checkAuth(cfg Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	api := slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.SlackApiURL), slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("SLACK_BOT_TOKEN: %w", err)
	}
	if resp.UserID == "" {
		return errors.New("auth.test returned no bot user")
	}
	return nil
}
