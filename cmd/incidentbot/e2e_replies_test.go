package main

import (
	"fmt"
	"strings"
	"testing"
)

// Long answers always arrive: an ack of 20 KB or more is refused by
// slack-go, and the user would see only Slack's timeout notice.

// japanese is a pinned message that is long in bytes: 300 characters of
// three bytes each, with angle brackets that JSON escapes to six bytes.
func japanese(i int) string {
	return fmt.Sprintf("障害%02d ", i) + strings.Repeat("設定の伝播が止まった<原因>", 20)
}

// TestTimelineOfLongPinsIsAnswered pins 30 long Japanese messages (39 KB
// of timeline) and reads the timeline back: every page is answered, and
// together the pages hold every pin.
func TestTimelineOfLongPinsIsAnswered(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 設定の伝播")
	const pins = 30
	for i := 1; i <= pins; i++ {
		ts := h.fake.PostMessage(h.alice, ch.ID, japanese(i))
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)
	}
	var all string
	first := ackText(h.slash(h.alice, ch.ID, "timeline"))
	all += first
	pages := 0
	if _, err := fmt.Sscanf(first[strings.Index(first, "page 1 of "):], "page 1 of %d", &pages); err != nil || pages < 2 {
		t.Fatalf("page 1 does not say how many pages (want several for 39 KB):\n%.300s", first)
	}
	for p := 2; p <= pages; p++ {
		out := ackText(h.slash(h.alice, ch.ID, fmt.Sprintf("timeline %d", p)))
		if !strings.Contains(out, fmt.Sprintf("page %d of %d", p, pages)) {
			t.Errorf("page %d:\n%.300s", p, out)
		}
		all += out
	}
	for i := 1; i <= pins; i++ {
		if !strings.Contains(all, fmt.Sprintf("障害%02d", i)) {
			t.Errorf("pin %d is on no page of the timeline", i)
		}
	}
	for _, m := range h.fake.Ephemerals(h.alice) {
		if m.Via == "timeout" {
			t.Errorf("alice saw Slack's timeout notice: %q", m.Text)
		}
	}
}

// TestLongListIsAnswered lists more open incidents than one ack carries:
// the answer comes in parts (the ack, then through the response_url), and
// every incident is in one of them.
func TestLongListIsAnswered(t *testing.T) {
	h := newHarness(t)
	const n = 70
	for i := 1; i <= n; i++ {
		h.slash(h.alice, h.general, "declare sev3 "+string([]rune(japanese(i))[:150]))
	}
	h.incidentChannel(n)
	h.idle()
	ack := ackText(h.slash(h.alice, h.general, "list"))
	if !strings.Contains(ack, "open incident(s)") {
		t.Fatalf("list ack:\n%.300s", ack)
	}
	var shown string
	h.waitFor("the rest of the list through the response_url", func() bool {
		shown = ack
		for _, m := range h.fake.Ephemerals(h.alice) {
			if m.Via == "response_url" {
				shown += m.Text
			}
		}
		for i := 1; i <= n; i++ {
			if !strings.Contains(shown, fmt.Sprintf("*INC-%d*", i)) {
				return false
			}
		}
		return true
	})
	for _, m := range h.fake.Ephemerals(h.alice) {
		if m.Via == "timeout" {
			t.Errorf("alice saw Slack's timeout notice: %q", m.Text)
		}
	}
}
