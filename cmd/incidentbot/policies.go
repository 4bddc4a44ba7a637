package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
)

// cmdPolicies prints the escalation policies as the bot will load them, so
// an operator can read a change before restarting the bot.
func cmdPolicies(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	fs := flag.NewFlagSet("policies", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot policies\n\nPrints the escalation policies of INCIDENTBOT_ESCALATION_FILE.\n")
	}
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, code := configFrom(env, stderr, false)
	if code >= 0 {
		return code
	}
	policies, err := incident.LoadPolicies(cfg.EscalationFile, builtin.Set(builtin.Options{Getenv: env.Getenv}).Check)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot: INCIDENTBOT_ESCALATION_FILE: %v\n", err)
		return 1
	}
	printPolicies(stdout, cfg.EscalationFile, policies)
	return 0
}

// printPolicies writes the policies, one block each. Provider keys and
// webhook paths are shown redacted.
func printPolicies(w io.Writer, file string, p *incident.Policies) {
	if p.Empty() {
		fmt.Fprintln(w, "No escalation policies (INCIDENTBOT_ESCALATION_FILE is not set). People can still be paged directly: /incident page @someone")
		return
	}
	fmt.Fprintf(w, "Escalation policies from %s:\n", file)
	for _, pol := range p.List {
		fmt.Fprintf(w, "\n%s", pol.Name)
		if pol.Description != "" {
			fmt.Fprintf(w, " — %s", pol.Description)
		}
		fmt.Fprintln(w)
		for i, l := range pol.Levels {
			var who []string
			for _, t := range l.Targets {
				who = append(who, t.Redacted())
			}
			fmt.Fprintf(w, "  level %d: %s (then wait %s)\n", i+1, strings.Join(who, ", "), incident.FormatDuration(l.Timeout))
		}
		fmt.Fprintf(w, "  repeat: %d\n", pol.Repeat)
	}
	var auto []string
	for _, s := range incident.Severities {
		if pol, ok := p.ForSeverity(s); ok {
			auto = append(auto, s.String()+" → "+pol.Name)
		}
	}
	if len(auto) > 0 {
		fmt.Fprintf(w, "\nPaged automatically on declare: %s\n", strings.Join(auto, ", "))
	}
}
