package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

// withBackups gives the harness an HTTP address, so the bot writes its
// backup token as `run` does (the harness calls the handler directly and
// binds nothing).
func withBackups(h *harness) { h.cfg.HTTPAddr = "127.0.0.1:0" }

// backupRequest is GET /backup from the caller at from, with headers.
func (h *harness) backupRequest(from string, headers map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/backup", nil)
	req.RemoteAddr = from
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.app.healthHandler().ServeHTTP(rec, req)
	return rec
}

// backupToken reads the token the bot left next to its database, and
// checks that only its user may read it.
func (h *harness) backupToken() string {
	h.t.Helper()
	path := h.cfg.DB + ".backup-token"
	st, err := os.Stat(path)
	if err != nil {
		h.t.Fatalf("the bot wrote no backup token: %v", err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		h.t.Errorf("%s has mode %v, want 0600", path, mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 40 {
		h.t.Fatalf("the backup token %q is too short to be a secret", token)
	}
	return token
}

// TestBackupNeedsTheTokenAndNoProxy: /backup handed the whole database
// (private incidents included) to any loopback peer: requests relayed by a
// proxy (X-Forwarded-For, Forwarded, X-Real-IP) and those from 127.0.0.2 or
// a service mesh sidecar's 127.0.0.6. Now a request needs the token the bot
// writes next to its database (0600, new at every start), and any proxied
// one is refused, token or not; the token never shows in what the bot
// writes.
func TestBackupNeedsTheTokenAndNoProxy(t *testing.T) {
	h := newHarness(t, withBackups)
	h.declared(1, "declare sev1 Private data in a backup")
	h.idle()
	token := h.backupToken()
	h.Secret(token)
	bearer := map[string]string{"Authorization": "Bearer " + token}

	refused := []struct {
		name    string
		from    string
		headers map[string]string
		code    int
	}{
		{"no token", "127.0.0.1:4000", nil, http.StatusUnauthorized},
		{"no token, from 127.0.0.2", "127.0.0.2:4000", nil, http.StatusUnauthorized},
		{"no token, from a sidecar's 127.0.0.6", "127.0.0.6:15001", nil, http.StatusUnauthorized},
		{"no token, IPv6 loopback", "[::1]:4000", nil, http.StatusUnauthorized},
		{"a wrong token", "127.0.0.1:4000", map[string]string{"Authorization": "Bearer " + strings.Repeat("A", len(token))}, http.StatusUnauthorized},
		{"the token cut short", "127.0.0.1:4000", map[string]string{"Authorization": "Bearer " + token[:len(token)-1]}, http.StatusUnauthorized},
		{"the token as basic auth", "127.0.0.1:4000", map[string]string{"Authorization": "Basic " + token}, http.StatusUnauthorized},
		{"X-Forwarded-For", "127.0.0.1:4000", map[string]string{"Authorization": "Bearer " + token, "X-Forwarded-For": "203.0.113.9"}, http.StatusForbidden},
		{"Forwarded", "127.0.0.1:4000", map[string]string{"Authorization": "Bearer " + token, "Forwarded": "for=203.0.113.9"}, http.StatusForbidden},
		{"X-Real-IP", "127.0.0.1:4000", map[string]string{"Authorization": "Bearer " + token, "X-Real-IP": "203.0.113.9"}, http.StatusForbidden},
		{"a remote address", "192.0.2.7:4000", bearer, http.StatusForbidden},
	}
	for _, c := range refused {
		rec := h.backupRequest(c.from, c.headers)
		if rec.Code != c.code {
			t.Errorf("%s: /backup = %d, want %d", c.name, rec.Code, c.code)
		}
		body := rec.Body.String()
		if len(body) > 1000 || strings.Contains(body, "Private data") {
			t.Errorf("%s: the answer carries data (%d bytes)", c.name, len(body))
			continue
		}
		if !strings.Contains(body, "incidentbot backup FILE") {
			t.Errorf("%s: the refusal %q does not say what to run", c.name, body)
		}
	}
	if rec := h.backupRequest("127.0.0.1:4000", bearer); rec.Code != http.StatusOK || rec.Body.Len() == 0 {
		t.Fatalf("/backup with the token = %d (%d bytes), want the snapshot", rec.Code, rec.Body.Len())
	}

	// A restart writes a new token; the old one is refused.
	h.restart()
	if rec := h.backupRequest("127.0.0.1:4000", bearer); rec.Code != http.StatusUnauthorized {
		t.Errorf("/backup with the previous start's token = %d, want 401", rec.Code)
	}
	fresh := h.backupToken()
	h.Secret(fresh)
	if fresh == token {
		t.Errorf("the restart kept the backup token")
	}
	if rec := h.backupRequest("[::1]:4000", map[string]string{"Authorization": "Bearer " + fresh}); rec.Code != http.StatusOK {
		t.Errorf("/backup with the new token = %d, want 200", rec.Code)
	}
}

// TestBackupOfLiveDatabaseRestoresToIdenticalExport: a snapshot of a live
// bot is a database whose postmortem export is the live one, byte for byte.
func TestBackupOfLiveDatabaseRestoresToIdenticalExport(t *testing.T) {
	h := newHarness(t, withBackups)
	ch := h.declared(1, "declare sev1 Domain expired, every service down")
	ts := h.fake.PostMessage(h.alice, ch.ID, "SSL handshakes failing on every edge")
	h.fake.JoinChannel(h.bob, ch.ID) // pins count from people in the channel
	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	h.slash(h.alice, ch.ID, "note --at 15m ago first alert fired")
	h.slash(h.alice, ch.ID, "followup short-term: alert on expiring domains <@"+h.bob+"|bob>")
	h.idle()

	rec := h.backupRequest("127.0.0.1:4000", map[string]string{"Authorization": "Bearer " + h.backupToken()})
	if rec.Code != http.StatusOK {
		t.Fatalf("/backup = %d %s", rec.Code, rec.Body)
	}
	if got, want := rec.Header().Get("Content-Length"), itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length %q for a %s-byte snapshot", got, want)
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl := incident.MustLoadDefaults()
	var live, restored []byte
	h.view(func(tx *store.Tx) error {
		doc, err := report.Postmortem(tx, tmpl, 1, at)
		live = []byte(doc)
		return err
	})
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	if err := db.View(func(tx *store.Tx) error {
		doc, err := report.Postmortem(tx, tmpl, 1, at)
		restored = []byte(doc)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live, restored) {
		t.Errorf("the restored export differs from the live one:\nlive:\n%s\nrestored:\n%s", live, restored)
	}
	if !bytes.Contains(restored, []byte("SSL handshakes failing")) || !bytes.Contains(restored, []byte("alert on expiring domains")) {
		t.Errorf("the restored export lacks the pinned message or the follow-up:\n%s", restored)
	}
	// The snapshot went through a temporary file beside the database; none
	// is left.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(h.cfg.DB), ".*snapshot*"))
	if len(left) > 0 {
		t.Errorf("snapshot files left beside the database: %v", left)
	}
}
