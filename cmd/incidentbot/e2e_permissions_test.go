package main

// Permissions on every action, not only on commands: buttons, forms and
// reactions pass the same check as the commands (INCIDENTBOT_RESPONDERS),
// each is bound to the channel, person and incident it was made for, and
// Slack ids and timestamps are checked where envelopes come in.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Item 8: a reaction naming a malformed message ts (or channel) is refused
// where it comes in, with a log line, and never reaches Slack's API.
func TestMalformedIDsRefusedAtTheEdge(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	for i, item := range []struct{ channel, ts string }{{ch.ID, "not-a-ts"}, {"#" + ch.ID, "1692269160.000100"}} {
		event := map[string]any{"type": "reaction_added", "user": h.alice, "reaction": "pushpin", "item_user": h.alice,
			"item": map[string]any{"type": "message", "channel": item.channel, "ts": item.ts}, "event_ts": "1692269160.000200"}
		payload := map[string]any{"token": "x", "team_id": h.fake.TeamID(), "api_app_id": "A0APP", "type": "event_callback",
			"event_id": fmt.Sprintf("Ev0MALFORMED%d", i), "event_time": 1692269160, "event": event}
		frame, _ := json.Marshal(map[string]any{"envelope_id": fmt.Sprintf("malformed-%d", i), "type": "events_api",
			"accepts_response_payload": false, "payload": payload})
		h.fake.SendRaw(frame)
	}
	h.slash(h.alice, ch.ID, "note after the malformed reactions") // handled after them, in order
	h.idle()
	for _, c := range h.fake.Calls("conversations.history") {
		if c.Params.Get("latest") == "not-a-ts" || strings.HasPrefix(c.Params.Get("channel"), "#") {
			t.Errorf("a malformed id reached Slack: conversations.history %v", c.Params)
		}
	}
	for _, e := range h.timeline(1) {
		if e.Pending || strings.Contains(e.Source, "not-a-ts") {
			t.Errorf("a malformed reaction left a timeline entry: %+v", e)
		}
	}
	if !h.log.Has("malformed", "not-a-ts") || !h.log.Has("malformed", "#"+ch.ID) {
		t.Error("no log line names the malformed reactions")
	}
}

// Item 10: who declined is skipped for the rest of that escalation — a
// direct page is not repeated to them, a policy's repeat passes over them —
// and a new page still reaches them.
func TestPagingDeclinerIsNotPagedAgain(t *testing.T) {
	h := pgHarness(t, pgPlatform(1))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <@"+pgDave+">")
	h.clickDM(pgDave, h.ExpectPage(pgDave, "INC-1", 1).TS, "page_decline")
	h.idle()
	h.FastForward(6 * time.Minute)
	h.FastForward(6 * time.Minute)
	h.ExpectPageCounts("INC-1", map[string]int{pgDave: 1})
	h.ExpectMessage(ch.ID, "Nobody acknowledged the direct page", "<@"+pgDave+"> (declined)")

	// Level 1 carol declines; dave is paged, times out; the repeat skips
	// carol and pages dave again.
	h.slash(h.alice, ch.ID, "page platform")
	h.clickDM(pgCarol, h.ExpectPage(pgCarol, "INC-1", 1).TS, "page_decline")
	h.ExpectPage(pgDave, "INC-1", 2)
	h.FastForward(11 * time.Minute)
	h.ExpectPage(pgDave, "INC-1", 3)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 3})

	// A new page is a new escalation: dave is paged.
	h.slash(h.alice, ch.ID, "page <@"+pgDave+"> once more")
	h.ExpectPage(pgDave, "INC-1", 4)
}
