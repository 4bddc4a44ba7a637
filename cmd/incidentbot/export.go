package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

// cmdExport prints an incident's postmortem draft (or its whole record as
// JSON) from the database, with no Slack involved.
func cmdExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "md", "md for the postmortem draft in Markdown, json for the whole incident record")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot export [--format md|json] INC-N\n\n")
		fs.PrintDefaults()
	}
	pos, code := parseFlags(fs, args, 1)
	if code >= 0 {
		return code
	}
	if *format != "md" && *format != "json" {
		fmt.Fprintf(stderr, "incidentbot export: --format must be md or json (got %q)\n", *format)
		return 2
	}
	id, err := incident.ParseRef(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot export: %v\n", err)
		return 2
	}
	cfg, code := configFor(stderr, false)
	if code >= 0 {
		return code
	}
	err = readDB(cfg, func(tx *store.Tx) error {
		if *format == "json" {
			rec, err := report.Load(tx, id)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rec)
		}
		doc, err := report.Postmortem(tx, incident.MustLoadDefaults(), id, time.Now())
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, doc)
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot export: %v\n", err)
		return 1
	}
	return 0
}

// cmdList prints one line per incident.
func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "Usage: incidentbot list\n") }
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, code := configFor(stderr, false)
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

// cmdConfig prints the configuration table.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "Usage: incidentbot config\n") }
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if err := printConfigTable(stdout); err != nil {
		fmt.Fprintf(stderr, "incidentbot config: %v\n", err)
		return 1
	}
	return 0
}

// readDB opens the database read-only for an offline command.
func readDB(cfg Config, fn func(*store.Tx) error) error {
	db, err := store.Open(cfg.DB, store.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, store.ErrLocked) && cfg.HTTPAddr != "" {
		// The bot is running and holds the file: read a snapshot of it.
		tmp, terr := os.CreateTemp("", "incidentbot-export-*.db")
		if terr != nil {
			return terr
		}
		defer os.Remove(tmp.Name())
		_, ferr := fetchSnapshot(cfg.HTTPAddr, tmp)
		if cerr := tmp.Close(); ferr == nil {
			ferr = cerr
		}
		if ferr != nil {
			return fmt.Errorf("INCIDENTBOT_DB: %w (and the running bot did not hand over a snapshot: %v)", err, ferr)
		}
		db, err = store.Open(tmp.Name(), store.Options{ReadOnly: true, Timeout: time.Second})
	}
	if err != nil {
		return fmt.Errorf("INCIDENTBOT_DB: %w", err)
	}
	defer db.Close()
	return db.View(fn)
}
