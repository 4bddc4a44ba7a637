package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// ftHelperEnv marks the test binary re-executed as the bot.
const ftHelperEnv = "INCIDENTBOT_TEST_RUN_BOT"

// TestCrashHelperProcess is not a test: it is the bot (`incidentbot run`,
// configured from the environment) when the fault tests re-execute the test
// binary, so they can SIGKILL it or starve it of disk. It does nothing in a
// normal test run.
func TestCrashHelperProcess(t *testing.T) {
	if os.Getenv(ftHelperEnv) != "1" {
		return
	}
	os.Exit(realMain([]string{"run"}, io.Discard, os.Stderr))
}

// botProcess is the real bot running as a child process.
type botProcess struct {
	t    testing.TB
	cmd  *exec.Cmd
	env  map[string]string
	log  *ftLog // its stderr: the JSON log
	done chan struct{}
	err  error // from Wait, once done is closed
}

// ftStartProcess starts `incidentbot run` in a child process with env (on
// top of this process's environment minus any incidentbot and Slack
// variables). Its stderr goes through a pipe, never a file, so a file size
// limit set on it cannot stop it from logging.
func ftStartProcess(t testing.TB, env map[string]string) *botProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "INCIDENTBOT_") || strings.HasPrefix(k, "SLACK_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, ftHelperEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &botProcess{t: t, cmd: cmd, env: env, log: &ftLog{}, done: make(chan struct{})}
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

// ftProcessEnv is the environment of a bot process talking to fake.
func ftProcessEnv(fake *slackfake.Server, db, announce, httpAddr string) map[string]string {
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
	}
}

// ftCrashSeed is the seed of the kill points: INCIDENTBOT_CRASH_SEED or the
// clock.
func ftCrashSeed(t *testing.T) uint64 {
	if s := os.Getenv("INCIDENTBOT_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("INCIDENTBOT_CRASH_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestCrashLosesNothing runs the real bot as a child process, sends it a
// stream of pins, TL: notes and status changes, SIGKILLs it at random
// moments (after a random number of acks) and restarts it on the same
// database. Every envelope the fake saw acked must be applied exactly once,
// every event Slack redelivered after a kill too, and every side effect a
// killed bot left unfinished (the ✅ on a captured message, a channel post)
// must happen after the restart.
func TestCrashLosesNothing(t *testing.T) {
	seed := ftCrashSeed(t)
	t.Logf("crash seed %d (rerun with INCIDENTBOT_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x1bad5eed))

	// Slack redelivers an events_api envelope that was not acked; 2 s keeps
	// redeliveries of envelopes a live bot is merely slow to ack rare.
	fake := slackfake.New(slackfake.Options{RedeliverAfter: 2 * time.Second})
	t.Cleanup(fake.Close)
	alice := fake.AddUser(slackfake.User{Name: "alice", RealName: "Alice Adams", DisplayName: "alice"})
	general := fake.AddChannel("general", false, alice)
	announce := fake.AddChannel("incidents", false, alice, fake.BotUserID())
	dbPath := filepath.Join(t.TempDir(), "incidentbot.db")
	httpAddr := ftFreeAddr(t)
	env := ftProcessEnv(fake, dbPath, announce, httpAddr)

	var procs []*botProcess
	start := func() *botProcess {
		before := fake.Connections()
		p := ftStartProcess(t, env)
		procs = append(procs, p)
		ftWait(t, fake, "the bot process to connect", 60*time.Second, func() bool {
			return fake.Connections() > before && fake.Connected() || p.exited()
		})
		if p.exited() {
			p.dumpLog()
			t.Fatalf("the bot process exited: %v", p.err)
		}
		return p
	}
	p := start()

	declare := fake.SlashCommand(alice, general, "declare sev2 Crash test")
	ftWait(t, fake, "the declare ack", 30*time.Second, func() bool { _, ok := fake.Ack(declare); return ok })
	var ch slackfake.Channel
	ftWait(t, fake, "the incident channel and its summary", 30*time.Second, func() bool {
		c, ok := ftIncidentChannel(fake, 1)
		ch = c
		return ok && len(ftBotPosts(fake, c.ID)) > 0
	})

	const n = 60
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fake.PostMessage(alice, ch.ID, fmt.Sprintf("crash message %02d", i))
	}

	// The stream: a pin on each message; every 8th step a TL: note; every
	// 12th a status change (alternating, so each one is a real change).
	var mu sync.Mutex
	var notes []string    // ts of TL: notes
	var commands []string // envelope ids of status commands
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		tick := time.NewTicker(15 * time.Millisecond)
		defer tick.Stop()
		statuses := []string{"identified", "monitoring"}
		for i := range n {
			<-tick.C
			fake.AddReaction(alice, ch.ID, msgs[i], "pushpin")
			if i%8 == 7 {
				ts := fake.PostMessage(alice, ch.ID, fmt.Sprintf("TL: crash note %02d", i))
				mu.Lock()
				notes = append(notes, ts)
				mu.Unlock()
			}
			if i%12 == 11 {
				id := fake.SlashCommand(alice, ch.ID, "status "+statuses[(i/12)%2])
				mu.Lock()
				commands = append(commands, id)
				mu.Unlock()
			}
		}
	}()

	acked := func() int {
		k := 0
		for _, e := range fake.Envelopes() {
			if e.Acked {
				k++
			}
		}
		return k
	}
	streamOver := func() bool {
		select {
		case <-streamDone:
			ok, _ := ftEventsAcked(fake)
			return ok
		default:
			return false
		}
	}
	const kills = 3 // Slack retries an event 3 times: one lost delivery per kill is covered
	for round := 1; round <= kills; round++ {
		base, k := acked(), 1+rng.IntN(30)
		ftWait(t, fake, fmt.Sprintf("%d more acks before kill %d", k, round), 60*time.Second, func() bool {
			return acked() >= base+k || streamOver()
		})
		p.kill()
		t.Logf("kill %d: SIGKILL after %d more acks (%d acked in all); restarting", round, acked()-base, acked())
		p = start()
	}
	<-streamDone
	// Slack's own retries of events whose ack a crash lost can come after
	// the restart, when the event is already applied: send some.
	for i, e := range fake.Envelopes() {
		if e.Type == "events_api" && e.Acked && i%7 == 0 {
			fake.Redeliver(e.ID)
		}
	}

	// Let the last bot finish: every event acked in some delivery, every
	// capture confirmed, the outbox empty.
	ftWait(t, fake, "every event to be acked", 60*time.Second, func() bool { ok, _ := ftEventsAcked(fake); return ok })
	for _, ts := range msgs {
		ftWait(t, fake, "the ✅ on pinned message "+ts, 30*time.Second, func() bool {
			return ftBotReacted(fake, ch.ID, ts, "white_check_mark")
		})
	}
	for _, ts := range notes {
		ftWait(t, fake, "the ✅ on TL: note "+ts, 30*time.Second, func() bool {
			return ftBotReacted(fake, ch.ID, ts, "white_check_mark")
		})
	}
	ftWait(t, fake, "the outbox to drain", 60*time.Second, func() bool {
		_, body := ftGet("http://" + httpAddr + "/metrics")
		return ftMetric(body, "incidentbot_jobs_pending") == 0
	})
	p.stop()

	db, err := store.Open(dbPath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open the database read-only: %v", err)
	}
	defer func() { _ = db.Close() }()
	var (
		entries []incident.Entry
		jobs    int
		dead    []store.DeadLetter
		incs    []*incident.Incident
	)
	if err := db.View(func(tx *store.Tx) error {
		var err error
		if incs, err = tx.Incidents(); err != nil {
			return err
		}
		if entries, err = tx.Timeline(1); err != nil {
			return err
		}
		jobs = tx.JobCount()
		dead, err = tx.DeadLetters()
		return err
	}); err != nil {
		t.Fatalf("read the database: %v", err)
	}
	if len(incs) != 1 {
		t.Errorf("%d incidents, want 1", len(incs))
	}
	if jobs != 0 {
		t.Errorf("%d jobs left in the outbox", jobs)
	}
	for _, d := range dead {
		t.Errorf("dead letter: %s %s: %s", d.Type, d.Envelope, d.Error)
	}
	bySource := map[string][]incident.Entry{}
	for _, e := range entries {
		if e.Source != "" {
			bySource[e.Source] = append(bySource[e.Source], e)
		}
	}

	// Every acked envelope, and every event (acked in some delivery), is
	// applied exactly once.
	ackedPins, ackedNotes := 0, 0
	for _, e := range fake.Envelopes() {
		if e.Type != "events_api" {
			continue
		}
		d := ftDecode(t, e)
		switch {
		case e.EventType == "reaction_added" && d.Payload.Event.Reaction == "pushpin":
			if e.Acked {
				ackedPins++
			}
			got := bySource[ch.ID+"/"+d.Payload.Event.Item.TS]
			if len(got) != 1 {
				t.Errorf("pin of %s (envelope %s, retry %d, acked %v): %d timeline entries, want 1",
					d.Payload.Event.Item.TS, e.ID, e.RetryAttempt, e.Acked, len(got))
			}
		case e.EventType == "message" && strings.HasPrefix(d.Payload.Event.Text, "TL:"):
			if e.Acked {
				ackedNotes++
			}
			if got := bySource[ch.ID+"/"+d.Payload.Event.TS]; len(got) != 1 {
				t.Errorf("TL: note %s (envelope %s, acked %v): %d timeline entries, want 1", d.Payload.Event.TS, e.ID, e.Acked, len(got))
			}
		}
	}
	lost, retries := 0, 0
	for _, e := range fake.Envelopes() {
		if e.Sent && !e.Acked {
			lost++
		}
		if e.RetryAttempt > 0 {
			retries++
		}
	}
	t.Logf("%d envelopes: %d delivered to a bot that died before acking, %d redeliveries; %d acked pin and %d acked TL: note deliveries",
		len(fake.Envelopes()), lost, retries, ackedPins, ackedNotes)
	dupes, resumed := 0, 0
	for _, p := range procs {
		for _, line := range p.log.Lines() {
			if strings.Contains(line, "redelivered envelope: already applied") {
				dupes++
			}
			if strings.Contains(line, "resuming work left in the outbox") {
				resumed++
			}
		}
	}
	t.Logf("%d redeliveries of already applied envelopes were recognised; %d restarts resumed unfinished jobs", dupes, resumed)
	if dupes == 0 {
		t.Errorf("no redelivery was recognised as already applied (the log says %q for each)", "redelivered envelope: already applied")
	}
	for i, ts := range msgs {
		got := bySource[ch.ID+"/"+ts]
		if len(got) != 1 {
			continue // reported above
		}
		e := got[0]
		if e.Kind != incident.KindMessage || e.Pending || e.Text != fmt.Sprintf("crash message %02d", i) {
			t.Errorf("entry for message %d = %+v, want the fetched message", i, e)
		}
	}
	for _, ts := range notes {
		if got := bySource[ch.ID+"/"+ts]; len(got) == 1 && got[0].Kind != incident.KindNote {
			t.Errorf("TL: note %s stored as %s", ts, got[0].Kind)
		}
	}

	// Status commands: an acked one with no error answer was applied; an
	// unacked one (killed before the ack; Slack told the user it timed out)
	// may or may not have been. Whatever was applied has its channel post.
	appliedAcked := 0
	for _, id := range commands {
		if a, ok := fake.Ack(id); ok && len(a.Payload) == 0 {
			appliedAcked++
		}
	}
	statusEvents := map[string]int{}
	total := 0
	for _, e := range entries {
		if e.Kind == incident.KindEvent && e.Event == "status" {
			statusEvents[e.Text]++
			total++
		}
	}
	if total < appliedAcked || total > len(commands) {
		t.Errorf("%d status changes on the timeline; %d commands sent, %d acked as done", total, len(commands), appliedAcked)
	}
	posts := ftBotPosts(fake, ch.ID)
	for text, want := range statusEvents {
		got := 0
		for _, p := range posts {
			if p == ":arrows_counterclockwise: "+text+"." {
				got++
			}
		}
		switch {
		case got < want:
			t.Errorf("%q: on the timeline %d time(s), posted %d time(s)", text, want, got)
		case got > want:
			// At least once: a kill between chat.postMessage and the commit
			// that records it repeats the post after the restart.
			t.Logf("%q: posted %d time(s) for %d change(s) (a kill fell between the post and its commit)", text, got, want)
		}
	}
	if !containsAny(ftBotPosts(fake, announce), "INC-1") {
		t.Errorf("the declaration was never announced in %s", announce)
	}
}

func containsAny(texts []string, part string) bool {
	for _, s := range texts {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}
