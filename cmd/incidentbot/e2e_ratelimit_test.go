package main

import (
	"fmt"
	"testing"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// stormPins is how many messages the storm pins: at Slack's tier 3 (50
// calls a minute, here a second) its reads and confirmations take seconds.
const stormPins = 120

// tierLimits are Slack's per-minute limits for the methods the bot paces.
func tierLimits() map[string]int {
	limits := map[string]int{}
	for method, r := range bot.Tiers {
		limits[method] = r.PerMinute
	}
	return limits
}

// TestPinStormDoesNotHoldUpAnotherIncident runs a fake Slack that enforces
// Slack's method tiers (a minute made a second) and pins a storm of
// messages in one incident. Meanwhile another incident is paged and gets a
// customer update, and a third is declared: all of that shows in Slack
// while the storm is still being read and confirmed, not after it.
func TestPinStormDoesNotHoldUpAnotherIncident(t *testing.T) {
	h := buildHarness(t, slackfake.Options{RateLimits: tierLimits(), RateScale: 60},
		withConfig(func(c *Config) { c.SlackPace = 60 }))
	h.start()
	storm := h.declared(1, "declare sev2 Config updates not propagating")
	other := h.declared(2, "declare sev1 Checkout failing")
	h.idle()

	var last string
	for i := 1; i <= stormPins; i++ {
		last = h.fake.PostMessage(h.alice, storm.ID, fmt.Sprintf("storm finding %d", i))
		h.fake.AddReaction(h.alice, storm.ID, last, "pushpin")
	}
	h.waitFor("the storm's pins to be recorded", func() bool { return len(h.timeline(1)) >= stormPins })

	h.slash(h.alice, other.ID, "page <@"+h.bob+"> checkout is down")
	h.slash(h.alice, other.ID, "update identified A bad deploy; rolling back.")
	h.slash(h.alice, h.general, "declare sev3 Search slow")
	h.ExpectDM(h.bob, "You are being paged for INC-2")
	h.ExpectMessage(other.ID, "Preview of a customer update")
	h.incidentChannel(3)
	// Confirmations run in parallel, in any order: count them.
	if n := confirmations(h.fake); n >= stormPins {
		t.Errorf("all %d of the storm's pins were confirmed before the other incidents' page, update and declare showed: they waited for it", n)
	}
	h.waitFor("the storm's last confirmation", func() bool { return confirmations(h.fake) >= stormPins })
	// Paced, the bot stays within the limits: a call that lands on the
	// edge of Slack's window may still be refused now and then.
	calls, refused := 0, 0
	for _, c := range append(h.fake.Calls("reactions.add"), h.fake.Calls("conversations.history")...) {
		calls++
		if c.Status == 429 {
			refused++
		}
	}
	if refused*20 > calls {
		t.Errorf("%d of %d reads and confirmations were refused for going over Slack's limit: the bot should pace itself", refused, calls)
	}
}
