package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// TestDraftHoldsPinsStillBeingReadAtResolve resolves while the pinned
// messages are still waiting to be read (conversations.history is rate
// limited): the uploaded draft holds every pin acked before the resolve.
func TestDraftHoldsPinsStillBeingReadAtResolve(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Config updates not propagating")
	h.idle()
	h.fake.FailNext("conversations.history", 3, slackfake.Fault{Status: 429, RetryAfter: time.Second})
	const pins = 5
	for i := 1; i <= pins; i++ {
		ts := h.fake.PostMessage(h.alice, ch.ID, fmt.Sprintf("finding %d: the KV store is read-only", i))
		h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
	}
	h.waitFor("the pins to be recorded", func() bool { return len(h.timeline(1)) >= pins })
	h.slash(h.alice, ch.ID, "resolve KV store back to read-write")
	draft := h.ExpectUpload("INC-1-postmortem.md")
	for i := 1; i <= pins; i++ {
		if want := fmt.Sprintf("finding %d", i); !strings.Contains(string(draft.Content), want) {
			t.Errorf("the draft lacks pin %d (%q), pinned before the resolve:\n%s", i, want, string(draft.Content))
		}
	}
}
