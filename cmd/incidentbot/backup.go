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
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// cmdBackup writes a consistent copy of the database to FILE. When no bot
// runs, it reads the file itself; when one does (it holds the file's lock),
// it asks that bot for a snapshot over its local HTTP endpoint.
func cmdBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot backup FILE\n\nWrites a consistent copy of INCIDENTBOT_DB to FILE, also while the bot runs.\n")
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
	fmt.Fprintf(stdout, "Backed up %s to %s (%d bytes). To restore: stop incidentbot, copy the file to INCIDENTBOT_DB, start it.\n", cfg.DB, pos[0], n)
	return 0
}

// backup writes the snapshot to a temporary file beside dest and renames it
// into place, so dest is never half written; then it opens the copy to
// prove it is a readable incidentbot database.
func backup(cfg Config, dest string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".incidentbot-backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := snapshot(cfg, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	check, err := store.Open(tmp.Name(), store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("the copy is not readable: %w", err)
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
	return fetchSnapshot(cfg.HTTPAddr, w)
}

// fetchSnapshot asks the running bot at addr for GET /backup.
func fetchSnapshot(addr string, w io.Writer) (int64, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // the bot only hands snapshots to local callers
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("the database is held by a running incidentbot, which did not answer at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("the running incidentbot refused the snapshot: %s %s", resp.Status, msg)
	}
	return io.Copy(w, resp.Body)
}

// serveBackup streams a consistent snapshot (bbolt's Tx.WriteTo) to local
// callers only: the file holds every incident, and the endpoint listens
// wherever the probes do.
func (a *app) serveBackup(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, "backups are served to local callers only: run 'incidentbot backup FILE' on the bot's host or pod", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := a.db.WriteTo(w); err != nil {
		a.log.Error().Err(err).Msg("backup snapshot failed")
	}
}
