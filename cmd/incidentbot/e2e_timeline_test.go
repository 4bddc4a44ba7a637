package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// These tests drive the timeline the way responders do: reactions,
// edits and deletions of messages, TL: messages, mentions and /incident
// note, and read back what they would see (reactions, ephemerals, the
// draft) and what the bot recorded.

func TestTimelinePinCapturesMessage(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	// Carol's display name differs from her handle and real name, so the
	// entry shows which one the bot picked.
	carol := h.fake.AddUser(slackfake.User{Name: "carol", RealName: "Carol Chen", DisplayName: "cc-oncall"})
	h.fake.JoinChannel(carol, ch.ID)
	ts := h.fake.PostMessage(carol, ch.ID, "Error rate on checkout is 40% since the deploy")
	h.fake.PostMessage(h.alice, ch.ID, "looking at the dashboards")
	h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")

	e := h.tlWaitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
	if e.Kind != incident.KindMessage {
		t.Errorf("kind = %q, want %q", e.Kind, incident.KindMessage)
	}
	if e.Text != "Error rate on checkout is 40% since the deploy" {
		t.Errorf("text = %q", e.Text)
	}
	if e.Author.ID != carol || e.Author.Name != "cc-oncall" {
		t.Errorf("author = %+v, want %s with her display name cc-oncall", e.Author, carol)
	}
	if want := tlTSTime(t, ts); !e.At.Equal(want) {
		t.Errorf("at = %s, want the message's own time %s (not when it was pinned)", e.At, want)
	}
	if want := "https://fake.slack.com/archives/" + ch.ID + "/p" + strings.Replace(ts, ".", "", 1); e.Link != want {
		t.Errorf("link = %q, want %q", e.Link, want)
	}
	if !slices.Contains(e.PinnedBy, h.alice+":pushpin") {
		t.Errorf("pinned by = %v, want alice", e.PinnedBy)
	}
	h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)

	// /incident timeline shows it, with its author and link.
	out := ackText(h.slash(h.alice, ch.ID, "timeline"))
	if !containsAll(out, "Error rate on checkout is 40% since the deploy", "<@"+carol+">", "|link>") {
		t.Errorf("/incident timeline lacks the captured message:\n%s", out)
	}
}

func TestTimelinePinTwiceAndRedeliveryKeepOneEntry(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	ts := h.fake.PostMessage(h.alice, ch.ID, "Rolled out 1.42 to FRA")
	h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
	h.tlWaitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
	h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)

	// Bob pins it as well, and Slack redelivers alice's reaction.
	h.fake.JoinChannel(h.bob, ch.ID)
	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	first := h.tlEnvelopes("reaction_added", ts)
	if len(first) == 0 {
		t.Fatal("no reaction_added envelope for the pinned message")
	}
	h.waitAck(h.fake.Redeliver(first[0].ID))
	h.tlProcessed("reaction_added", ts)
	h.idle()

	var found []incident.Entry
	for _, e := range h.tlEntries(1) {
		if e.Source == ch.ID+"/"+ts {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d timeline entries for the message, want exactly 1: %+v", len(found), found)
	}
	if !slices.Contains(found[0].PinnedBy, h.alice+":pushpin") || !slices.Contains(found[0].PinnedBy, h.bob+":pushpin") {
		t.Errorf("pinned by = %v, want alice and bob", found[0].PinnedBy)
	}
	if n := strings.Count(ackText(h.slash(h.alice, ch.ID, "timeline")), "Rolled out 1.42 to FRA"); n != 1 {
		t.Errorf("/incident timeline shows the message %d times, want once", n)
	}
}

func TestTimelinePinThreadReply(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Replica lag")
	h.fake.JoinChannel(h.bob, ch.ID)
	parent := h.fake.PostMessage(h.alice, ch.ID, "What does the replica say?")
	reply := h.fake.PostMessage(h.bob, ch.ID, "Replica lag is 30s and climbing", slackfake.InThread(parent))
	h.fake.AddReaction(h.alice, ch.ID, reply, "pushpin")

	e := h.tlWaitEntry(1, ch.ID, reply, "the thread reply to be captured", func(e incident.Entry) bool { return !e.Pending })
	if e.Text != "Replica lag is 30s and climbing" {
		t.Errorf("text = %q, want the reply's text", e.Text)
	}
	if e.Deleted {
		t.Errorf("the thread reply was recorded as deleted (not found?)")
	}
	if e.Author.ID != h.bob {
		t.Errorf("author = %+v, want bob", e.Author)
	}
	if !e.At.Equal(tlTSTime(t, reply)) {
		t.Errorf("at = %s, want the reply's time", e.At)
	}
	if !strings.Contains(e.Link, "thread_ts="+parent) {
		t.Errorf("link = %q, want a permalink into the thread", e.Link)
	}
	h.tlWaitBotReaction(ch.ID, reply, "white_check_mark", true)
}

func TestTimelinePinMessageWithFile(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 502s in EU")
	ts := h.fake.PostMessage(h.alice, ch.ID, "Graph of the 502s",
		slackfake.WithFiles(slackfake.File{Name: "502s.png", Title: "502s by region", Content: []byte("\x89PNG fake")}))
	msg, ok := h.fake.Message(ch.ID, ts)
	if !ok || len(msg.Files) != 1 {
		t.Fatalf("the fake did not store the file: %+v", msg)
	}
	fileID := msg.Files[0].ID
	h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")

	e := h.tlWaitEntry(1, ch.ID, ts, "the message with a file to be captured", func(e incident.Entry) bool { return !e.Pending })
	if e.Text != "Graph of the 502s" {
		t.Errorf("text = %q", e.Text)
	}
	if len(e.Files) != 1 {
		t.Fatalf("files = %+v, want the one attached", e.Files)
	}
	if e.Files[0].Title != "502s by region" || !containsAll(e.Files[0].URL, "https://", fileID, "502s.png") {
		t.Errorf("file link = %+v, want the file's title and permalink", e.Files[0])
	}
	h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)
}

func TestTimelineUnpin(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.fake.JoinChannel(h.bob, ch.ID)

	t.Run("only pinner removes it", func(t *testing.T) {
		ts := h.fake.PostMessage(h.alice, ch.ID, "Probably the CDN")
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.tlWaitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
		h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)

		h.fake.RemoveReaction(h.alice, ch.ID, ts, "pushpin")
		h.waitFor("the entry to go", func() bool { _, ok := h.tlEntry(1, ch.ID, ts); return !ok })
		h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", false)
	})

	t.Run("one of two pinners removes it", func(t *testing.T) {
		ts := h.fake.PostMessage(h.alice, ch.ID, "CDN purge did not help")
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
		h.tlWaitEntry(1, ch.ID, ts, "both pins", func(e incident.Entry) bool { return !e.Pending && len(e.PinnedBy) == 2 })
		h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)

		h.fake.RemoveReaction(h.bob, ch.ID, ts, "pushpin")
		h.tlProcessed("reaction_removed", ts)
		h.idle()
		e, ok := h.tlEntry(1, ch.ID, ts)
		if !ok {
			t.Fatal("the entry went although alice still pins it")
		}
		if len(e.PinnedBy) != 1 || e.PinnedBy[0] != h.alice+":pushpin" {
			t.Errorf("pinned by = %v, want alice only", e.PinnedBy)
		}
		if m, _ := h.fake.Message(ch.ID, ts); !slices.Contains(m.Reactions["white_check_mark"], h.fake.BotUserID()) {
			t.Errorf("the bot's ✅ went although the message is still on the timeline: %v", m.Reactions)
		}

		h.fake.RemoveReaction(h.alice, ch.ID, ts, "pushpin")
		h.waitFor("the entry to go", func() bool { _, ok := h.tlEntry(1, ch.ID, ts); return !ok })
		h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", false)
	})
}

func TestTimelineFollowsEditsAndDeletes(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	edited := h.fake.PostMessage(h.alice, ch.ID, "Failover started")
	kept := h.fake.PostMessage(h.alice, ch.ID, "Traffic drained from FRA1 & FRA3")
	for _, ts := range []string{edited, kept} {
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.tlWaitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
		h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)
	}

	h.fake.EditMessage(h.alice, ch.ID, edited, "Failover to FRA2 started")
	e := h.tlWaitEntry(1, ch.ID, edited, "the edit", func(e incident.Entry) bool { return e.Text == "Failover to FRA2 started" })
	if len(e.History) != 1 || e.History[0].Text != "Failover started" {
		t.Errorf("history = %+v, want the old text", e.History)
	}

	h.fake.DeleteMessage(h.alice, ch.ID, edited)
	e = h.tlWaitEntry(1, ch.ID, edited, "the deletion", func(e incident.Entry) bool { return e.Deleted })

	out := ackText(h.slash(h.alice, ch.ID, "timeline"))
	if strings.Contains(out, "Failover") {
		t.Errorf("/incident timeline shows the deleted message:\n%s", out)
	}
	if !strings.Contains(out, "Traffic drained from FRA1 &amp; FRA3") {
		t.Errorf("/incident timeline lacks the kept message (as Slack text):\n%s", out)
	}

	h.slash(h.alice, ch.ID, "resolve Failed over")
	doc := string(h.tlDraft("INC-1-postmortem.md").Content)
	if strings.Contains(doc, "Failover started") || strings.Contains(doc, "Failover to FRA2 started") {
		t.Errorf("the draft includes the deleted message:\n%s", doc)
	}
	if !strings.Contains(doc, "Traffic drained from FRA1 & FRA3") || strings.Contains(doc, "&amp;") {
		t.Errorf("the draft lacks the kept message as plain text:\n%s", doc)
	}
}

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
		e, ok := h.tlNote(1, "Rolled back")
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
		e, ok := h.tlNote(1, "DNS changed")
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
				before := len(h.tlEntries(1))
				ack := h.slash(h.alice, ch.ID, tc.text)
				if !strings.Contains(ack, `"ephemeral"`) {
					t.Errorf("reply to %q is not ephemeral: %s", tc.text, ack)
				}
				if out := ackText(ack); !containsAll(out, tc.want...) {
					t.Errorf("reply to %q = %q, want %q", tc.text, out, tc.want)
				}
				if n := len(h.tlEntries(1)); n != before {
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
	e := h.tlWaitEntry(1, ch.ID, ts, "the TL: message on the timeline", func(incident.Entry) bool { return true })
	if e.Kind != incident.KindNote || e.Text != "cache flushed" || e.Author.ID != h.alice {
		t.Errorf("entry = %+v, want alice's note %q", e, "cache flushed")
	}
	if !e.At.Equal(tlTSTime(t, ts)) {
		t.Errorf("at = %s, want the message's time", e.At)
	}
	h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)

	// Slack redelivers the message: still one note.
	envs := h.tlEnvelopes("message", ts)
	if len(envs) == 0 {
		t.Fatal("no message envelope for the TL: message")
	}
	h.waitAck(h.fake.Redeliver(envs[0].ID))
	h.idle()
	if n := h.tlCountText(1, "cache flushed"); n != 1 {
		t.Errorf("%d notes after a redelivery, want 1", n)
	}

	// An edit updates the note (still without the prefix); a deletion
	// takes it out of what people read.
	h.fake.EditMessage(h.alice, ch.ID, ts, "TL: cache flushed on all nodes")
	e = h.tlWaitEntry(1, ch.ID, ts, "the edited note", func(e incident.Entry) bool { return e.Text == "cache flushed on all nodes" })
	if len(e.History) != 1 || e.History[0].Text != "cache flushed" {
		t.Errorf("history = %+v, want the old text without the prefix", e.History)
	}
	h.fake.DeleteMessage(h.alice, ch.ID, ts)
	h.tlWaitEntry(1, ch.ID, ts, "the deleted note", func(e incident.Entry) bool { return e.Deleted })
	if out := ackText(h.slash(h.alice, ch.ID, "timeline")); strings.Contains(out, "cache flushed") {
		t.Errorf("/incident timeline shows a deleted note:\n%s", out)
	}

	// Ordinary chat is not captured.
	plain := h.fake.PostMessage(h.alice, ch.ID, "cache looks fine now, TL: later")
	h.tlProcessed("message", plain)
	h.idle()
	if _, ok := h.tlEntry(1, ch.ID, plain); ok {
		t.Errorf("an ordinary message went onto the timeline")
	}
	if m, _ := h.fake.Message(ch.ID, plain); len(m.Reactions) != 0 {
		t.Errorf("the bot reacted to an ordinary message: %v", m.Reactions)
	}
	for _, e := range h.tlEntries(1) {
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
	before := len(h.tlEntries(1))
	ts := h.fake.PostMessage(h.alice, ch.ID, "TL:   ")
	h.tlProcessed("message", ts)
	h.idle()
	for _, e := range h.tlEntries(1) {
		if e.Source == ch.ID+"/"+ts {
			t.Errorf("an empty TL: message was recorded as a note: %+v", e)
		}
	}
	if n := len(h.tlEntries(1)); n != before {
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
	h.tlWaitEntry(1, ch.ID, ts, "the TL: message on the timeline", func(incident.Entry) bool { return true })
	h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)

	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	h.tlProcessed("reaction_added", ts)
	h.fake.RemoveReaction(h.bob, ch.ID, ts, "pushpin")
	h.tlProcessed("reaction_removed", ts)
	h.idle()

	var notes []incident.Entry
	for _, e := range h.tlEntries(1) {
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
		e, ok = h.tlNote(1, "from a thread")
		return ok
	})
	if e.Author.ID != h.bob || e.Kind != incident.KindNote {
		t.Errorf("entry = %+v, want bob's note", e)
	}
	if !e.At.Equal(tlTSTime(t, reply)) {
		t.Errorf("at = %s, want the mention's time %s", e.At, tlTSTime(t, reply))
	}
	got := h.ephemeralWith(h.bob, "Added to the INC-1 timeline")
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
	if e, ok := h.tlNote(1, "step 01"); !ok {
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
	before := len(h.tlEntries(1))

	pinned := h.fake.PostMessage(h.alice, ops, "Unrelated deploy finished")
	h.fake.AddReaction(h.alice, ops, pinned, "pushpin")
	prefixed := h.fake.PostMessage(h.alice, ops, "TL: not an incident")
	h.tlProcessed("reaction_added", pinned)
	h.tlProcessed("message", prefixed)
	h.idle()

	for _, ts := range []string{pinned, prefixed} {
		if m, _ := h.fake.Message(ops, ts); len(m.Reactions["white_check_mark"]) != 0 {
			t.Errorf("the bot confirmed a message outside any incident: %v", m.Reactions)
		}
	}
	if n := len(h.tlEntries(1)); n != before {
		t.Errorf("INC-1's timeline grew by %d from another channel", n-before)
	}

	// In the incident channel, other reactions are just reactions.
	eyes := h.fake.PostMessage(h.alice, ch.ID, "Looking into it")
	h.fake.AddReaction(h.alice, ch.ID, eyes, "eyes")
	h.tlProcessed("reaction_added", eyes)
	h.idle()
	if _, ok := h.tlEntry(1, ch.ID, eyes); ok {
		t.Errorf("an :eyes: reaction put a message on the timeline")
	}
	if m, _ := h.fake.Message(ch.ID, eyes); len(m.Reactions["white_check_mark"]) != 0 {
		t.Errorf("the bot confirmed a message nobody pinned: %v", m.Reactions)
	}
}

// tlEntries returns incident id's timeline as stored.
func (h *harness) tlEntries(id int64) []incident.Entry {
	h.t.Helper()
	var out []incident.Entry
	h.view(func(tx *store.Tx) error {
		var err error
		out, err = tx.Timeline(id)
		return err
	})
	return out
}

// tlEntry returns the entry captured from the message at channel/ts.
func (h *harness) tlEntry(id int64, channel, ts string) (incident.Entry, bool) {
	h.t.Helper()
	for _, e := range h.tlEntries(id) {
		if e.Source == channel+"/"+ts {
			return e, true
		}
	}
	return incident.Entry{}, false
}

// tlNote returns the note entry with exactly this text.
func (h *harness) tlNote(id int64, text string) (incident.Entry, bool) {
	h.t.Helper()
	for _, e := range h.tlEntries(id) {
		if e.Kind == incident.KindNote && e.Text == text {
			return e, true
		}
	}
	return incident.Entry{}, false
}

// tlWaitEntry waits for the entry captured from channel/ts to satisfy cond.
func (h *harness) tlWaitEntry(id int64, channel, ts, what string, cond func(incident.Entry) bool) incident.Entry {
	h.t.Helper()
	var e incident.Entry
	h.waitFor(what, func() bool {
		var ok bool
		e, ok = h.tlEntry(id, channel, ts)
		return ok && cond(e)
	})
	return e
}

// tlWaitBotReaction waits until the bot's reaction name is on (or off) a
// message.
func (h *harness) tlWaitBotReaction(channel, ts, name string, on bool) {
	h.t.Helper()
	what := fmt.Sprintf("the bot's :%s: on %s", name, ts)
	if !on {
		what = fmt.Sprintf("the bot's :%s: to go from %s", name, ts)
	}
	h.waitFor(what, func() bool {
		m, _ := h.fake.Message(channel, ts)
		return slices.Contains(m.Reactions[name], h.fake.BotUserID()) == on
	})
}

// tlEnvelopes returns the events_api envelopes of eventType that mention ts.
func (h *harness) tlEnvelopes(eventType, ts string) []slackfake.EnvelopeInfo {
	var out []slackfake.EnvelopeInfo
	for _, e := range h.fake.Envelopes() {
		if e.Type == "events_api" && e.EventType == eventType && strings.Contains(string(e.Frame), strconv.Quote(ts)) {
			out = append(out, e)
		}
	}
	return out
}

// tlProcessed waits until the bot has acked (so committed) every event of
// eventType about the message at ts.
func (h *harness) tlProcessed(eventType, ts string) {
	h.t.Helper()
	h.waitFor(eventType+" events about "+ts+" to be acked", func() bool {
		envs := h.tlEnvelopes(eventType, ts)
		for _, e := range envs {
			if !e.Acked {
				return false
			}
		}
		return len(envs) > 0
	})
}

// tlDraft waits for an uploaded file by name.
func (h *harness) tlDraft(name string) slackfake.File {
	h.t.Helper()
	var found slackfake.File
	h.waitFor("the upload of "+name, func() bool {
		for _, f := range h.fake.Files() {
			if f.Name == name {
				found = f
				return true
			}
		}
		return false
	})
	return found
}

// tlTSTime turns a Slack ts into the time it names.
func tlTSTime(t testing.TB, ts string) time.Time {
	t.Helper()
	sec, frac, _ := strings.Cut(ts, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || len(frac) != 6 {
		t.Fatalf("bad ts %q", ts)
	}
	return time.Unix(s, us*1000).UTC()
}

// ackText is the text of a slash command's ack payload, as the user reads
// it ("" when the bot answered nothing).
func ackText(ack string) string {
	var p struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(ack), &p); err != nil {
		return ""
	}
	return p.Text
}

// tlCountText counts incident id's entries with exactly this text.
func (h *harness) tlCountText(id int64, text string) int {
	h.t.Helper()
	n := 0
	for _, e := range h.tlEntries(id) {
		if e.Text == text {
			n++
		}
	}
	return n
}
