package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// These tests drive the timeline the way responders do: /incident note,
// TL: messages, mentions, /incident timeline (pins are in
// e2e_timeline_pins_test.go), and read back what they would see (reactions,
// ephemerals) and what the bot recorded.

func TestTimelineNoteCommand(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 DNS trouble")

	t.Run("now", func(t *testing.T) {
		before := time.Now()
		ack := h.slash(h.alice, ch.ID, "note Rolled back")
		after := time.Now()
		out := ackText(ack)
		if !strings.Contains(ack, `"ephemeral"`) {
			t.Errorf("the reply is not ephemeral: %s", ack)
		}
		e, ok := h.timelineNote(1, "Rolled back")
		if !ok {
			t.Fatalf("no timeline entry for the note; reply was %q", out)
		}
		if e.At.Before(before) || e.At.After(after) {
			t.Errorf("at = %s, want the time the note was written (%s – %s)", e.At, before, after)
		}
		if e.Kind != incident.KindNote || e.Author.ID != h.alice {
			t.Errorf("entry = %+v, want a note by alice", e)
		}
		if !containsAll(out, "Added to the INC-1 timeline", incident.FormatTime(e.At)) {
			t.Errorf("reply = %q, want it to name the time %s", out, incident.FormatTime(e.At))
		}
	})

	t.Run("backdated", func(t *testing.T) {
		at := time.Now().UTC().Add(-30 * time.Minute)
		want := at.Truncate(time.Minute)
		out := ackText(h.slash(h.alice, ch.ID, "note --at "+at.Format("15:04")+" DNS changed"))
		e, ok := h.timelineNote(1, "DNS changed")
		if !ok {
			t.Fatalf("no timeline entry for the backdated note; reply was %q", out)
		}
		if !e.At.Equal(want) {
			t.Errorf("at = %s, want %s", e.At, want)
		}
		if !containsAll(out, "Added to the INC-1 timeline", incident.FormatTime(want)) {
			t.Errorf("reply = %q, want the recorded time %s", out, incident.FormatTime(want))
		}
		// It takes its place in time, before the declaration and the
		// earlier-written note.
		tl := ackText(h.slash(h.alice, ch.ID, "timeline"))
		dns, rolled, declared := strings.Index(tl, "DNS changed"), strings.Index(tl, "Rolled back"), strings.Index(tl, "declared")
		if dns < 0 || rolled < 0 || declared < 0 || dns > rolled || dns > declared {
			t.Errorf("the backdated note is out of order:\n%s", tl)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, text string
			want       []string
		}{
			{"impossible time", "note --at 25:99 Bad clock note", []string{":warning:", "25", "10:28"}},
			{"empty", "note", []string{":warning:", "empty", "note Rolled back"}},
			{"only spaces", "note    ", []string{":warning:", "empty"}},
			{"time but no text", "note --at " + time.Now().UTC().Add(-10*time.Minute).Format("15:04"), []string{":warning:", "empty"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(h.timeline(1))
				ack := h.slash(h.alice, ch.ID, tc.text)
				if !strings.Contains(ack, `"ephemeral"`) {
					t.Errorf("reply to %q is not ephemeral: %s", tc.text, ack)
				}
				if out := ackText(ack); !containsAll(out, tc.want...) {
					t.Errorf("reply to %q = %q, want %q", tc.text, out, tc.want)
				}
				if n := len(h.timeline(1)); n != before {
					t.Errorf("%q added %d timeline entries", tc.text, n-before)
				}
			})
		}
	})
}

func TestTimelinePrefixMessage(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Cache stampede")
	ts := h.fake.PostMessage(h.alice, ch.ID, "TL: cache flushed")
	e := h.waitEntry(1, ch.ID, ts, "the TL: message on the timeline", func(incident.Entry) bool { return true })
	if e.Kind != incident.KindNote || e.Text != "cache flushed" || e.Author.ID != h.alice {
		t.Errorf("entry = %+v, want alice's note %q", e, "cache flushed")
	}
	if !e.At.Equal(tsTime(t, ts)) {
		t.Errorf("at = %s, want the message's time", e.At)
	}
	h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)

	// Slack redelivers the message: still one note.
	envs := h.envelopes("message", ts)
	if len(envs) == 0 {
		t.Fatal("no message envelope for the TL: message")
	}
	h.waitAck(h.fake.Redeliver(envs[0].ID))
	h.idle()
	if n := h.countText(1, "cache flushed"); n != 1 {
		t.Errorf("%d notes after a redelivery, want 1", n)
	}

	// An edit updates the note (still without the prefix); a deletion
	// takes it out of what people read.
	h.fake.EditMessage(h.alice, ch.ID, ts, "TL: cache flushed on all nodes")
	e = h.waitEntry(1, ch.ID, ts, "the edited note", func(e incident.Entry) bool { return e.Text == "cache flushed on all nodes" })
	if len(e.History) != 1 || e.History[0].Text != "cache flushed" {
		t.Errorf("history = %+v, want the old text without the prefix", e.History)
	}
	h.fake.DeleteMessage(h.alice, ch.ID, ts)
	h.waitEntry(1, ch.ID, ts, "the deleted note", func(e incident.Entry) bool { return e.Deleted })
	if out := ackText(h.slash(h.alice, ch.ID, "timeline")); strings.Contains(out, "cache flushed") {
		t.Errorf("/incident timeline shows a deleted note:\n%s", out)
	}

	// Ordinary chat is not captured.
	plain := h.fake.PostMessage(h.alice, ch.ID, "cache looks fine now, TL: later")
	h.waitProcessed("message", plain)
	h.idle()
	if _, ok := h.timelineEntry(1, ch.ID, plain); ok {
		t.Errorf("an ordinary message went onto the timeline")
	}
	if m, _ := h.fake.Message(ch.ID, plain); len(m.Reactions) != 0 {
		t.Errorf("the bot reacted to an ordinary message: %v", m.Reactions)
	}
	for _, e := range h.timeline(1) {
		if strings.Contains(e.Text, "cache looks fine") {
			t.Errorf("an ordinary message went onto the timeline: %+v", e)
		}
	}
}

// "TL:" with nothing after it is not a note: /incident note refuses an
// empty note, and the prefix should not record one either.
func TestTimelinePrefixAloneIsNotANote(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Cache stampede")
	before := len(h.timeline(1))
	ts := h.fake.PostMessage(h.alice, ch.ID, "TL:   ")
	h.waitProcessed("message", ts)
	h.idle()
	for _, e := range h.timeline(1) {
		if e.Source == ch.ID+"/"+ts {
			t.Errorf("an empty TL: message was recorded as a note: %+v", e)
		}
	}
	if n := len(h.timeline(1)); n != before {
		t.Errorf("the timeline grew by %d", n-before)
	}
	if m, _ := h.fake.Message(ch.ID, ts); len(m.Reactions["white_check_mark"]) != 0 {
		t.Errorf("the bot confirmed an empty TL: message with ✅")
	}
}

// A TL: note is on the timeline because of its prefix: a pin added and
// taken off again must not take it away.
func TestTimelinePrefixNoteSurvivesPinAndUnpin(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Cache stampede")
	h.fake.JoinChannel(h.bob, ch.ID)
	ts := h.fake.PostMessage(h.alice, ch.ID, "TL: cache flushed")
	h.waitEntry(1, ch.ID, ts, "the TL: message on the timeline", func(incident.Entry) bool { return true })
	h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)

	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	h.waitProcessed("reaction_added", ts)
	h.fake.RemoveReaction(h.bob, ch.ID, ts, "pushpin")
	h.waitProcessed("reaction_removed", ts)
	h.idle()

	var notes []incident.Entry
	for _, e := range h.timeline(1) {
		if e.Text == "cache flushed" {
			notes = append(notes, e)
		}
	}
	if len(notes) != 1 {
		t.Errorf("%d timeline entries for the TL: note after a pin and unpin, want 1", len(notes))
	}
	if m, _ := h.fake.Message(ch.ID, ts); !slices.Contains(m.Reactions["white_check_mark"], h.fake.BotUserID()) {
		t.Errorf("the bot's ✅ went from the TL: note after bob unpinned it: %v", m.Reactions)
	}
}

func TestTimelineMentionInThread(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Queue backlog")
	h.fake.JoinChannel(h.bob, ch.ID)
	parent := h.fake.PostMessage(h.alice, ch.ID, "Backlog at 2M messages")
	reply := h.fake.PostMessage(h.bob, ch.ID, "<@"+h.fake.BotUserID()+"> note from a thread", slackfake.InThread(parent))

	var e incident.Entry
	h.waitFor("the note from the thread", func() bool {
		var ok bool
		e, ok = h.timelineNote(1, "from a thread")
		return ok
	})
	if e.Author.ID != h.bob || e.Kind != incident.KindNote {
		t.Errorf("entry = %+v, want bob's note", e)
	}
	if !e.At.Equal(tsTime(t, reply)) {
		t.Errorf("at = %s, want the mention's time %s", e.At, tsTime(t, reply))
	}
	got := h.ExpectEphemeral(h.bob, "Added to the INC-1 timeline")
	if got.Channel != ch.ID || got.ThreadTS != parent {
		t.Errorf("answer went to channel %s thread %q, want %s thread %s", got.Channel, got.ThreadTS, ch.ID, parent)
	}
	h.idle()
	for _, m := range h.fake.Ephemerals(h.alice) {
		if strings.Contains(m.Text, "Added to the INC-1 timeline") {
			t.Errorf("alice was shown bob's answer: %q", m.Text)
		}
	}
	for _, m := range h.fake.Messages(ch.ID) {
		if m.BotID != "" && strings.Contains(m.Text, "Added to the") {
			t.Errorf("the answer was posted for everyone: %q", m.Text)
		}
	}
}

func TestTimelineCommandPages(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Long incident")
	const notes = 26
	for i := 1; i <= notes; i++ {
		h.slash(h.alice, ch.ID, fmt.Sprintf("note step %02d", i))
	}
	dated := regexp.MustCompile("`[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}`")

	first := ackText(h.slash(h.alice, ch.ID, "timeline"))
	if !containsAll(first, "INC-1 timeline", "page 1 of 2", "step 01", "/incident timeline 2") {
		t.Errorf("page 1:\n%s", first)
	}
	if strings.Contains(first, "step 26") {
		t.Errorf("page 1 shows the last note:\n%s", first)
	}
	if n := len(dated.FindAllString(first, -1)); n != 25 {
		t.Errorf("page 1 has %d dated lines, want 25:\n%s", n, first)
	}
	if e, ok := h.timelineNote(1, "step 01"); !ok {
		t.Errorf("no entry for the first note")
	} else if want := "`" + e.At.UTC().Format("2006-01-02 15:04") + "`"; !strings.Contains(first, want+" <@"+h.alice+"> step 01") {
		t.Errorf("page 1 does not show the first note's date and time %s:\n%s", want, first)
	}

	second := ackText(h.slash(h.alice, ch.ID, "timeline 2"))
	if !containsAll(second, "page 2 of 2", "step 26") || strings.Contains(second, "step 01") {
		t.Errorf("page 2:\n%s", second)
	}
	if len(dated.FindAllString(second, -1)) == 0 {
		t.Errorf("page 2 has no dated lines:\n%s", second)
	}

	for _, tc := range []struct{ arg, want string }{
		{"3", "2 page"},
		{"two", "not a page number"},
	} {
		if out := ackText(h.slash(h.alice, ch.ID, "timeline "+tc.arg)); !containsAll(out, ":warning:", tc.want) {
			t.Errorf("timeline %s = %q, want %q", tc.arg, out, tc.want)
		}
	}
}

func TestTimelineIgnoresOtherChannels(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	ops := h.fake.AddChannel("ops", false, h.alice, h.bob, h.fake.BotUserID())
	before := len(h.timeline(1))

	pinned := h.fake.PostMessage(h.alice, ops, "Unrelated deploy finished")
	h.fake.AddReaction(h.alice, ops, pinned, "pushpin")
	prefixed := h.fake.PostMessage(h.alice, ops, "TL: not an incident")
	h.waitProcessed("reaction_added", pinned)
	h.waitProcessed("message", prefixed)
	h.idle()

	for _, ts := range []string{pinned, prefixed} {
		if m, _ := h.fake.Message(ops, ts); len(m.Reactions["white_check_mark"]) != 0 {
			t.Errorf("the bot confirmed a message outside any incident: %v", m.Reactions)
		}
	}
	if n := len(h.timeline(1)); n != before {
		t.Errorf("INC-1's timeline grew by %d from another channel", n-before)
	}

	// In the incident channel, other reactions are just reactions.
	eyes := h.fake.PostMessage(h.alice, ch.ID, "Looking into it")
	h.fake.AddReaction(h.alice, ch.ID, eyes, "eyes")
	h.waitProcessed("reaction_added", eyes)
	h.idle()
	if _, ok := h.timelineEntry(1, ch.ID, eyes); ok {
		t.Errorf("an :eyes: reaction put a message on the timeline")
	}
	if m, _ := h.fake.Message(ch.ID, eyes); len(m.Reactions["white_check_mark"]) != 0 {
		t.Errorf("the bot confirmed a message nobody pinned: %v", m.Reactions)
	}
}
