package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/internal/config/check"
)

// cmdCheck validates a deployment before it starts: configuration,
// escalation file, templates, the database file, and (when tokens are set)
// the bot token with auth.test. Each check prints one line; the exit code is
// 1 if any failed. The checks themselves are check.Checks.
func cmdCheck(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot check\n\nChecks the configuration from the environment.\n")
	}
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if !check.Run(stdout, env) {
		return 1
	}
	return 0
}
