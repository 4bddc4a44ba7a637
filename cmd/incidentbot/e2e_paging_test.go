package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

func TestPagingPolicyAcknowledge(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	if ack := ackText(h.slash(h.alice, ch.ID, "page platform Checkout returns 500s")); ack != "" {
		t.Errorf("page answered %q, want nothing (the channel post says it)", ack)
	}
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	all := dm.Text + blockText(dm.Blocks) + string(dm.Blocks)
	for _, want := range []string{"INC-1", "SEV2", "Checkout is down", "<#" + ch.ID + ">", "<@" + h.alice + ">",
		"Checkout returns 500s", "policy platform, level 1 of 2", `"page_ack"`, `"page_decline"`, "Acknowledge", "Decline"} {
		if !strings.Contains(all, want) {
			t.Errorf("the page DM lacks %q:\n%s", want, all)
		}
	}
	h.ExpectMessage(ch.ID, ":pager: Paging policy platform (level 1 of 2)", "<@"+pgCarol+">", "within 5m")
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 0})

	h.FastForward(2 * time.Minute)
	h.clickDM(pgCarol, dm.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+pgCarol+">", "2m after paging")
	h.ExpectShows(h.fake.DM(pgCarol), dm.TS, "Acknowledged by <@"+pgCarol+">")
	if m, _ := h.fake.Message(h.fake.DM(pgCarol), dm.TS); strings.Contains(string(m.Blocks), "page_ack") {
		t.Errorf("the acknowledged DM still has buttons: %s", m.Blocks)
	}
	h.waitFor("carol to be invited to the incident channel", func() bool {
		c, _ := h.fake.Channel(ch.ID)
		return slices.Contains(c.Members, pgCarol)
	})
	if got, want := h.storedIncident(1).Times.Acknowledged, h.clock.Now(); !got.Equal(want) {
		t.Errorf("Times.Acknowledged = %v, want %v", got, want)
	}

	// Well past both timeouts, nobody else is paged.
	h.FastForward(6 * time.Minute)
	h.FastForward(20 * time.Minute)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 0})
	if n := len(botMessages(h.fake, ch.ID, "Nobody acknowledged")); n != 0 {
		t.Errorf("%d 'Nobody acknowledged' posts after an acknowledgement", n)
	}
	if n := h.countEvents(1, "acknowledged"); n != 1 {
		t.Errorf("%d acknowledged timeline events, want 1", n)
	}
}

func TestPagingDeclineMovesOnAtOnce(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	h.clickDM(pgCarol, dm.TS, "page_decline")

	// No clock advance: dave is paged because carol said no.
	daveDM := h.ExpectPage(pgDave, "INC-1", 1)
	if !strings.Contains(string(daveDM.Blocks), "level 2 of 2") {
		t.Errorf("dave's page is not of level 2: %s", daveDM.Blocks)
	}
	h.ExpectShows(h.fake.DM(pgCarol), dm.TS, "You declined this page")
	h.ExpectMessage(ch.ID, "<@"+pgCarol+"> declined the page")
	h.ExpectMessage(ch.ID, "Nobody acknowledged yet; paging policy platform (level 2 of 2)", "<@"+pgDave+">")
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
	if n := h.countEvents(1, "declined"); n != 1 {
		t.Errorf("%d declined timeline events, want 1", n)
	}
	if m, _ := h.fake.Message(h.fake.DM(pgCarol), dm.TS); strings.Contains(string(m.Blocks), "page_ack") {
		t.Errorf("the declined DM still has buttons: %s", m.Blocks)
	}
	// Level 1's timer, set before the decline, pages nobody; level 2 has
	// its full 10 minutes from the decline.
	h.FastForward(5 * time.Minute)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
	if n := len(botMessages(h.fake, ch.ID, "Nobody acknowledged the")); n != 0 {
		t.Errorf("gave up 5 minutes into level 2's 10")
	}
	h.FastForward(5 * time.Minute)
	h.ExpectMessage(ch.ID, ":warning: Nobody acknowledged the policy platform")
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
}

func TestPagingTimesOutThroughLevelsAndRepeats(t *testing.T) {
	h := pgHarness(t, pgPlatform(1))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	h.ExpectPage(pgCarol, "INC-1", 1)
	h.idle()
	for _, step := range []struct {
		after time.Duration
		who   string
		n     int
		post  string
	}{
		{5 * time.Minute, pgDave, 1, "(level 2 of 2)"},
		{10 * time.Minute, pgCarol, 2, "(level 1 of 2, repeat 1 of 1)"},
		{5 * time.Minute, pgDave, 2, "(level 2 of 2, repeat 1 of 1)"},
	} {
		h.FastForward(step.after - time.Second)
		if got := len(h.pages(step.who, "INC-1")); got != step.n-1 {
			t.Fatalf("%s has %d pages a second before the timeout, want %d", step.who, got, step.n-1)
		}
		h.FastForward(time.Second)
		h.ExpectPage(step.who, "INC-1", step.n)
		h.ExpectMessage(ch.ID, "Nobody acknowledged yet; paging policy platform "+step.post, "<@"+step.who+">")
	}
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 2, pgDave: 2})
	if n := len(botMessages(h.fake, ch.ID, "Nobody acknowledged the")); n != 0 {
		t.Fatalf("gave up before the last level's timeout: %d posts", n)
	}

	h.FastForward(10 * time.Minute)
	gaveUp := h.ExpectMessage(ch.ID, ":warning: Nobody acknowledged the policy platform", "Tried: <@"+pgCarol+">, <@"+pgDave+">")
	if !strings.Contains(gaveUp.Text, "page @someone") {
		t.Errorf("the give-up post does not say what to do: %s", gaveUp.Text)
	}
	var pages []slackfake.Message
	for _, u := range []string{pgCarol, pgDave} {
		pages = append(pages, h.pages(u, "INC-1")...)
	}
	slices.SortFunc(pages, func(a, b slackfake.Message) int { return strings.Compare(a.TS, b.TS) })
	var order []string
	for _, p := range pages {
		order = append(order, p.Channel)
	}
	c, d := h.fake.DM(pgCarol), h.fake.DM(pgDave)
	if want := []string{c, d, c, d}; !slices.Equal(order, want) {
		t.Errorf("pages went to %v, want carol, dave, carol, dave (%v)", order, want)
	}

	// Nothing more, however long nobody answers.
	h.FastForward(time.Hour)
	h.FastForward(24 * time.Hour)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 2, pgDave: 2})
	if n := len(botMessages(h.fake, ch.ID, "Nobody acknowledged the")); n != 1 {
		t.Errorf("%d give-up posts, want 1", n)
	}

	// A late acknowledgement still counts, typed in the channel too, and
	// settles every DM.
	if text := ackText(h.slash(h.bob, ch.ID, "ack")); text != "" {
		t.Errorf("a late /incident ack answered %q", text)
	}
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+h.bob+">")
	for _, p := range pages {
		h.ExpectShows(p.Channel, p.TS, "Acknowledged by <@"+h.bob+">")
	}
	if h.storedIncident(1).Times.Acknowledged.IsZero() {
		t.Error("a late acknowledgement did not set Times.Acknowledged")
	}
}

// A person paged directly is asked twice, 5 minutes apart; a late click
// on the first DM still counts.
func TestPagingDirectPageRepeatsOnce(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <@"+pgCarol+"> can you look?")
	first := h.ExpectPage(pgCarol, "INC-1", 1)
	h.ExpectMessage(ch.ID, ":pager: Paging direct page (level 1 of 1): <@"+pgCarol+">", "can you look?")
	h.FastForward(5 * time.Minute)
	h.ExpectPage(pgCarol, "INC-1", 2)
	h.FastForward(5 * time.Minute)
	h.ExpectMessage(ch.ID, ":warning: Nobody acknowledged the direct page", "Tried: <@"+pgCarol+">")
	h.FastForward(time.Hour)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 2})
	h.clickDM(pgCarol, first.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+pgCarol+">")
	for _, p := range h.pages(pgCarol, "INC-1") {
		h.ExpectShows(p.Channel, p.TS, "Acknowledged by <@"+pgCarol+">")
	}
}

// Resolving stops paging: the DMs say so and lose their buttons.
func TestPagingStopsOnResolve(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	h.slash(h.alice, ch.ID, "resolve")
	h.ExpectShows(h.fake.DM(pgCarol), dm.TS, "Paging stopped")
	if m, _ := h.fake.Message(h.fake.DM(pgCarol), dm.TS); strings.Contains(string(m.Blocks), "page_ack") {
		t.Errorf("the DM still has buttons after resolve: %s", m.Blocks)
	}
	h.waitFor("the paging_stopped entry", func() bool { return h.hasEvent(1, "paging_stopped", "resolved") })
	h.FastForward(time.Hour)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 0})
	if e := h.storedIncident(1).Escalations[0]; e.State != incident.EscalationCancelled {
		t.Errorf("escalation %s after resolve, want cancelled", e.State)
	}

	// Paging that ran out before the resolve stops offering a late ack.
	ch2 := h.declared(2, "declare sev2 Search is slow")
	h.slash(h.alice, ch2.ID, "page <@"+pgDave+">")
	h.ExpectPage(pgDave, "INC-2", 1)
	h.FastForward(5 * time.Minute)
	h.ExpectPage(pgDave, "INC-2", 2)
	h.FastForward(5 * time.Minute)
	h.ExpectMessage(ch2.ID, ":warning: Nobody acknowledged the direct page")
	h.slash(h.alice, ch2.ID, "resolve")
	h.ExpectMessage(ch2.ID, "INC-2 resolved")
	for _, p := range h.pages(pgDave, "INC-2") {
		h.ExpectShows(p.Channel, p.TS, "Paging stopped")
		if m, _ := h.fake.Message(p.Channel, p.TS); strings.Contains(string(m.Blocks), "page_ack") {
			t.Errorf("a page of a resolved incident still offers Acknowledge: %s", m.Blocks)
		}
	}
	if text := ackText(h.slash(h.bob, ch2.ID, "ack")); !strings.Contains(text, "Nothing to acknowledge") {
		t.Errorf("/incident ack on a resolved incident answered %q", text)
	}
	h.idle()
	if inc := h.storedIncident(2); !inc.Times.Acknowledged.IsZero() || h.countEvents(2, "acknowledged") != 0 {
		t.Errorf("a resolved incident was acknowledged: %v", inc.Times.Acknowledged)
	}
}

func TestPagingResumesAfterRestart(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	page := h.fake.SlashCommand(h.alice, ch.ID, "page platform")
	h.waitAck(page)
	h.ExpectPage(pgCarol, "INC-1", 1)
	h.idle()
	h.waitAck(h.fake.Redeliver(page))
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 0})

	// The bot is down when level 1 times out; level 2 is paged on start.
	h.stop()
	h.FastForward(6 * time.Minute) // the bot is down: only the clock moves
	h.start()
	h.ExpectPage(pgDave, "INC-1", 1)
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 1})

	// Slack retrying the old command pages nobody again.
	h.waitAck(h.fake.Redeliver(page))
	h.idle()
	h.FastForward(time.Minute)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
	if n := len(h.storedIncident(1).Escalations); n != 1 {
		t.Errorf("%d escalations after redeliveries, want 1", n)
	}
	if n := len(botMessages(h.fake, ch.ID, "Paging policy platform (level 1")); n != 1 {
		t.Errorf("%d 'Paging' posts for level 1, want 1", n)
	}
}

func TestPagingAutomaticallyBySeverity(t *testing.T) {
	h := pgHarness(t, pgPlatform(0)+"severity_defaults:\n  sev1: platform\n")
	ch := h.declared(1, "declare sev1 Everything is down")
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	if !containsAll(dm.Text+blockText(dm.Blocks), "SEV1", "Paged by <@"+h.alice+">", "SEV1 incidents page platform automatically") {
		t.Errorf("the page does not say who and why: %s", dm.Blocks)
	}
	h.ExpectMessage(ch.ID, ":pager: Paging policy platform (level 1 of 2)", "SEV1 incidents page platform automatically")

	ch2 := h.declared(2, "declare sev3 A typo on the status page")
	h.idle()
	h.ExpectPageCounts("INC-2", map[string]int{pgCarol: 0, pgDave: 0})
	if n := len(botMessages(h.fake, ch2.ID, ":pager:")); n != 0 {
		t.Errorf("a SEV3 was paged: %d posts", n)
	}

	h.slash(h.alice, ch2.ID, "severity sev1")
	h.ExpectPage(pgCarol, "INC-2", 1)
	h.ExpectMessage(ch2.ID, ":pager: Paging policy platform")
	// Down and up again: the policy was paged for this incident already.
	h.slash(h.alice, ch2.ID, "severity sev2")
	h.slash(h.alice, ch2.ID, "severity sev1")
	h.idle()
	h.ExpectPageCounts("INC-2", map[string]int{pgCarol: 1, pgDave: 0})
	if n := len(h.storedIncident(2).Escalations); n != 1 {
		t.Errorf("%d escalations after two upgrades, want 1", n)
	}
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1})
}

func TestPagingInPostmortem(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down") // 10:00
	h.FastForward(time.Minute)
	h.slash(h.alice, ch.ID, "page platform Database failover") // 10:01
	h.ExpectPage(pgCarol, "INC-1", 1)                          // who never answers
	h.idle()
	h.FastForward(5 * time.Minute)
	dave := h.ExpectPage(pgDave, "INC-1", 1) // 10:06
	h.FastForward(2 * time.Minute)
	h.clickDM(pgDave, dave.TS, "page_ack") // 10:08
	h.ExpectMessage(ch.ID, "Page acknowledged by")
	h.FastForward(10 * time.Minute)
	h.slash(h.alice, ch.ID, "resolve Failed over to the replica")

	doc := string(h.ExpectUpload("INC-1-postmortem.md").Content)
	_, section, _ := strings.Cut(doc, "## Responders and paging")
	section, _, _ = strings.Cut(section, "\n## ")
	for _, want := range []string{
		"**2023-08-17 10:01 UTC** policy platform by alice: Database failover",
		"acknowledged by dave at 2023-08-17 10:08 UTC, 7m after paging",
		"2023-08-17 10:01 UTC level 1: carol — sent",
		"2023-08-17 10:06 UTC level 2: dave — acknowledged",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the paging section lacks %q:\n%s", want, section)
		}
	}
	for _, want := range []string{"| Acknowledged | 2023-08-17 10:08 UTC |", "| Time to acknowledge | 8m (from declared"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the key times lack %q:\n%s", want, doc)
		}
	}
}

func TestPagingBadInput(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	for _, tc := range []struct {
		channel, text string
		want          []string
	}{
		{ch.ID, "page", []string{"Whom should I page?", "/incident page platform", "/incident oncall"}},
		{ch.ID, "page   ", []string{"Whom should I page?", "/incident page platform"}},
		{ch.ID, "page frobnicate now", []string{`"frobnicate" is not a policy, a person or a user group`, "Policies: platform"}},
		{ch.ID, "page SECURITY team please", []string{`"SECURITY" is not a policy, a person or a user group`, "Policies: platform"}},
		{ch.ID, "page WEBSITE is down", []string{`"WEBSITE" is not a policy, a person or a user group`}},
		{ch.ID, "page <!channel> help", []string{"is not a policy", "/incident page platform"}},
		{ch.ID, "page <!here>", []string{"is not a policy", "/incident page platform"}},
		{h.general, "page platform", []string{"not an incident channel", "/incident list"}},
	} {
		ack := h.slash(h.alice, tc.channel, tc.text)
		if text := ackText(ack); !containsAll(text, tc.want...) {
			t.Errorf("%q answered %q, want %q", tc.text, text, tc.want)
		}
		if !strings.Contains(ack, `"response_type":"ephemeral"`) {
			t.Errorf("%q answered in public: %s", tc.text, ack)
		}
		if strings.Contains(ack, "<!channel>") || strings.Contains(ack, "<!here>") {
			t.Errorf("%q: the answer pings everyone: %s", tc.text, ack)
		}
	}
	h.slash(h.alice, ch.ID, "resolve")
	h.ExpectMessage(ch.ID, "INC-1 resolved")
	if text := ackText(h.slash(h.alice, ch.ID, "page platform")); !containsAll(text, "INC-1 is resolved", "/incident reopen") {
		t.Errorf("page on a resolved incident answered %q", text)
	}
	h.idle()
	for _, u := range []string{pgCarol, pgDave, h.bob} {
		if n := len(h.pages(u, "INC-1")); n != 0 {
			t.Errorf("%s was paged by bad input: %d DMs", u, n)
		}
	}
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "<!channel>") || strings.Contains(m.Text, "<!here>") || strings.HasPrefix(m.Text, ":pager:") {
			t.Errorf("bad input reached the channel: %s", m.Text)
		}
	}
	if n := len(h.storedIncident(1).Escalations); n != 0 {
		t.Errorf("%d escalations from bad input", n)
	}
}
