package main

import (
	"strings"
	"testing"
	"time"
)

// /incident override puts someone on call (paged instead of the rotation),
// list shows it, remove undoes it; only the schedule's people (and the
// responders) may; a redelivered command changes nothing twice.
func TestOnCallOverrideFromSlack(t *testing.T) {
	h := ocHarness(t, "")
	// Thursday 10:00 UTC; "12:00 14:00" are today's, ahead.
	id := h.fake.SlashCommand(pgCarol, h.general, "override platform-primary <@"+pgDave+"> 12:00 14:00")
	text := ackText(h.waitAck(id))
	if !strings.Contains(text, "Override #1: <@"+pgDave+"> is on call for platform-primary from Thu 17 Aug 12:00 UTC (14:00 CEST Europe/Berlin) until Thu 17 Aug 14:00 UTC") {
		t.Errorf("override answered %q", text)
	}
	h.ExpectDM(pgDave, "<@"+pgCarol+"> put you on call for platform-primary from Thu 17 Aug 12:00 UTC")
	// Slack retries the same command: nothing is added twice.
	h.waitAck(h.fake.Redeliver(id))
	h.idle()
	if ovs := h.overrides(); len(ovs) != 1 {
		t.Fatalf("%d overrides after a redelivered command, want 1: %+v", len(ovs), ovs)
	}
	if n := len(botMessages(h.fake, h.fake.DM(pgDave), "put you on call")); n != 1 {
		t.Errorf("dave was told %d times, want once", n)
	}

	// Someone else: a clear refusal, nothing added.
	got := ackText(h.slash(h.alice, h.general, "override platform-primary <@"+h.alice+"> for 4h"))
	if !strings.Contains(got, "Nothing changed: only the people of schedule platform-primary") || !strings.Contains(got, "INCIDENTBOT_RESPONDERS") {
		t.Errorf("a stranger's override answered %q", got)
	}
	if got := ackText(h.slash(pgErin, h.general, "override platform-primary <@"+pgErin+"> 14:00 13:00")); !strings.Contains(got, "Override #2") {
		// 13:00 after 14:00 is tomorrow's.
		t.Errorf("override until a time of day answered %q", got)
	}
	if got := ackText(h.slash(pgErin, h.general, "override platform-primary <@"+pgErin+"> soon")); !strings.Contains(got, "start and an end") {
		t.Errorf("an unreadable span answered %q", got)
	}

	list := ackText(h.slash(h.alice, h.general, "override list platform-primary"))
	for _, want := range []string{"#1 platform-primary: <@" + pgDave + "> from Thu 17 Aug 12:00 UTC", "— by <@" + pgCarol + ">",
		"#2 platform-primary: <@" + pgErin + "> from Thu 17 Aug 14:00 UTC (16:00 CEST Europe/Berlin) until Fri 18 Aug 13:00 UTC"} {
		if !strings.Contains(list, want) {
			t.Errorf("override list lacks %q:\n%s", want, list)
		}
	}
	if got := ackText(h.slash(pgErin, h.general, "override remove 2")); !strings.Contains(got, "Removed override #2") {
		t.Errorf("override remove answered %q", got)
	}

	// At 12:30 dave is paged, not carol.
	h.FastForward(150 * time.Minute)
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	h.ExpectPage(pgDave, "INC-1", 1)
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 0, pgDave: 1})
}

// The responders may override any schedule.
func TestOnCallOverrideByAResponder(t *testing.T) {
	h := ocHarness(t, "", withConfig(func(c *Config) { c.Responders = []string{"U000000001"} }))
	if h.alice != "U000000001" {
		t.Skipf("alice is %s", h.alice)
	}
	if got := ackText(h.slash(h.alice, h.general, "override platform-primary <@"+pgErin+"> now for 2h")); !strings.Contains(got, "Override #1") {
		t.Errorf("a responder's override answered %q", got)
	}
	if got := ackText(h.slash(h.bob, h.general, "override remove 1")); !strings.Contains(got, "Nothing changed") {
		t.Errorf("bob removing answered %q", got)
	}
}
