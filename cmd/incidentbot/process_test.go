package main

// The real bot as a child process (the test binary re-executed as
// `incidentbot run`), so tests can SIGKILL it, starve it of disk or see it
// exit, and the workspace such a bot is started in.

import (
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// helperEnv marks the test binary re-executed as the bot.
const helperEnv = "INCIDENTBOT_TEST_RUN_BOT"

// testBootEnv gives the re-executed bot the machine's boot id, so a test
// can play a machine crash (store/unsynced.go) with a kill -9 and another id.
const testBootEnv = "INCIDENTBOT_TEST_BOOT_ID"

// TestCrashHelperProcess is not a test: it is the bot (`incidentbot run`,
// configured from the environment) when the fault tests re-execute the test
// binary, so they can SIGKILL it or starve it of disk. It does nothing in a
// normal test run.
func TestCrashHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	if id := os.Getenv(testBootEnv); id != "" {
		// The machine "rebooted" when a test gives the process another id.
		store.SetBootIDForTest(func() (string, bool) { return id, true })
	}
	os.Exit(realMain([]string{"run"}, io.Discard, os.Stderr))
}

// botProcess is the real bot running as a child process.
type botProcess struct {
	t    testing.TB
	cmd  *exec.Cmd
	env  map[string]string
	log  *logLines // its stderr: the JSON log
	done chan struct{}
	err  error // from Wait, once done is closed
}

// startProcess starts `incidentbot run` in a child process with env (on
// top of this process's environment minus any incidentbot and Slack
// variables). Its stderr goes through a pipe, never a file, so a file size
// limit set on it cannot stop it from logging.
func startProcess(t testing.TB, env map[string]string) *botProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "INCIDENTBOT_") || strings.HasPrefix(k, "SLACK_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, helperEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &botProcess{t: t, cmd: cmd, env: env, log: &logLines{}, done: make(chan struct{})}
	cmd.Stderr = p.log
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the bot process: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

func (p *botProcess) pid() int { return p.cmd.Process.Pid }

func (p *botProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *botProcess) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("SIGKILL: %v", err)
	}
	<-p.done
}

// stop sends SIGTERM and checks the bot shut down cleanly (exit 0, which
// under -race also means the race detector found nothing).
func (p *botProcess) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("the bot did not stop within 30 s of SIGTERM")
	}
	if p.err != nil {
		p.t.Errorf("the bot stopped with %v, want exit status 0", p.err)
	}
}

// exitCode waits up to timeout for the process to end by itself.
func (p *botProcess) exitCode(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("the bot was still running after %s", timeout)
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	p.t.Fatalf("wait: %v", p.err)
	return -1
}

func (p *botProcess) dumpLog() {
	lines := p.log.Lines()
	if len(lines) > 200 {
		lines = lines[len(lines)-200:]
	}
	p.t.Logf("last %d log lines of bot process %d:\n%s", len(lines), p.pid(), strings.Join(lines, "\n"))
}

// processEnv is the environment of a bot process talking to fake.
func processEnv(fake *slackfake.Server, db, announce, httpAddr string) map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":              fake.AppToken(),
		"SLACK_BOT_TOKEN":              fake.BotToken(),
		"INCIDENTBOT_SLACK_API_URL":    fake.APIURL(),
		"INCIDENTBOT_DB":               db,
		"INCIDENTBOT_ANNOUNCE_CHANNEL": announce,
		"INCIDENTBOT_HTTP_ADDR":        httpAddr,
		"INCIDENTBOT_LOG_FORMAT":       "json",
		"INCIDENTBOT_LOG_LEVEL":        "debug",
		"INCIDENTBOT_UPDATE_EVERY":     "0", // no reminders: the outbox can drain to empty
		"INCIDENTBOT_SLACK_PACE":       "0", // the fake enforces no limits: no pacing
	}
}

// processWorkspace is a fake workspace for a bot process: alice, #general,
// the announce channel, and where the bot keeps its database and serves
// HTTP.
type processWorkspace struct {
	fake                     *slackfake.Server
	alice, general, announce string
	db, addr                 string
}

func newProcessWorkspace(t testing.TB, fopts slackfake.Options) *processWorkspace {
	t.Helper()
	fake := slackfake.New(fopts)
	t.Cleanup(fake.Close)
	w := &processWorkspace{fake: fake, db: filepath.Join(t.TempDir(), "incidentbot.db"), addr: freeAddr(t)}
	w.alice = fake.AddUser(slackfake.User{Name: "alice", RealName: "Alice Adams", DisplayName: "alice"})
	w.general = fake.AddChannel("general", false, w.alice)
	w.announce = fake.AddChannel("incidents", false, w.alice, fake.BotUserID())
	return w
}

// env is the environment of a bot process in the workspace.
func (w *processWorkspace) env() map[string]string {
	return processEnv(w.fake, w.db, w.announce, w.addr)
}

// base is the URL of the bot process's HTTP endpoints.
func (w *processWorkspace) base() string { return "http://" + w.addr }

// declare declares incident 1 as alice in #general with a bot process
// running, and waits for its channel and summary.
func (w *processWorkspace) declare(t testing.TB, text string) slackfake.Channel {
	t.Helper()
	declare := w.fake.SlashCommand(w.alice, w.general, text)
	waitUntil(t, w.fake, "the declare ack", 30*time.Second, func() bool { _, ok := w.fake.Ack(declare); return ok })
	var ch slackfake.Channel
	waitUntil(t, w.fake, "the incident channel and its summary", 30*time.Second, func() bool {
		c, ok := findIncidentChannel(w.fake, 1)
		ch = c
		return ok && len(botPostTexts(w.fake, c.ID)) > 0
	})
	return ch
}

// waitDrained waits until the outbox of the bot process at base is empty.
func waitDrained(t testing.TB, fake *slackfake.Server, base string) {
	t.Helper()
	waitUntil(t, fake, "the outbox to drain", 60*time.Second, func() bool {
		return metricAt(base, "incidentbot_jobs_pending") == 0
	})
}

// readyz is the bot process's /readyz answer.
func readyz(base string) (int, string) {
	code, body := httpGet(base + "/readyz")
	return code, strings.TrimSpace(body)
}

// waitReady waits until the bot process answers /readyz with 200, or has
// exited (which fails the test).
func waitReady(t testing.TB, fake *slackfake.Server, p *botProcess, base string) {
	t.Helper()
	waitUntil(t, fake, "the bot process to be ready", 60*time.Second, func() bool {
		code, _ := httpGet(base + "/readyz")
		return code == http.StatusOK || p.exited()
	})
	if p.exited() {
		t.Fatalf("the bot process exited: %v", p.err)
	}
}
