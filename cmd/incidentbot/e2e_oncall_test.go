package main

import (
	"strings"
	"testing"
	"time"
)

// /incident oncall shows the policies and, for each schedule, who is on
// call now and next, with the handoff in UTC and in the schedule's zone.
func TestOnCallShowsSchedules(t *testing.T) {
	h := ocHarness(t, "")
	text := ackText(h.slash(h.alice, h.general, "oncall"))
	for _, want := range []string{"*Escalation policies*", "*platform*", "1. schedule platform-primary, then 5m",
		"*On-call schedules*", "*platform-primary* — Platform primary on-call",
		"now: <@" + pgCarol + ">, until Fri 18 Aug 07:00 UTC (09:00 CEST Europe/Berlin)",
		"next: <@" + pgDave + "> from Fri 18 Aug 07:00 UTC (09:00 CEST Europe/Berlin)",
		"*weekend*", "now: nobody is on call", "next: <@" + pgErin + "> from Sat 19 Aug 00:00 UTC"} {
		if !strings.Contains(text, want) {
			t.Errorf("oncall lacks %q:\n%s", want, text)
		}
	}

	// The next 7 days of one schedule, an override marked.
	h.addOverride("platform-primary", pgErin, simStart.Add(26*time.Hour), 2*time.Hour)
	text = ackText(h.slash(h.alice, h.general, "oncall platform-primary"))
	for _, want := range []string{"*platform-primary* — shifts of the next 7 days",
		"• Thu 17 Aug 07:00 UTC (09:00 CEST Europe/Berlin) → Fri 18 Aug 07:00 UTC (09:00 CEST Europe/Berlin): <@" + pgCarol + ">",
		"• Fri 18 Aug 12:00 UTC (14:00 CEST Europe/Berlin) → Fri 18 Aug 14:00 UTC (16:00 CEST Europe/Berlin): <@" + pgErin + "> _(override #1 by <@" + h.alice + ">)_",
		"• Thu 24 Aug 07:00 UTC (09:00 CEST Europe/Berlin) → Fri 25 Aug 07:00 UTC (09:00 CEST Europe/Berlin): <@" + pgDave + ">"} {
		if !strings.Contains(text, want) {
			t.Errorf("oncall platform-primary lacks %q:\n%s", want, text)
		}
	}
	if got := ackText(h.slash(h.alice, h.general, "oncall nosuch")); !strings.Contains(got, `There is no schedule "nosuch"`) || !strings.Contains(got, "platform-primary, weekend") {
		t.Errorf("oncall nosuch answered %q", got)
	}
}
