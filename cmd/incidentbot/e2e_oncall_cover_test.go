package main

import (
	"strings"
	"testing"
	"time"
)

// /incident cover: the person on call asks in the handoff channel; the
// first I'll cover makes the override and tells both; a second click, and
// a double click, change nothing.
func TestOnCallCover(t *testing.T) {
	var ch string
	h := ocHarness(t, "", withHandoffChannel(&ch))
	if got := ackText(h.slash(pgDave, h.general, "cover platform-primary for 4h")); !strings.Contains(got, "You are not on call for platform-primary now: <@"+pgCarol+"> is") {
		t.Errorf("cover by someone not on call answered %q", got)
	}
	if got := ackText(h.slash(pgCarol, h.general, "cover platform-primary for 4h")); !strings.Contains(got, "I asked for cover in <#"+ch+">") {
		t.Errorf("cover answered %q", got)
	}
	ask := h.ExpectMessage(ch, "<@"+pgCarol+"> asks for cover on platform-primary from Thu 17 Aug 10:00 UTC", "until Thu 17 Aug 14:00 UTC", "I'll cover")

	h.fake.JoinChannel(pgDave, ch)
	h.fake.JoinChannel(pgErin, ch)
	h.fake.JoinChannel(h.bob, ch)
	h.click(h.bob, ch, ask.TS, "oncall_cover")
	h.ExpectEphemeral(h.bob, "only the people of schedule platform-primary")
	h.click(pgDave, ch, ask.TS, "oncall_cover")
	h.click(pgDave, ch, ask.TS, "oncall_cover") // a double click
	h.ExpectDM(pgCarol, "<@"+pgDave+"> covers platform-primary for you from Thu 17 Aug 10:00 UTC", "override #1")
	h.ExpectDM(pgDave, "You cover platform-primary for <@"+pgCarol+">")
	h.click(pgErin, ch, ask.TS, "oncall_cover")
	h.ExpectEphemeral(pgErin, "Taken: <@"+pgDave+"> already covers this")
	h.ExpectEphemeral(pgDave, "You already cover this (override #1)")
	h.idle()
	if ovs := h.overrides(); len(ovs) != 1 || ovs[0].Who != pgDave {
		t.Fatalf("overrides after the clicks: %+v, want dave's alone", ovs)
	}
	if n := len(botMessages(h.fake, h.fake.DM(pgCarol), "covers platform-primary for you")); n != 1 {
		t.Errorf("carol was told %d times, want once", n)
	}
	// Dave is paged now, and carol again once the cover ends.
	c1 := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, c1.ID, "page platform")
	h.ExpectPage(pgDave, "INC-1", 1)
	h.FastForward(4 * time.Hour)
	h.ExpectDM(pgCarol, "You are on call for platform-primary from Thu 17 Aug 14:00 UTC")
}
