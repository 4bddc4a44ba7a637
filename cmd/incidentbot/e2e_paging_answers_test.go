package main

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// TestPagingAPolicyAlreadyPagingIsNotPagedTwice: a second "/incident page
// platform" while platform is still paging would DM the same people again
// and leave two escalations that one acknowledgement cannot both stop. It
// is refused with what to do instead; once acknowledged, it can page again.
func TestPagingAPolicyAlreadyPagingIsNotPagedTwice(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform Checkout returns 500s")
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	h.idle()

	reply := ackText(h.slash(h.bob, ch.ID, "page platform Still down"))
	for _, want := range []string{"already paging platform", "level 1 of 2", "page @someone"} {
		if !strings.Contains(reply, want) {
			t.Errorf("the second page answered %q, which does not say %q", reply, want)
		}
	}
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 0})
	if n := len(h.storedIncident(1).Escalations); n != 1 {
		t.Errorf("%d escalations after a refused second page, want 1", n)
	}

	h.clickDM(pgCarol, dm.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+pgCarol+">")
	h.FastForward(time.Minute)
	if reply := ackText(h.slash(h.bob, ch.ID, "page platform Different symptom now")); reply != "" {
		t.Errorf("paging again after the acknowledgement answered %q, want nothing", reply)
	}
	h.ExpectPage(pgCarol, "INC-1", 2)
}

// TestPagingDeclineAfterAcknowledgementChangesNothing: a Decline clicked on
// a page someone already acknowledged is answered (who acknowledged, where
// the channel is) and moves nothing on.
func TestPagingDeclineAfterAcknowledgementChangesNothing(t *testing.T) {
	h := pgHarness(t, `policies:
  - name: platform
    levels:
      - targets: [`+pgCarol+`, `+pgErin+`]
        timeout: 5m
      - targets: [`+pgDave+`]
        timeout: 10m
`)
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	carol, erin := h.ExpectPage(pgCarol, "INC-1", 1), h.ExpectPage(pgErin, "INC-1", 1)
	h.idle()
	// Slack is slow to redraw the DMs, so Erin still sees her buttons.
	h.fake.FailNext("chat.update", 1000, slackfake.Fault{Status: 503})
	h.clickDM(pgCarol, carol.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+pgCarol+">")
	h.clickDM(pgErin, erin.TS, "page_decline")
	h.ExpectEphemeral(pgErin, "already acknowledged by <@"+pgCarol+">", "<#"+ch.ID+">")
	h.fake.ClearFaults()
	h.FastForward(20 * time.Minute)
	h.ExpectPageCounts("INC-1", map[string]int{pgDave: 0})
	if n := h.countEvents(1, "declined"); n != 0 {
		t.Errorf("%d declined events after the page was acknowledged, want 0", n)
	}
	h.ExpectShows(h.fake.DM(pgErin), erin.TS, "Acknowledged by <@"+pgCarol+">")
}

// TestPagingEscalationsPendingMetric: /metrics shows how many escalations
// are waiting for an answer, so an operator can alert on pages nobody takes.
func TestPagingEscalationsPendingMetric(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	if v := h.metric("incidentbot_escalations_pending"); v != 0 {
		t.Fatalf("escalations_pending = %v before any page", v)
	}
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	if v := h.metric("incidentbot_escalations_pending"); v != 1 {
		t.Errorf("escalations_pending = %v while platform pages, want 1", v)
	}
	h.clickDM(pgCarol, dm.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+pgCarol+">")
	if v := h.metric("incidentbot_escalations_pending"); v != 0 {
		t.Errorf("escalations_pending = %v after the acknowledgement, want 0", v)
	}
}
