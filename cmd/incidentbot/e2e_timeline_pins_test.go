package main

// Pinned messages on the timeline: captured with their author, time and
// link, once however often they are pinned or redelivered, followed through
// edits, deletions and unpins, and fetched after a restart.

import (
	"slices"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

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

	// Its text comes with the message event at once; its author's name
	// with the ✅ (looked up once per person).
	e := h.waitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending && e.Author.Name != "" })
	if e.Kind != incident.KindMessage {
		t.Errorf("kind = %q, want %q", e.Kind, incident.KindMessage)
	}
	if e.Text != "Error rate on checkout is 40% since the deploy" {
		t.Errorf("text = %q", e.Text)
	}
	if e.Author.ID != carol || e.Author.Name != "cc-oncall" {
		t.Errorf("author = %+v, want %s with her display name cc-oncall", e.Author, carol)
	}
	if want := tsTime(t, ts); !e.At.Equal(want) {
		t.Errorf("at = %s, want the message's own time %s (not when it was pinned)", e.At, want)
	}
	if want := "https://fake.slack.com/archives/" + ch.ID + "/p" + strings.Replace(ts, ".", "", 1); e.Link != want {
		t.Errorf("link = %q, want %q", e.Link, want)
	}
	if !slices.Contains(e.PinnedBy, h.alice+":pushpin") {
		t.Errorf("pinned by = %v, want alice", e.PinnedBy)
	}
	h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)

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
	h.waitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
	h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)

	// Bob pins it as well, and Slack redelivers alice's reaction.
	h.fake.JoinChannel(h.bob, ch.ID)
	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	first := h.envelopes("reaction_added", ts)
	if len(first) == 0 {
		t.Fatal("no reaction_added envelope for the pinned message")
	}
	h.waitAck(h.fake.Redeliver(first[0].ID))
	h.waitProcessed("reaction_added", ts)
	h.idle()

	var found []incident.Entry
	for _, e := range h.timeline(1) {
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

	e := h.waitEntry(1, ch.ID, reply, "the thread reply to be captured", func(e incident.Entry) bool { return !e.Pending })
	if e.Text != "Replica lag is 30s and climbing" {
		t.Errorf("text = %q, want the reply's text", e.Text)
	}
	if e.Deleted {
		t.Errorf("the thread reply was recorded as deleted (not found?)")
	}
	if e.Author.ID != h.bob {
		t.Errorf("author = %+v, want bob", e.Author)
	}
	if !e.At.Equal(tsTime(t, reply)) {
		t.Errorf("at = %s, want the reply's time", e.At)
	}
	if !strings.Contains(e.Link, "thread_ts="+parent) {
		t.Errorf("link = %q, want a permalink into the thread", e.Link)
	}
	h.ExpectBotReaction(ch.ID, reply, "white_check_mark", true)
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

	e := h.waitEntry(1, ch.ID, ts, "the message with a file to be captured", func(e incident.Entry) bool { return !e.Pending })
	if e.Text != "Graph of the 502s" {
		t.Errorf("text = %q", e.Text)
	}
	if len(e.Files) != 1 {
		t.Fatalf("files = %+v, want the one attached", e.Files)
	}
	if e.Files[0].Title != "502s by region" || !containsAll(e.Files[0].URL, "https://", fileID, "502s.png") {
		t.Errorf("file link = %+v, want the file's title and permalink", e.Files[0])
	}
	h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)
}

func TestTimelineUnpin(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.fake.JoinChannel(h.bob, ch.ID)

	t.Run("only pinner removes it", func(t *testing.T) {
		ts := h.fake.PostMessage(h.alice, ch.ID, "Probably the CDN")
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.waitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)

		h.fake.RemoveReaction(h.alice, ch.ID, ts, "pushpin")
		h.waitFor("the entry to go", func() bool { _, ok := h.timelineEntry(1, ch.ID, ts); return !ok })
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", false)
	})

	t.Run("one of two pinners removes it", func(t *testing.T) {
		ts := h.fake.PostMessage(h.alice, ch.ID, "CDN purge did not help")
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
		h.waitEntry(1, ch.ID, ts, "both pins", func(e incident.Entry) bool { return !e.Pending && len(e.PinnedBy) == 2 })
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)

		h.fake.RemoveReaction(h.bob, ch.ID, ts, "pushpin")
		h.waitProcessed("reaction_removed", ts)
		h.idle()
		e, ok := h.timelineEntry(1, ch.ID, ts)
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
		h.waitFor("the entry to go", func() bool { _, ok := h.timelineEntry(1, ch.ID, ts); return !ok })
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", false)
	})
}

func TestTimelineFollowsEditsAndDeletes(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	edited := h.fake.PostMessage(h.alice, ch.ID, "Failover started")
	kept := h.fake.PostMessage(h.alice, ch.ID, "Traffic drained from FRA1 & FRA3")
	for _, ts := range []string{edited, kept} {
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.waitEntry(1, ch.ID, ts, "the pinned message to be captured", func(e incident.Entry) bool { return !e.Pending })
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)
	}

	h.fake.EditMessage(h.alice, ch.ID, edited, "Failover to FRA2 started")
	e := h.waitEntry(1, ch.ID, edited, "the edit", func(e incident.Entry) bool { return e.Text == "Failover to FRA2 started" })
	if len(e.History) != 1 || e.History[0].Text != "Failover started" {
		t.Errorf("history = %+v, want the old text", e.History)
	}

	h.fake.DeleteMessage(h.alice, ch.ID, edited)
	e = h.waitEntry(1, ch.ID, edited, "the deletion", func(e incident.Entry) bool { return e.Deleted })

	out := ackText(h.slash(h.alice, ch.ID, "timeline"))
	if strings.Contains(out, "Failover") {
		t.Errorf("/incident timeline shows the deleted message:\n%s", out)
	}
	if !strings.Contains(out, "Traffic drained from FRA1 &amp; FRA3") {
		t.Errorf("/incident timeline lacks the kept message (as Slack text):\n%s", out)
	}

	h.slash(h.alice, ch.ID, "resolve Failed over")
	doc := string(h.ExpectUpload("INC-1-postmortem.md").Content)
	if strings.Contains(doc, "Failover started") || strings.Contains(doc, "Failover to FRA2 started") {
		t.Errorf("the draft includes the deleted message:\n%s", doc)
	}
	if !strings.Contains(doc, "Traffic drained from FRA1 & FRA3") || strings.Contains(doc, "&amp;") {
		t.Errorf("the draft lacks the kept message as plain text:\n%s", doc)
	}
}

func TestLifecyclePinFetchSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.idle()

	// A message from before a restart (the bot did not see it arrive, so
	// it must read it), and Slack cannot serve history when it is pinned.
	ts := h.fake.PostMessage(h.alice, ch.ID, "Rollback of 1.42 done")
	h.idle()
	h.restart()
	h.fake.FailNext("conversations.history", 1000, slackfake.Fault{Status: 503})
	h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
	h.waitFor("a failed history read", func() bool {
		for _, c := range h.fake.Calls("conversations.history") {
			if c.Status == 503 {
				return true
			}
		}
		return false
	})
	if e, ok := h.timelineEntry(1, ch.ID, ts); !ok || !e.Pending {
		t.Fatalf("entry while history fails = %+v (found %v), want a pending entry", e, ok)
	}
	if out := ackText(h.slash(h.alice, ch.ID, "timeline")); !strings.Contains(out, "fetching the message") {
		t.Errorf("/incident timeline while fetching:\n%s", out)
	}

	h.stop()
	h.fake.ClearFaults()
	h.start()

	e := h.waitEntry(1, ch.ID, ts, "the entry to be filled in after the restart", func(e incident.Entry) bool { return !e.Pending })
	if e.Text != "Rollback of 1.42 done" || e.Author.ID != h.alice || e.Link == "" || e.Deleted {
		t.Errorf("entry after restart = %+v", e)
	}
	h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)
	if n := len(h.timeline(1)); n != 2 { // declared + the message
		t.Errorf("%d timeline entries after the restart, want 2: %+v", n, h.timeline(1))
	}
}
