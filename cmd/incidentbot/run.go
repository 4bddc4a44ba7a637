package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// cmdRun connects to Slack and serves until SIGINT or SIGTERM.
func cmdRun(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot run\n\nConfiguration comes from the environment: see 'incidentbot config'.\n")
	}
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, code := configFor(stderr, true)
	if code >= 0 {
		return code
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := newApp(cfg, appDeps{Log: log})
	if err != nil {
		log.Error().Err(err).Msg("incidentbot cannot start")
		return 1
	}
	if err := a.listen(); err != nil {
		_ = a.db.Close()
		log.Error().Err(err).Msg("incidentbot cannot start")
		return 1
	}
	log.Info().Str("db", cfg.DB).Str("http", cfg.HTTPAddr).Msg("incidentbot starting")
	if err := a.run(ctx); err != nil {
		log.Error().Err(err).Msg("incidentbot stopped")
		return 1
	}
	log.Info().Msg("incidentbot stopped cleanly")
	return 0
}

// parseFlags parses flags that may come before or after positional
// arguments, and checks that there are wantArgs of those (-1: any number).
// It returns the positional arguments and -1 to go on, or an exit code (2
// for misuse, 0 for -h).
func parseFlags(fs *flag.FlagSet, args []string, wantArgs int) ([]string, int) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, 0
			}
			return nil, 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if wantArgs >= 0 && len(positional) != wantArgs {
		if len(positional) > wantArgs {
			fmt.Fprintf(fs.Output(), "incidentbot %s: unexpected argument %q\n", fs.Name(), positional[wantArgs])
		} else {
			fmt.Fprintf(fs.Output(), "incidentbot %s: missing argument\n", fs.Name())
		}
		fs.Usage()
		return nil, 2
	}
	return positional, -1
}
