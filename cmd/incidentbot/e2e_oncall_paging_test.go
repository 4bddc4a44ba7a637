package main

import (
	"strings"
	"testing"
	"time"
)

// A policy paging schedule: targets reaches whoever is on call at that
// moment; an empty schedule is reported and skipped.
func TestOnCallPagingASchedule(t *testing.T) {
	h := ocHarness(t, "")
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	// Thursday 10:00 UTC: carol's day (from 09:00 Berlin).
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	if !strings.Contains(string(dm.Blocks), "on call for schedule platform-primary") || strings.Contains(string(dm.Blocks), "by override") {
		t.Errorf("carol's page does not say she is on call for platform-primary (without override): %s", dm.Blocks)
	}
	h.ExpectMessage(ch.ID, ":pager: Paging policy platform (level 1 of 3)", "<@"+pgCarol+"> (on call for platform-primary)")

	// She declines: weekend has nobody on a Thursday, so erin is next.
	h.clickDM(pgCarol, dm.TS, "page_decline")
	h.ExpectMessage(ch.ID, "Nobody is on call in schedule weekend right now")
	h.ExpectPage(pgErin, "INC-1", 1)
	h.ExpectMessage(ch.ID, "(level 3 of 3)", "<@"+pgErin+">")
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 0, pgErin: 1})
	// Pager load on /metrics: per schedule and per person.
	if v := h.metric(`incidentbot_pages_total{person="` + pgCarol + `",schedule="platform-primary"}`); v != 1 {
		t.Errorf("pages of carol through platform-primary on /metrics = %v, want 1:\n%s", v, h.metricsText())
	}
	inc := h.storedIncident(1)
	if p := inc.Escalations[0].Pages[0]; p.Schedule != "platform-primary" || p.Override || p.User.ID != pgCarol {
		t.Errorf("the page records %+v, want carol through platform-primary without override", p)
	}

	// A day later it is dave's turn.
	h.FastForward(24 * time.Hour)
	ch2 := h.declared(2, "declare sev2 Search is slow")
	h.slash(h.alice, ch2.ID, "page platform")
	h.ExpectPage(pgDave, "INC-2", 1)
	h.idle()
	h.ExpectPageCounts("INC-2", map[string]int{pgCarol: 0, pgDave: 1, pgErin: 0})
}

// An override in force is paged instead of the rotation, and says so.
func TestOnCallPagingAnOverride(t *testing.T) {
	h := ocHarness(t, "")
	h.addOverride("platform-primary", pgErin, h.clock.Now().Add(-time.Hour), 3*time.Hour)
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.ExpectPage(pgErin, "INC-1", 1)
	if !strings.Contains(string(dm.Blocks), "on call for schedule platform-primary (by override)") {
		t.Errorf("erin's page does not say an override put her on call: %s", dm.Blocks)
	}
	h.ExpectMessage(ch.ID, "<@"+pgErin+"> (on call for platform-primary, by override)")
	if p := h.storedIncident(1).Escalations[0].Pages[0]; p.Schedule != "platform-primary" || !p.Override {
		t.Errorf("the page records %+v, want platform-primary by override", p)
	}

	// Once the override is over, carol (the rotation) is paged again.
	h.FastForward(3 * time.Hour)
	ch2 := h.declared(2, "declare sev2 Search is slow")
	h.slash(h.alice, ch2.ID, "page platform")
	h.ExpectPage(pgCarol, "INC-2", 1)
	h.idle()
	h.ExpectPageCounts("INC-2", map[string]int{pgCarol: 1, pgErin: 0})
}

// The postmortem's "Responders and paging" says, for each page of a
// schedule, who was on call and whether by an override.
func TestOnCallPagingInThePostmortem(t *testing.T) {
	h := ocHarness(t, "")
	h.addOverride("platform-primary", pgErin, h.clock.Now().Add(-time.Hour), 3*time.Hour)
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.ExpectPage(pgErin, "INC-1", 1)
	h.clickDM(pgErin, dm.TS, "page_ack")
	h.slash(h.alice, ch.ID, "resolve Rolled back")
	draft := string(h.ExpectUpload("INC-1-postmortem.md").Content)
	if !strings.Contains(draft, "(on call for schedule platform-primary, by an override)") {
		t.Errorf("the draft does not say erin was on call for platform-primary by an override:\n%s", draft)
	}
}
