package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
)

// cmdPolicies prints the escalation policies as the bot will load them, so
// an operator can read a change before restarting the bot. A file the bot
// would refuse only because an Opsgenie key's variable is not set is still
// printed, with that target marked, and exits 1 as `check` does.
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
	policies, unset, err := loadPolicies(cfg.EscalationFile, env.Getenv)
	if policies == nil {
		fmt.Fprintf(stderr, "incidentbot: INCIDENTBOT_ESCALATION_FILE: %v\n", err)
		return 1
	}
	printPolicies(stdout, cfg.EscalationFile, policies, unset)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot: INCIDENTBOT_ESCALATION_FILE: %v\n", err)
		return 1
	}
	return 0
}

// loadPolicies loads the file as the bot does and returns the error the bot
// would stop with. When the only problem is environment variables that are
// not set (Opsgenie targets name the variable holding the key), it still
// returns the policies, with the names of those variables in unset: it loads
// the file a second time with a getenv that answers a placeholder for an
// unset variable and records its name. incident.LoadPolicies only checks
// that such a variable is set; the placeholder never leaves this function's
// result, which holds the variable's name, never its value.
func loadPolicies(file string, getenv func(string) string) (p *incident.Policies, unset map[string]bool, err error) {
	p, err = incident.LoadPolicies(file, builtin.Set(builtin.Options{Getenv: getenv}).Check)
	if err == nil {
		return p, nil, nil
	}
	unset = map[string]bool{}
	placeholder := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		unset[name] = true
		return "unset"
	}
	p, perr := incident.LoadPolicies(file, builtin.Set(builtin.Options{Getenv: placeholder}).Check)
	if perr != nil || len(unset) == 0 {
		return nil, nil, err // wrong for another reason: the bot's error says all
	}
	return p, unset, err
}

// printPolicies writes the policies, one block each. Provider keys and
// webhook paths are shown redacted; an Opsgenie or JSM target whose variable is in
// unset is marked "(not set: VAR)".
func printPolicies(w io.Writer, file string, p *incident.Policies, unset map[string]bool) {
	if p.Empty() {
		fmt.Fprintln(w, "No escalation policies (INCIDENTBOT_ESCALATION_FILE is not set). People can still be paged directly: /incident page @someone")
		printAlertRoutes(w, p)
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
				name := t.Redacted()
				if (t.Kind() == incident.TargetOpsgenie || t.Kind() == incident.TargetJSM) && unset[t.Value()] {
					name += "  (not set: " + t.Value() + ")"
				}
				who = append(who, name)
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
	printSchedules(w, p)
	printAlertRoutes(w, p)
}

// printAlertRoutes writes the alert routes: what each takes, where it posts
// and whom it pages. Tokens are named by their variable, never shown.
func printAlertRoutes(w io.Writer, p *incident.Policies) {
	if p == nil {
		return
	}
	for _, r := range p.AlertRoutes {
		var match []string
		for _, m := range r.Match {
			match = append(match, m.String())
		}
		takes := "every alert of its token"
		if len(match) > 0 {
			takes = strings.Join(match, ", ")
		}
		page := r.Page
		if page == "" {
			page = "nobody"
		}
		fmt.Fprintf(w, "\nalert route %s (token from %s): %s → %s, pages %s", r.Name, r.TokenEnv, takes, r.Channel, page)
		if r.Declare.Valid() {
			fmt.Fprintf(w, ", declares at %s or worse", r.Declare)
		}
		if r.Quiet > 0 {
			fmt.Fprintf(w, ", quiet %s", incident.FormatDuration(r.Quiet))
		}
		fmt.Fprintln(w)
	}
}

// printSchedules writes the on-call schedules: `incidentbot oncall` says who
// is on call; this says how the rota is built.
func printSchedules(w io.Writer, p *incident.Policies) {
	for _, s := range p.Schedules {
		fmt.Fprintf(w, "\nschedule %s", s.Name)
		if s.Description != "" {
			fmt.Fprintf(w, " — %s", s.Description)
		}
		fmt.Fprintf(w, " (%s)\n", s.Location)
		if s.ICal != "" {
			fmt.Fprintf(w, "  calendar feed: %s\n", s.ICalRedacted())
		}
		for _, r := range s.Rotations {
			fmt.Fprintf(w, "  rotation %s: shifts of %s from %s, %s\n", r.Name, shiftLength(r.Length),
				r.Start.In(s.Location).Format("2006-01-02 15:04"), strings.Join(r.Participants, ", "))
		}
		if s.Usergroup != "" {
			fmt.Fprintf(w, "  user group %s follows who is on call\n", s.Usergroup)
		}
		if s.HandoffChannel != "" {
			fmt.Fprintf(w, "  handoffs announced in %s\n", s.HandoffChannel)
		}
	}
}

// shiftLength writes a shift as the file does: 1w, 2d, 12h.
func shiftLength(d time.Duration) string {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	switch {
	case d%week == 0:
		return strconv.Itoa(int(d/week)) + "w"
	case d%day == 0:
		return strconv.Itoa(int(d/day)) + "d"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h"
}
