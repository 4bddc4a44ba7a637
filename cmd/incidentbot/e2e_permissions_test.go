package main

// Permissions on every action, not only on commands: buttons, forms and
// reactions pass the same check as the commands (INCIDENTBOT_RESPONDERS),
// each is bound to the channel, person and incident it was made for, and
// Slack ids and timestamps are checked where envelopes come in.

import (
	"testing"
	"time"
)

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
