package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// commandHelperEnv holds the subcommand (arguments separated by spaces)
// the test binary re-executed by runCommandProcess runs.
const commandHelperEnv = "INCIDENTBOT_TEST_COMMAND"

// TestCommandHelperProcess is not a test: it is `incidentbot <args>` when
// runCommandProcess re-executes the test binary, so a SIGBUS or a panic in
// an offline command shows as the real binary's would. It does nothing in a
// normal test run.
func TestCommandHelperProcess(t *testing.T) {
	args := os.Getenv(commandHelperEnv)
	if args == "" {
		return
	}
	os.Exit(realMain(strings.Fields(args), os.Stdout, os.Stderr))
}

// commandResult is how a subcommand process ended.
type commandResult struct {
	code           int // -1: killed by a signal
	stdout, stderr string
}

// runCommandProcess runs `incidentbot args…` as a child process with env,
// as startProcess does for `run`, and waits up to a minute for it.
func runCommandProcess(t testing.TB, env map[string]string, args ...string) commandResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCommandHelperProcess$", "-test.count=1")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "INCIDENTBOT_") || strings.HasPrefix(k, "SLACK_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, commandHelperEnv+"="+strings.Join(args, " "))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := commandResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("run incidentbot %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("incidentbot %s was still running after a minute", strings.Join(args, " "))
	}
	return res
}

// boltHighWater reads the page size and the high-water mark (pages in use)
// of the newest meta page of a bbolt file, straight from its bytes.
func boltHighWater(t testing.TB, data []byte) (pageSize, pages int64) {
	t.Helper()
	meta := func(off int64) (ps, pages, txid uint64) {
		m := data[off+16:]
		ne := binary.NativeEndian
		return uint64(ne.Uint32(m[8:])), ne.Uint64(m[40:]), ne.Uint64(m[48:])
	}
	ps, n, txid := meta(0)
	if _, n1, t1 := meta(int64(ps)); t1 > txid {
		n = n1
	}
	return int64(ps), int64(n)
}

// crashSigns are what a crash leaves in a Go program's output.
var crashSigns = []string{"panic", "SIGBUS", "SIGSEGV", "fatal error", "goroutine ", "unexpected fault"}

// TestTruncatedDatabaseIsRefusedByEveryCommand: a database file made by the
// real bot, cut short at several offsets (inside each meta page, mid-file,
// the last page in use). bbolt follows page numbers into the missing part:
// the bot died of a SIGBUS or a bbolt assertion panic (a stack trace, in a
// restart loop under Kubernetes), `run` wrote to the cut file, and `list`
// and `export` crashed or printed part of the data with exit 0. Each of
// run, list, export and backup now exits 1 with one line that names the
// file and says how to restore it, and the file is left byte for byte.
func TestTruncatedDatabaseIsRefusedByEveryCommand(t *testing.T) {
	w := newProcessWorkspace(t, slackfake.Options{})
	p := startProcess(t, w.env())
	waitReady(t, w.fake, p, w.base())
	ch := w.declare(t, "declare sev2 Truncated database")
	for i := range 30 {
		w.fake.PostMessage(w.alice, ch.ID, fmt.Sprintf("TL: note %02d on a database about to be cut", i))
	}
	waitUntil(t, w.fake, "every note to be acked", 60*time.Second, func() bool { ok, _ := eventsAcked(w.fake); return ok })
	waitDrained(t, w.fake, w.base())
	p.stop()
	full, err := os.ReadFile(w.db)
	if err != nil {
		t.Fatal(err)
	}
	ps, pages := boltHighWater(t, full)
	end := ps * pages
	t.Logf("the bot's database: %d bytes, %d pages of %d in use", len(full), pages, ps)
	if pages < 8 {
		t.Fatalf("the bot's database has %d pages; want more for a mid-file cut", pages)
	}

	cuts := []struct {
		name string
		at   int64
	}{
		{"inside the first meta page", 40},
		{"inside the second meta page", ps + 100},
		{"mid-file", end / 2},
		{"the last page", end - ps},
	}
	for _, c := range cuts {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "incidentbot.db")
			cut := full[:c.at]
			if err := os.WriteFile(db, cut, 0o600); err != nil {
				t.Fatal(err)
			}
			env := processEnv(w.fake, db, w.announce, freeAddr(t))

			// The bot either stops at once or (as it did) starts on the
			// cut file: wait for whichever comes first.
			bot := startProcess(t, env)
			base := "http://" + env["INCIDENTBOT_HTTP_ADDR"]
			waitUntil(t, w.fake, "the bot to exit or be ready", time.Minute, func() bool {
				code, _ := httpGet(base + "/readyz")
				return bot.exited() || code == http.StatusOK
			})
			res := commandResult{code: -1}
			if bot.exited() {
				res.code = bot.exitCode(time.Minute) // already exited: no wait
			} else {
				t.Errorf("the bot started on the cut file and became ready")
				bot.kill()
			}
			res.stderr = strings.Join(bot.log.Lines(), "\n")
			checkRefused(t, "run", res, db, cut)
			if n := len(bot.log.Lines()); n != 1 {
				t.Errorf("run logged %d lines, want the one error line:\n%s", n, res.stderr)
			}

			checkRefused(t, "list", runCommandProcess(t, env, "list"), db, cut)
			checkRefused(t, "export", runCommandProcess(t, env, "export", "INC-1"), db, cut)
			checkRefused(t, "export --format json", runCommandProcess(t, env, "export", "--format", "json", "INC-1"), db, cut)
			out := filepath.Join(dir, "backup.db")
			checkRefused(t, "backup", runCommandProcess(t, env, "backup", out), db, cut)
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("backup of the damaged file left %s (%v)", out, err)
			}
		})
	}
}

// checkRefused checks that a command refused the damaged database db:
// exit code 1, the message, no sign of a crash, none of the data, and the
// file unchanged.
func checkRefused(t *testing.T, what string, res commandResult, db string, want []byte) {
	t.Helper()
	if res.code != 1 {
		t.Errorf("%s exited %d, want 1\nstdout: %s\nstderr: %s", what, res.code, res.stdout, res.stderr)
	}
	for _, part := range []string{"INCIDENTBOT_DB", db, "is damaged", "incidentbot backup", "cp backup.db " + db} {
		if !strings.Contains(res.stderr, part) {
			t.Errorf("%s: the error does not say %q:\n%s", what, part, res.stderr)
		}
	}
	for _, sign := range crashSigns {
		if strings.Contains(res.stderr, sign) || strings.Contains(res.stdout, sign) {
			t.Errorf("%s crashed (%q):\n%s%s", what, sign, res.stdout, res.stderr)
		}
	}
	if strings.Contains(res.stdout, "INC-1") || strings.Contains(res.stdout, "Truncated database") {
		t.Errorf("%s printed data from the damaged file:\n%s", what, res.stdout)
	}
	if got, err := os.ReadFile(db); err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s changed the damaged file (%d bytes before, %d after, %v)", what, len(want), len(got), err)
	}
}
