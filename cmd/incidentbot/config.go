package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/incidentbot/incidentbot/internal/config"
)

// Config is incidentbot's configuration; it lives in internal/config. The
// alias keeps Config{…} literals (the demo, the end-to-end tests) as they
// were.
type Config = config.Config

// cmdConfig prints the configuration table.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "Usage: incidentbot config\n") }
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if err := config.PrintTable(stdout); err != nil {
		fmt.Fprintf(stderr, "incidentbot config: %v\n", err)
		return 1
	}
	return 0
}

// configFor loads the configuration from the process environment and
// validates it, printing what is wrong. It returns -1 to go on, or an exit
// code.
func configFor(stderr io.Writer, needTokens bool) (Config, int) {
	return configFrom(os.LookupEnv, stderr, needTokens)
}

// configFrom is configFor with the environment given.
func configFrom(env config.Lookup, stderr io.Writer, needTokens bool) (Config, int) {
	cfg, err := config.Load(env)
	if err == nil {
		var warnings []string
		warnings, err = cfg.Validate(needTokens)
		for _, w := range warnings {
			fmt.Fprintf(stderr, "incidentbot: warning: %s\n", w)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot: the configuration is not valid:\n  - %s\nRun 'incidentbot config' to see every variable.\n",
			strings.ReplaceAll(err.Error(), "\n", "\n  - "))
		return cfg, 1
	}
	return cfg, -1
}
