package main

import (
	"fmt"
	"testing"
)

// TestPinIsOneSlackCall pins messages the bot saw arrive: each costs one
// Web API call, the confirming reactions.add. The text and author came with
// the message event, names are looked up once per person, and permalinks
// are built from the workspace URL. A message from before a restart is
// read from history, once.
func TestPinIsOneSlackCall(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Config updates not propagating")
	h.fake.JoinChannel(h.bob, ch.ID)
	h.idle()
	before := len(h.fake.Calls(""))
	const pins = 20
	var last string
	for i := 1; i <= pins; i++ {
		who := h.alice
		if i%2 == 0 {
			who = h.bob
		}
		last = h.fake.PostMessage(who, ch.ID, fmt.Sprintf("finding %d", i))
		h.fake.AddReaction(h.alice, ch.ID, last, "pushpin")
	}
	h.ExpectBotReaction(ch.ID, last, "white_check_mark", true)
	h.idle()
	counts := map[string]int{}
	for _, c := range h.fake.Calls("")[before:] {
		counts[c.Method]++
	}
	if counts["reactions.add"] != pins || counts["conversations.history"] != 0 || counts["chat.getPermalink"] != 0 || counts["users.info"] > 2 {
		t.Errorf("Web API calls for %d pins by 2 people: %v; want %d reactions.add, at most 2 users.info, nothing else", pins, counts, pins)
	}
	for i := 1; i <= pins; i++ {
		if _, ok := h.timelineNoteOrMessage(fmt.Sprintf("finding %d", i)); !ok {
			t.Errorf("pin %d is not on the timeline with its text", i)
		}
	}

	old := h.fake.PostMessage(h.bob, ch.ID, "said before the restart")
	h.idle()
	h.restart()
	before = len(h.fake.Calls("conversations.history"))
	h.fake.AddReaction(h.alice, ch.ID, old, "pushpin")
	h.ExpectBotReaction(ch.ID, old, "white_check_mark", true)
	if n := len(h.fake.Calls("conversations.history")) - before; n != 1 {
		t.Errorf("a message the bot did not see read %d times from history, want once", n)
	}
	if _, ok := h.timelineNoteOrMessage("said before the restart"); !ok {
		t.Errorf("the message from before the restart is not on the timeline")
	}
}

// timelineNoteOrMessage finds an entry of incident 1 with text.
func (h *harness) timelineNoteOrMessage(text string) (string, bool) {
	for _, e := range h.timeline(1) {
		if e.Text == text && !e.Pending {
			return e.Link, true
		}
	}
	return "", false
}
