package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// initialMap is the memory map bbolt gives a file of 4–8 MiB when it opens
// it (the next power of two of its size); a commit that needs a page past it
// remaps, and waits for every open read transaction to end.
const initialMap = 8 << 20

// growTo appends long timeline entries to incident 1 in the (stopped) bot's
// database until its high-water mark is at least size bytes, and checks it
// stayed under initialMap: the burst that follows must be what crosses it.
func growTo(t *testing.T, path string, size int64) {
	t.Helper()
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("Checkout latency is up on every edge; the canary shows it too. ", 55) // 3.5 KiB
	at := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)
	for n := 0; ; n++ {
		head, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ps, pages := boltHighWater(t, head)
		if ps*pages >= size {
			if ps*pages >= initialMap {
				t.Fatalf("the database grew to %d bytes, past %d: it must stay under", ps*pages, initialMap)
			}
			break
		}
		if err := db.Update(func(tx *store.Tx) error {
			for i := range 12 {
				e := &incident.Entry{At: at, RecordedAt: at, Kind: incident.KindMessage, Text: text,
					Author: incident.User{ID: "U0AAAAAAA", Name: "mara"}, Source: fmt.Sprintf("C0PREFILL/%d.%06d", 1692266400+n, i)}
				if err := tx.AppendEntry(1, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// stalledBackup connects to the bot's /backup with a receive buffer of a
// few KiB, reads the status line and stops reading: a hung backup target.
// It closes the connection when the test ends.
func stalledBackup(t *testing.T, addr, token string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	auth := ""
	if token != "" {
		auth = "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := fmt.Fprintf(conn, "GET /backup HTTP/1.1\r\nHost: %s\r\n%s\r\n", addr, auth); err != nil {
		t.Fatal(err)
	}
	status := make([]byte, len("HTTP/1.1 200"))
	if _, err := io.ReadFull(conn, status); err != nil || string(status) != "HTTP/1.1 200" {
		t.Fatalf("/backup answered %q (%v), want 200", status, err)
	}
	return conn
}

// httpGetAuth is httpGet with the backup token.
func httpGetAuth(url, token string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// TestStalledBackupReaderDelaysNoAck: with a database of nearly 8 MiB, a
// /backup client that stops reading held bbolt's read transaction while the
// bot streamed the file from it; the first commit that grew the memory map
// waited for that transaction, the receive loop with it, and envelopes went
// unacked for as long as the client stayed. Now the snapshot goes to a
// temporary file first: every envelope of a burst that grows the database
// past its map is acked while two clients hang on /backup (the most served
// at once; a third is told to try later), and a backup taken afterwards
// holds the whole burst.
func TestStalledBackupReaderDelaysNoAck(t *testing.T) {
	w := newProcessWorkspace(t, slackfake.Options{})
	env := w.env()
	p := startProcess(t, env)
	waitReady(t, w.fake, p, w.base())
	ch := w.declare(t, "declare sev2 Backups hang")
	waitDrained(t, w.fake, w.base())
	p.stop()
	growTo(t, w.db, initialMap-320<<10)

	p = startProcess(t, env)
	waitReady(t, w.fake, p, w.base())
	token, _ := os.ReadFile(w.db + ".backup-token") // none before the fix: then none is sent
	tok := strings.TrimSpace(string(token))
	hung := []net.Conn{stalledBackup(t, w.addr, tok), stalledBackup(t, w.addr, tok)}
	if code, body := httpGetAuth(w.base()+"/backup", tok); code != http.StatusServiceUnavailable || !strings.Contains(body, "try again") {
		t.Errorf("a third /backup while two hang = %d %.200q, want 503 and to try again", code, body)
	}

	const burst = 200
	note := strings.Repeat("x", 2000)
	for i := range burst {
		w.fake.PostMessage(w.alice, ch.ID, fmt.Sprintf("TL: burst %03d %s", i, note))
	}
	waitUntil(t, w.fake, "every envelope of the burst to be acked", 2*time.Minute, func() bool {
		ok, _ := eventsAcked(w.fake)
		return ok
	})

	// The hung clients leave; a real backup of the running bot holds the
	// burst. The bot may not have seen them go yet: retry while it says so.
	for _, c := range hung {
		_ = c.Close()
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	var res commandResult
	waitUntil(t, w.fake, "a backup of the running bot", time.Minute, func() bool {
		res = runCommandProcess(t, env, "backup", out)
		return res.code == 0 || !strings.Contains(res.stderr, "try again")
	})
	if res.code != 0 {
		t.Fatalf("incidentbot backup of the running bot exited %d: %s", res.code, res.stderr)
	}
	p.stop()
	// With the bot stopped, backup reads the file itself.
	offline := filepath.Join(t.TempDir(), "offline.db")
	if res := runCommandProcess(t, env, "backup", offline); res.code != 0 || !strings.Contains(res.stdout, "Backed up") {
		t.Errorf("incidentbot backup with no bot running exited %d: %s%s", res.code, res.stdout, res.stderr)
	}

	full, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	if ps, pages := boltHighWater(t, full); ps*pages <= initialMap {
		t.Fatalf("the burst left the database at %d bytes, inside its first memory map (%d): the test proves nothing", ps*pages, initialMap)
	}
	db, err := store.Open(out, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	notes := 0
	if err := db.View(func(tx *store.Tx) error {
		entries, err := tx.Timeline(1)
		for _, e := range entries {
			if e.Kind == incident.KindNote && strings.HasPrefix(e.Text, "burst ") {
				notes++
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if notes != burst {
		t.Errorf("the backup holds %d of the %d notes", notes, burst)
	}
}
