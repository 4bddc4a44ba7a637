package main

import (
	"fmt"
	"math/rand/v2"
	"os"
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

// crashSeed is the seed of the kill points: INCIDENTBOT_CRASH_SEED or the
// clock.
func crashSeed(t *testing.T) uint64 {
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
	seed := crashSeed(t)
	t.Logf("crash seed %d (rerun with INCIDENTBOT_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x1bad5eed))

	// Slack redelivers an events_api envelope that was not acked; 2 s keeps
	// redeliveries of envelopes a live bot is merely slow to ack rare.
	w := newProcessWorkspace(t, slackfake.Options{RedeliverAfter: 2 * time.Second})
	fake, alice, announce, dbPath := w.fake, w.alice, w.announce, w.db
	env := w.env()

	var procs []*botProcess
	start := func() *botProcess {
		before := fake.Connections()
		p := startProcess(t, env)
		procs = append(procs, p)
		waitUntil(t, fake, "the bot process to connect", 60*time.Second, func() bool {
			return fake.Connections() > before && fake.Connected() || p.exited()
		})
		if p.exited() {
			p.dumpLog()
			t.Fatalf("the bot process exited: %v", p.err)
		}
		return p
	}
	p := start()

	ch := w.declare(t, "declare sev2 Crash test")

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
			ok, _ := eventsAcked(fake)
			return ok
		default:
			return false
		}
	}
	const kills = 3 // Slack retries an event 3 times: one lost delivery per kill is covered
	for round := 1; round <= kills; round++ {
		base, k := acked(), 1+rng.IntN(30)
		waitUntil(t, fake, fmt.Sprintf("%d more acks before kill %d", k, round), 60*time.Second, func() bool {
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
	waitUntil(t, fake, "every event to be acked", 60*time.Second, func() bool { ok, _ := eventsAcked(fake); return ok })
	for _, ts := range msgs {
		waitUntil(t, fake, "the ✅ on pinned message "+ts, 30*time.Second, func() bool {
			return botReacted(fake, ch.ID, ts, "white_check_mark")
		})
	}
	for _, ts := range notes {
		waitUntil(t, fake, "the ✅ on TL: note "+ts, 30*time.Second, func() bool {
			return botReacted(fake, ch.ID, ts, "white_check_mark")
		})
	}
	waitDrained(t, fake, w.base())
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
		d := decodeEnvelope(t, e)
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
	posts := botPostTexts(fake, ch.ID)
	for text, want := range statusEvents {
		got := 0
		for _, p := range posts {
			if p == ":arrows_counterclockwise: "+text+"." {
				got++
			}
		}
		// Exactly once: a kill between chat.postMessage and the commit that
		// records it finds the post by its marker after the restart.
		if got != want {
			t.Errorf("%q: on the timeline %d time(s), posted %d time(s)", text, want, got)
		}
	}
	if !containsAny(botPostTexts(fake, announce), "INC-1") {
		t.Errorf("the declaration was never announced in %s", announce)
	}
}

// crasher runs the bot process and SIGKILLs it inside a Slack call that
// shows (chat.postMessage, conversations.setTopic): after Slack acted and
// before the bot hears back, the window in which it cannot know it acted.
type crasher struct {
	t      *testing.T
	w      *processWorkspace
	env    map[string]string
	mu     sync.Mutex
	p      *botProcess
	all    []*botProcess
	left   int // showing calls to let through before the next kill; 0: none
	kills  int
	killed map[*botProcess]bool
}

func (c *crasher) start() {
	c.t.Helper()
	before := c.w.fake.Connections()
	p := startProcess(c.t, c.env)
	c.mu.Lock()
	c.p, c.all = p, append(c.all, p)
	c.mu.Unlock()
	waitUntil(c.t, c.w.fake, "the bot process to connect", 60*time.Second, func() bool {
		return c.w.fake.Connections() > before && c.w.fake.Connected() || p.exited()
	})
	c.mu.Lock()
	killed := c.killed[p]
	c.mu.Unlock()
	if p.exited() && !killed {
		c.t.Fatalf("the bot process exited: %v", p.err)
	}
}

// arm makes the n-th showing call from now the last thing the bot does.
func (c *crasher) arm(n int) {
	c.mu.Lock()
	c.left = n
	c.mu.Unlock()
}

// hook is the fake's BeforeReply: it kills the bot inside the call that
// runs the countdown out, and returns once it is dead.
func (c *crasher) hook(call slackfake.Call) {
	if call.Method != "chat.postMessage" && call.Method != "conversations.setTopic" || call.Error != "" || call.Status != 200 {
		return
	}
	c.mu.Lock()
	if c.left == 0 {
		c.mu.Unlock()
		return
	}
	if c.left--; c.left > 0 {
		c.mu.Unlock()
		return
	}
	p := c.p
	c.kills++
	c.killed[p] = true
	c.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// await waits for cond, restarting the bot each time it was killed (and,
// with probability 1/3 from rng, arming the next kill: the restarted bot's
// first showing calls are those of the resumed jobs).
func (c *crasher) await(what string, rng *rand.Rand, cond func() bool) {
	c.t.Helper()
	for restarts := 0; ; restarts++ {
		waitUntil(c.t, c.w.fake, what, 60*time.Second, func() bool { return cond() || c.p.exited() })
		if !c.p.exited() {
			return
		}
		c.mu.Lock()
		killed := c.kills
		c.mu.Unlock()
		if restarts >= killed {
			c.t.Fatalf("the bot process exited by itself: %v", c.p.err)
		}
		c.t.Logf("kill %d (%s): restarting", killed, what)
		if rng.IntN(3) == 0 {
			c.arm(1 + rng.IntN(2))
		}
		c.start()
	}
}
