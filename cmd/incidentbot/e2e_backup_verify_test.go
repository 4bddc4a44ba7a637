package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// TestBackupChecksItsCopy: `incidentbot backup` against a running bot (the
// file is locked, so it asks /backup) that hands over a snapshot cut short
// but complete by its own Content-Length, as a bot whose disk filled while
// writing it might. The copy fails the checks store.Open makes, so the
// destination is never written and the error says to run it again; a whole
// snapshot is written and opens. The token the bot left is what is sent.
func TestBackupChecksItsCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "incidentbot.db")
	live, err := store.Open(path, store.Options{}) // holds the lock, as a running bot does
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	var whole bytes.Buffer
	if _, err := live.WriteTo(&whole); err != nil {
		t.Fatal(err)
	}
	const token = "T0KEN-FOR-THE-TEST-0123456789ABCDEFGHIJKLMNOPQRSTUV"
	if err := os.WriteFile(backupTokenPath(path), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := whole.Bytes()
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/backup" || r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "wrong request", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(serve)))
		_, _ = w.Write(serve)
	}))
	defer bot.Close()
	cfg := Config{DB: path, HTTPAddr: strings.TrimPrefix(bot.URL, "http://")}
	out := filepath.Join(t.TempDir(), "backup.db")

	serve = whole.Bytes()[:whole.Len()/2]
	if _, err := backup(cfg, out); err == nil || !strings.Contains(err.Error(), "failed its check") ||
		!strings.Contains(err.Error(), out+" was not written") || !strings.Contains(err.Error(), "run the backup again") {
		t.Errorf("backup of a snapshot cut short = %v; want it refused, %s not written, and to run it again", err, out)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused copy was written to %s (%v)", out, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".incidentbot-backup-*")); len(left) > 0 {
		t.Errorf("temporary copies left: %v", left)
	}

	serve = whole.Bytes()
	if n, err := backup(cfg, out); err != nil || n != int64(whole.Len()) {
		t.Fatalf("backup of a whole snapshot = %d, %v; want %d bytes", n, err, whole.Len())
	}
	db, err := store.Open(out, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	_ = db.Close()
}
