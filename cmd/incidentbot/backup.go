package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// cmdBackup writes a consistent copy of the database to FILE. When no bot
// runs, it reads the file itself; when one does (it holds the file's lock),
// it asks that bot for a snapshot over its local HTTP endpoint, with the
// token the bot left next to the database.
func cmdBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot backup FILE\n\nWrites a consistent copy of INCIDENTBOT_DB to FILE, also while the bot runs\n(run it as the bot's user or root: it reads INCIDENTBOT_DB.backup-token).\n")
	}
	pos, code := parseFlags(fs, args, 1)
	if code >= 0 {
		return code
	}
	cfg, code := configFor(stderr, false)
	if code >= 0 {
		return code
	}
	n, err := backup(cfg, pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot: backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%d bytes, checked). To restore: stop incidentbot, copy the file to INCIDENTBOT_DB, start it.\n", cfg.DB, pos[0], n)
	return 0
}

// backup writes the snapshot to a temporary file beside dest and renames it
// into place, so dest is never half written; before the rename it opens the
// copy read-only, which runs every check store.Open makes (bbolt's full
// consistency check included), so a backup that exists is one that opens.
func backup(cfg Config, dest string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".incidentbot-backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := snapshot(cfg, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	check, err := store.Open(tmp.Name(), store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		var de *store.DamagedError
		if errors.As(err, &de) {
			return 0, fmt.Errorf("the copy failed its check (%s), so %s was not written: run the backup again", de.Reason, dest)
		}
		return 0, fmt.Errorf("the copy is not readable, so %s was not written: %w", dest, err)
	}
	_ = check.Close()
	return n, os.Rename(tmp.Name(), dest)
}

// snapshot copies the database to w, from the file or from the running bot.
func snapshot(cfg Config, w io.Writer) (int64, error) {
	db, err := store.Open(cfg.DB, store.Options{ReadOnly: true, Timeout: time.Second})
	if err == nil {
		defer db.Close()
		return db.WriteTo(w)
	}
	if !errors.Is(err, store.ErrLocked) {
		return 0, fmt.Errorf("INCIDENTBOT_DB: %w", err)
	}
	if cfg.HTTPAddr == "" {
		return 0, fmt.Errorf("%s is held by a running incidentbot and INCIDENTBOT_HTTP_ADDR is empty, so it cannot be asked for a snapshot: set INCIDENTBOT_HTTP_ADDR as the running bot has it", cfg.DB)
	}
	return fetchSnapshot(cfg, w)
}

// backupTokenPath is where a running bot keeps the token /backup asks for:
// next to the database, so whoever may read the database may take a backup.
func backupTokenPath(db string) string { return db + ".backup-token" }

// fetchSnapshot asks the running bot at cfg.HTTPAddr for GET /backup, with
// the token it wrote next to cfg.DB.
func fetchSnapshot(cfg Config, w io.Writer) (int64, error) {
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return 0, err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // the bot only hands snapshots to local callers
	}
	tokenFile := backupTokenPath(cfg.DB)
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return 0, fmt.Errorf("the database is held by a running incidentbot, and its backup token cannot be read: %w (run 'incidentbot backup' as the bot's user or root, with INCIDENTBOT_DB as the bot has it)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/backup", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	// No proxy: the bot refuses proxied requests, and the token stays local.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("the database is held by a running incidentbot, which did not answer at %s: %w", cfg.HTTPAddr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("the running incidentbot refused the snapshot: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	// The body has a Content-Length: a transfer cut short is an error here,
	// not a short copy.
	return io.Copy(w, resp.Body)
}
