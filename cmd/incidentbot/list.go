package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/store"
)

// cmdList prints one line per incident.
func cmdList(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "Usage: incidentbot list\n") }
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, code := configFrom(env, stderr, false)
	if code >= 0 {
		return code
	}
	err := readDB(cfg, func(tx *store.Tx) error {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tTITLE\tCHANNEL\tDECLARED")
		n := 0
		err := tx.EachIncident(func(inc *incident.Incident) error {
			n++
			channel := "-"
			if inc.ChannelName != "" {
				channel = "#" + inc.ChannelName
			}
			title := incident.Markdown(inc.Title, nil)
			if r := []rune(title); len(r) > 60 {
				title = string(r[:59]) + "…"
			}
			_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inc.Ref(), inc.Status, inc.Severity.Label(),
				title, channel, incident.FormatTime(inc.Times.Declared))
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(stderr, "No incidents in", cfg.DB)
		}
		return tw.Flush()
	})
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot list: %v\n", err)
		return 1
	}
	return 0
}
