package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

// cmdExport prints an incident's postmortem draft (or its whole record as
// JSON) from the database, with no Slack involved. The draft is rendered with
// the templates the bot uses (INCIDENTBOT_TEMPLATES_DIR's overrides), so it
// is the document the bot uploads.
func cmdExport(args []string, stdout, stderr io.Writer, env config.Lookup) int {
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
	cfg, code := configFrom(env, stderr, false)
	if code >= 0 {
		return code
	}
	var templates *incident.Templates
	if *format == "md" {
		if templates, err = incident.LoadTemplates(cfg.TemplatesDir); err != nil {
			fmt.Fprintf(stderr, "incidentbot export: INCIDENTBOT_TEMPLATES_DIR: %v\n", err)
			return 1
		}
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
		doc, err := report.Postmortem(tx, templates, id, time.Now())
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
		_, ferr := fetchSnapshot(cfg, tmp)
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
