// Command incidentbot runs the Slack incident-response bot and its offline
// tools. See `incidentbot help`.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/incidentbot/incidentbot/internal/config"
)

const usage = `incidentbot — a Slack incident-response bot (Socket Mode, state in bbolt).

Usage:
  incidentbot [run]              connect to Slack and serve until SIGINT/SIGTERM
  incidentbot demo [--out DIR]   replay an incident against a fake Slack; no account needed
  incidentbot export INC-N       print an incident's postmortem draft (reads the database)
  incidentbot list               list the incidents in the database
  incidentbot alerts             list the open alerts in the database
  incidentbot config             print the configuration variables
  incidentbot check              check the configuration, escalation file, templates and (with tokens) Slack
  incidentbot policies           print the escalation policies from INCIDENTBOT_ESCALATION_FILE
  incidentbot oncall [SCHEDULE]  who is on call (--at TIME), a schedule's shifts, or its calendar (--ical)
  incidentbot backup FILE        write a consistent copy of the database, also while the bot runs
  incidentbot cluster status     the cluster as this node sees it: leader, term, commit index, each peer's lag
  incidentbot cluster bootstrap --from FILE
                                 make a single-node database the cluster's state (on the leader)
  incidentbot help               this help

Configuration comes from the environment: see 'incidentbot config'.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs a subcommand with the process environment and returns the
// exit code: 0 ok, 1 failed, 2 misused (unknown subcommand or flag).
func realMain(args []string, stdout, stderr io.Writer) int {
	return runCommand(args, stdout, stderr, os.LookupEnv)
}

// runCommand is realMain with the environment given. The offline
// subcommands read their configuration from env; run, demo and backup read
// the process environment themselves.
func runCommand(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	sub := "run"
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "run":
		return cmdRun(args, stderr)
	case "demo":
		return cmdDemo(args, stdout, stderr)
	case "export":
		return cmdExport(args, stdout, stderr, env)
	case "list":
		return cmdList(args, stdout, stderr, env)
	case "alerts":
		return cmdAlerts(args, stdout, stderr, env)
	case "cluster":
		return cmdCluster(args, stdout, stderr, env)
	case "config":
		return cmdConfig(args, stdout, stderr)
	case "oncall":
		return cmdOncall(args, stdout, stderr, env)
	case "backup":
		return cmdBackup(args, stdout, stderr)
	case "check":
		return cmdCheck(args, stdout, stderr, env)
	case "policies":
		return cmdPolicies(args, stdout, stderr, env)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "incidentbot: unknown subcommand %q\n\n%s", sub, usage)
	return 2
}
