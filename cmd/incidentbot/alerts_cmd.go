package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/incidentbot/incidentbot/handlers/alerts"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/store"
)

// cmdAlerts prints the open alerts, offline: from the database file, also
// while the bot runs (a read-only open shares the file).
func cmdAlerts(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot alerts\n\nPrints the open alerts (firing, acknowledged or not) of INCIDENTBOT_DB.\n")
	}
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, code := configFrom(env, stderr, false)
	if code >= 0 {
		return code
	}
	var open []*incident.AlertRecord
	err := readDB(cfg, func(tx *store.Tx) error {
		var err error
		open, err = tx.OpenAlerts()
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot alerts: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, alerts.ListText(open, time.Now()))
	return 0
}
