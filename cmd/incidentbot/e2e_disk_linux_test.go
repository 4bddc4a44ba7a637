package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// limitFileSize sets the RLIMIT_FSIZE soft limit of process pid (the
// largest file it may write) and returns the old limit. With the limit
// below the database's size every bbolt commit fails to write its pages
// (EFBIG, "file too large"), as on a full disk (ENOSPC): the same failed
// write(2) to bbolt. The test runs the bot in a child process, so the limit
// cannot touch the test binary's own files.
func limitFileSize(t testing.TB, pid int, limit uint64) (old syscall.Rlimit) {
	t.Helper()
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE,
		0, uintptr(unsafe.Pointer(&old)), 0, 0); errno != 0 {
		t.Fatalf("prlimit(%d) read: %v", pid, errno)
	}
	set := syscall.Rlimit{Cur: min(limit, old.Max), Max: old.Max}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE,
		uintptr(unsafe.Pointer(&set)), 0, 0, 0); errno != 0 {
		t.Fatalf("prlimit(%d) set: %v", pid, errno)
	}
	return old
}

// TestDiskTroubleWithholdsAcksAndRecovers: the bot's database stops taking
// writes. The bot withholds the acks of the events it cannot save, so Slack
// redelivers them; tells a user running a command that nothing was done;
// says so in its log and on /readyz; and, when the disk takes writes
// again, applies Slack's redelivery and is ready again. Nothing is lost.
func TestDiskTroubleWithholdsAcksAndRecovers(t *testing.T) {
	fake, p, ch, alice, base := diskBot(t, slackfake.Options{RedeliverAfter: 2 * time.Second})
	msg := fake.PostMessage(alice, ch.ID, "/var is at 100%")
	waitUntil(t, fake, "the message to be acked", 30*time.Second, func() bool { ok, _ := eventsAcked(fake); return ok })

	// The disk fills up.
	old := limitFileSize(t, p.pid(), 0)
	fake.AddReaction(alice, ch.ID, msg, "pushpin")
	waitUntil(t, fake, "the bot to say its database writes fail", 30*time.Second, func() bool {
		code, body := readyz(base)
		return code == http.StatusServiceUnavailable && body == "database writes are failing" &&
			p.log.Has("cannot write to the database", "not acked") && p.log.Has("withheld acks")
	})
	for _, line := range p.log.Lines() {
		if strings.Contains(line, "cannot write to the database") {
			t.Logf("the bot logged: %s", line)
		}
	}
	pins := eventEnvelopes(t, fake, "reaction_added", msg)
	if len(pins) != 1 || pins[0].Acked {
		t.Fatalf("the pin's envelope: %+v; want one, not acked", pins)
	}
	// A slash command is not redelivered by Slack: its user is told.
	cmd := fake.SlashCommand(alice, ch.ID, "note written while the disk was full")
	var answer string
	waitUntil(t, fake, "the note's ack", 30*time.Second, func() bool {
		a, ok := fake.Ack(cmd)
		answer = ackText(string(a.Payload))
		return ok
	})
	if !strings.Contains(answer, "cannot save to its database right now, so this was not done") {
		t.Errorf("note while the disk is full answered %q", answer)
	}
	// Slack redelivers the pin; it still cannot be saved.
	waitUntil(t, fake, "Slack's redelivery of the pin to be withheld too", 30*time.Second, func() bool {
		return metricAt(base, `incidentbot_envelopes_withheld_total{type="events_api"}`) >= 2
	})
	if anyAcked(eventEnvelopes(t, fake, "reaction_added", msg)) {
		t.Fatalf("a pin the bot could not save was acked")
	}

	// The disk has room again.
	limitFileSize(t, p.pid(), old.Cur)
	waitUntil(t, fake, "Slack's next redelivery of the pin to be applied", 30*time.Second, func() bool {
		return anyAcked(eventEnvelopes(t, fake, "reaction_added", msg))
	})
	waitUntil(t, fake, "the bot to be ready again", 30*time.Second, func() bool {
		code, body := readyz(base)
		return code == http.StatusOK && body == "ok"
	})
	if !p.log.Has("database writes work again") {
		t.Errorf("the log does not say the database works again")
	}
	waitUntil(t, fake, "the ✅ on the pinned message", 30*time.Second, func() bool {
		return botReacted(fake, ch.ID, msg, "white_check_mark")
	})
	waitDrained(t, fake, base)
	p.stop()

	db, err := store.Open(p.env["INCIDENTBOT_DB"], store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open the database read-only: %v", err)
	}
	defer func() { _ = db.Close() }()
	if err := db.View(func(tx *store.Tx) error {
		entries, err := tx.Timeline(1)
		pinned, notes := 0, 0
		for _, e := range entries {
			if e.Source == ch.ID+"/"+msg {
				pinned++
				if e.Pending || e.Text != "/var is at 100%" {
					t.Errorf("pinned entry = %+v", e)
				}
			}
			if e.Kind == incident.KindNote && strings.Contains(e.Text, "disk was full") {
				notes++
			}
		}
		if pinned != 1 {
			t.Errorf("the pinned message is on the timeline %d times, want 1", pinned)
		}
		if notes != 0 {
			t.Errorf("the note the user was told was not saved is on the timeline")
		}
		return err
	}); err != nil {
		t.Fatalf("read the database: %v", err)
	}
}

// diskBot starts a bot process on a fresh fake with an incident
// declared and its outbox drained; it returns the process, the incident
// channel and the base URL of its HTTP endpoints.
func diskBot(t *testing.T, fopts slackfake.Options) (*slackfake.Server, *botProcess, slackfake.Channel, string, string) {
	t.Helper()
	w := newProcessWorkspace(t, fopts)
	p := startProcess(t, w.env())
	waitReady(t, w.fake, p, w.base())
	ch := w.declare(t, "declare sev2 Disk trouble")
	waitDrained(t, w.fake, w.base())
	return w.fake, p, ch, w.alice, w.base()
}

// TestDiskTroubleWhileJobsFinish: Slack was down, so an answer to a user
// (an ephemeral, which causes no event) waits in the outbox; the disk
// fills up just as Slack comes back. The answer goes out, but the bot
// cannot record that it did: it must retry the commit (not the Slack call),
// and say on /readyz, not only in its log, that its database writes fail,
// although no envelope arrives to find out.
func TestDiskTroubleWhileJobsFinish(t *testing.T) {
	fake, p, ch, alice, base := diskBot(t, slackfake.Options{})
	since := time.Now()
	fake.FailAll(slackfake.Fault{Status: 500})
	fake.PostMessage(alice, ch.ID, "TL:") // answered with an ephemeral: it needs a text
	waitUntil(t, fake, "a failed attempt at the answer", 30*time.Second, func() bool {
		for _, c := range fake.Calls("chat.postEphemeral") {
			if c.Status == 500 && !c.Time.Before(since) {
				return true
			}
		}
		return false
	})
	old := limitFileSize(t, p.pid(), 0)
	fake.ClearFaults()
	waitUntil(t, fake, "the bot to log the failed commit", 30*time.Second, func() bool {
		return p.log.Has("could not record a finished job")
	})
	if code, body := readyz(base); code != http.StatusServiceUnavailable || body != "database writes are failing" {
		t.Errorf("/readyz = %d %q while the bot cannot commit, want 503 %q", code, body, "database writes are failing")
	}
	limitFileSize(t, p.pid(), old.Cur)
	waitDrained(t, fake, base)
	if code, body := readyz(base); code != http.StatusOK {
		t.Errorf("/readyz = %d %q after the disk recovered", code, body)
	}
	sent := 0
	for _, c := range fake.Calls("chat.postEphemeral") {
		if c.Status == 200 && c.Error == "" && !c.Time.Before(since) {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("the answer was sent %d times, want once (only the commit is retried)", sent)
	}
	p.stop()
}

// TestReadyzRecoversWithTheDisk: the only thing the bot failed to save was
// a slash command, which Slack does not redeliver. When the disk has room
// again, /readyz must say so without waiting for the next Slack event
// (which may be hours away in a quiet workspace).
func TestReadyzRecoversWithTheDisk(t *testing.T) {
	fake, p, ch, alice, base := diskBot(t, slackfake.Options{})
	old := limitFileSize(t, p.pid(), 0)
	cmd := fake.SlashCommand(alice, ch.ID, "note the disk is full")
	waitUntil(t, fake, "the note's ack", 30*time.Second, func() bool { _, ok := fake.Ack(cmd); return ok })
	waitUntil(t, fake, "/readyz to report the failing database", 30*time.Second, func() bool {
		code, body := readyz(base)
		return code == http.StatusServiceUnavailable && body == "database writes are failing"
	})
	limitFileSize(t, p.pid(), old.Cur)
	// A generous bound: no envelope will come to show the bot the disk works.
	waitUntil(t, fake, "/readyz to recover with the disk, with no envelope since", 15*time.Second, func() bool {
		code, _ := readyz(base)
		return code == http.StatusOK
	})
	p.stop()
}
