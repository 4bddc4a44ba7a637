package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// The on-call people of the paging tests; the escalation files name them.
const (
	pgCarol = "U0CAROL01"
	pgDave  = "U0DAVE001"
	pgErin  = "U0ERIN001"
)

// pgPlatform is a policy of two levels, carol for 5m then dave for 10m,
// run through repeat more times.
func pgPlatform(repeat int) string {
	return fmt.Sprintf(`policies:
  - name: platform
    description: Platform on-call
    repeat: %d
    levels:
      - targets: [%s]
        timeout: 5m
      - targets: [%s]
        timeout: 10m
`, repeat, pgCarol, pgDave)
}

// pgHarness starts the bot on a simulated clock with an escalation file
// holding policy, and carol, dave and erin in the workspace.
func pgHarness(t *testing.T, policy string, opts ...harnessOption) (*harness, *simClock) {
	t.Helper()
	clock := newSimClock(time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC))
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(h *harness) {
		h.deps.Clock = clock
		h.cfg.EscalationFile = file
		for _, u := range []slackfake.User{{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"},
			{ID: pgDave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"},
			{ID: pgErin, Name: "erin", RealName: "Erin Eck", DisplayName: "erin"}} {
			h.fake.AddUser(u)
		}
	}
	return newHarness(t, append([]harnessOption{base}, opts...)...), clock
}

// pgPages are the page DMs user got about incident ref, oldest first.
func (h *harness) pgPages(user, ref string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.fake.Messages(h.fake.DM(user)) {
		if m.BotID != "" && strings.Contains(m.Text, "You are being paged for "+ref+" (") {
			out = append(out, m)
		}
	}
	return out
}

// pgPage waits for user's n-th page DM about ref and returns it.
func (h *harness) pgPage(user, ref string, n int) slackfake.Message {
	h.t.Helper()
	var m slackfake.Message
	h.waitFor(fmt.Sprintf("page DM %d of %s to %s", n, ref, user), func() bool {
		pages := h.pgPages(user, ref)
		if len(pages) >= n {
			m = pages[n-1]
			return true
		}
		return false
	})
	return m
}

// pgShows waits until the DM at ts shows want (after chat.update).
func (h *harness) pgShows(dm, ts, want string) {
	h.t.Helper()
	h.waitFor("the DM "+dm+"/"+ts+" to show "+want, func() bool {
		m, _ := h.fake.Message(dm, ts)
		return strings.Contains(m.Text+string(m.Blocks), want)
	})
}

// pgTick moves the simulated clock and waits until the due work is done.
func (h *harness) pgTick(clock *simClock, d time.Duration) {
	h.t.Helper()
	clock.Advance(d)
	h.app.bot.Kick()
	h.idle()
}

// pgPosts are the bot's messages in channel containing part, oldest first.
func (h *harness) pgPosts(channel, part string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.fake.Messages(channel) {
		if m.BotID != "" && strings.Contains(m.Text, part) {
			out = append(out, m)
		}
	}
	return out
}

// pgEvents counts incident id's timeline events of a kind.
func (h *harness) pgEvents(id int64, event string) int {
	h.t.Helper()
	n := 0
	for _, e := range h.tlEntries(id) {
		if e.Kind == incident.KindEvent && e.Event == event {
			n++
		}
	}
	return n
}

// pgExpectPages checks how many page DMs about ref each user has.
func (h *harness) pgExpectPages(ref string, want map[string]int) {
	h.t.Helper()
	for user, n := range want {
		if got := len(h.pgPages(user, ref)); got != n {
			h.t.Errorf("%s got %d page DMs about %s, want %d", user, got, ref, n)
		}
	}
}

func TestPagingPolicyAcknowledge(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	if ack := ackText(h.slash(h.alice, ch.ID, "page platform Checkout returns 500s")); ack != "" {
		t.Errorf("page answered %q, want nothing (the channel post says it)", ack)
	}
	dm := h.pgPage(pgCarol, "INC-1", 1)
	all := dm.Text + lcBlockText(dm.Blocks) + string(dm.Blocks)
	for _, want := range []string{"INC-1", "SEV2", "Checkout is down", "<#" + ch.ID + ">", "<@" + h.alice + ">",
		"Checkout returns 500s", "policy platform, level 1 of 2", `"page_ack"`, `"page_decline"`, "Acknowledge", "Decline"} {
		if !strings.Contains(all, want) {
			t.Errorf("the page DM lacks %q:\n%s", want, all)
		}
	}
	h.messageWith(ch.ID, ":pager: Paging policy platform (level 1 of 2)", "<@"+pgCarol+">", "within 5m")
	h.idle()
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 0})

	h.pgTick(clock, 2*time.Minute)
	h.waitAck(h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_ack"))
	h.messageWith(ch.ID, "Page acknowledged by <@"+pgCarol+">", "2m after paging")
	h.pgShows(h.fake.DM(pgCarol), dm.TS, "Acknowledged by <@"+pgCarol+">")
	if m, _ := h.fake.Message(h.fake.DM(pgCarol), dm.TS); strings.Contains(string(m.Blocks), "page_ack") {
		t.Errorf("the acknowledged DM still has buttons: %s", m.Blocks)
	}
	h.waitFor("carol to be invited to the incident channel", func() bool {
		c, _ := h.fake.Channel(ch.ID)
		return slices.Contains(c.Members, pgCarol)
	})
	if got, want := h.lcIncident(1).Times.Acknowledged, clock.Now(); !got.Equal(want) {
		t.Errorf("Times.Acknowledged = %v, want %v", got, want)
	}

	// Well past both timeouts, nobody else is paged.
	h.pgTick(clock, 6*time.Minute)
	h.pgTick(clock, 20*time.Minute)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 0})
	if n := len(h.pgPosts(ch.ID, "Nobody acknowledged")); n != 0 {
		t.Errorf("%d 'Nobody acknowledged' posts after an acknowledgement", n)
	}
	if n := h.pgEvents(1, "acknowledged"); n != 1 {
		t.Errorf("%d acknowledged timeline events, want 1", n)
	}
}

func TestPagingDeclineMovesOnAtOnce(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.pgPage(pgCarol, "INC-1", 1)
	h.waitAck(h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_decline"))

	// No clock advance: dave is paged because carol said no.
	daveDM := h.pgPage(pgDave, "INC-1", 1)
	if !strings.Contains(string(daveDM.Blocks), "level 2 of 2") {
		t.Errorf("dave's page is not of level 2: %s", daveDM.Blocks)
	}
	h.pgShows(h.fake.DM(pgCarol), dm.TS, "You declined this page")
	h.messageWith(ch.ID, "<@"+pgCarol+"> declined the page")
	h.messageWith(ch.ID, "Nobody acknowledged yet; paging policy platform (level 2 of 2)", "<@"+pgDave+">")
	h.idle()
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
	if n := h.pgEvents(1, "declined"); n != 1 {
		t.Errorf("%d declined timeline events, want 1", n)
	}
	if m, _ := h.fake.Message(h.fake.DM(pgCarol), dm.TS); strings.Contains(string(m.Blocks), "page_ack") {
		t.Errorf("the declined DM still has buttons: %s", m.Blocks)
	}
	// Level 1's timer, set before the decline, pages nobody; level 2 has
	// its full 10 minutes from the decline.
	h.pgTick(clock, 5*time.Minute)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
	if n := len(h.pgPosts(ch.ID, "Nobody acknowledged the")); n != 0 {
		t.Errorf("gave up 5 minutes into level 2's 10")
	}
	h.pgTick(clock, 5*time.Minute)
	h.messageWith(ch.ID, ":warning: Nobody acknowledged the policy platform")
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
}

func TestPagingTimesOutThroughLevelsAndRepeats(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(1))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	h.pgPage(pgCarol, "INC-1", 1)
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
		h.pgTick(clock, step.after-time.Second)
		if got := len(h.pgPages(step.who, "INC-1")); got != step.n-1 {
			t.Fatalf("%s has %d pages a second before the timeout, want %d", step.who, got, step.n-1)
		}
		h.pgTick(clock, time.Second)
		h.pgPage(step.who, "INC-1", step.n)
		h.messageWith(ch.ID, "Nobody acknowledged yet; paging policy platform "+step.post, "<@"+step.who+">")
	}
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 2, pgDave: 2})
	if n := len(h.pgPosts(ch.ID, "Nobody acknowledged the")); n != 0 {
		t.Fatalf("gave up before the last level's timeout: %d posts", n)
	}

	h.pgTick(clock, 10*time.Minute)
	gaveUp := h.messageWith(ch.ID, ":warning: Nobody acknowledged the policy platform", "Tried: <@"+pgCarol+">, <@"+pgDave+">")
	if !strings.Contains(gaveUp.Text, "page @someone") {
		t.Errorf("the give-up post does not say what to do: %s", gaveUp.Text)
	}
	var pages []slackfake.Message
	for _, u := range []string{pgCarol, pgDave} {
		pages = append(pages, h.pgPages(u, "INC-1")...)
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
	h.pgTick(clock, time.Hour)
	h.pgTick(clock, 24*time.Hour)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 2, pgDave: 2})
	if n := len(h.pgPosts(ch.ID, "Nobody acknowledged the")); n != 1 {
		t.Errorf("%d give-up posts, want 1", n)
	}

	// A late acknowledgement still counts, typed in the channel too, and
	// settles every DM.
	if text := ackText(h.slash(h.bob, ch.ID, "ack")); text != "" {
		t.Errorf("a late /incident ack answered %q", text)
	}
	h.messageWith(ch.ID, "Page acknowledged by <@"+h.bob+">")
	for _, p := range pages {
		h.pgShows(p.Channel, p.TS, "Acknowledged by <@"+h.bob+">")
	}
	if h.lcIncident(1).Times.Acknowledged.IsZero() {
		t.Error("a late acknowledgement did not set Times.Acknowledged")
	}
}

// A person paged directly is asked twice, 5 minutes apart; a late click
// on the first DM still counts.
func TestPagingDirectPageRepeatsOnce(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <@"+pgCarol+"> can you look?")
	first := h.pgPage(pgCarol, "INC-1", 1)
	h.messageWith(ch.ID, ":pager: Paging direct page (level 1 of 1): <@"+pgCarol+">", "can you look?")
	h.pgTick(clock, 5*time.Minute)
	h.pgPage(pgCarol, "INC-1", 2)
	h.pgTick(clock, 5*time.Minute)
	h.messageWith(ch.ID, ":warning: Nobody acknowledged the direct page", "Tried: <@"+pgCarol+">")
	h.pgTick(clock, time.Hour)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 2})
	h.waitAck(h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), first.TS, "page_ack"))
	h.messageWith(ch.ID, "Page acknowledged by <@"+pgCarol+">")
	for _, p := range h.pgPages(pgCarol, "INC-1") {
		h.pgShows(p.Channel, p.TS, "Acknowledged by <@"+pgCarol+">")
	}
}

// Resolving stops paging: the DMs say so and lose their buttons.
func TestPagingStopsOnResolve(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.pgPage(pgCarol, "INC-1", 1)
	h.slash(h.alice, ch.ID, "resolve")
	h.pgShows(h.fake.DM(pgCarol), dm.TS, "Paging stopped")
	if m, _ := h.fake.Message(h.fake.DM(pgCarol), dm.TS); strings.Contains(string(m.Blocks), "page_ack") {
		t.Errorf("the DM still has buttons after resolve: %s", m.Blocks)
	}
	h.waitFor("the paging_stopped entry", func() bool { return h.lcHasEvent(1, "paging_stopped", "resolved") })
	h.pgTick(clock, time.Hour)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 0})
	if e := h.lcIncident(1).Escalations[0]; e.State != incident.EscalationCancelled {
		t.Errorf("escalation %s after resolve, want cancelled", e.State)
	}

	// Paging that ran out before the resolve stops offering a late ack.
	ch2 := h.declared(2, "declare sev2 Search is slow")
	h.slash(h.alice, ch2.ID, "page <@"+pgDave+">")
	h.pgPage(pgDave, "INC-2", 1)
	h.pgTick(clock, 5*time.Minute)
	h.pgPage(pgDave, "INC-2", 2)
	h.pgTick(clock, 5*time.Minute)
	h.messageWith(ch2.ID, ":warning: Nobody acknowledged the direct page")
	h.slash(h.alice, ch2.ID, "resolve")
	h.messageWith(ch2.ID, "INC-2 resolved")
	for _, p := range h.pgPages(pgDave, "INC-2") {
		h.pgShows(p.Channel, p.TS, "Paging stopped")
		if m, _ := h.fake.Message(p.Channel, p.TS); strings.Contains(string(m.Blocks), "page_ack") {
			t.Errorf("a page of a resolved incident still offers Acknowledge: %s", m.Blocks)
		}
	}
	if text := ackText(h.slash(h.bob, ch2.ID, "ack")); !strings.Contains(text, "Nothing to acknowledge") {
		t.Errorf("/incident ack on a resolved incident answered %q", text)
	}
	h.idle()
	if inc := h.lcIncident(2); !inc.Times.Acknowledged.IsZero() || h.pgEvents(2, "acknowledged") != 0 {
		t.Errorf("a resolved incident was acknowledged: %v", inc.Times.Acknowledged)
	}
}

// An acknowledgement and a timeout at the same moment: whichever commits
// first, nobody is left with a live page, and the ack is recorded once.
// Each round races them in another order: the click first, the clock
// first, the click just after the timer's commit (level 2's DM in flight),
// and the click after level 2's DM arrived.
func TestPagingAcknowledgeRacesTimeout(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	const rounds = 12
	timerFirst, daveDMs := 0, 0
	for i := 1; i <= rounds; i++ {
		ref := "INC-" + itoa(i)
		ch := h.declared(i, "declare sev2 Race "+itoa(i))
		h.slash(h.alice, ch.ID, "page platform")
		dm := h.pgPage(pgCarol, ref, 1)
		h.idle()
		click := func() string { return h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_ack") }
		tick := func() { clock.Advance(5 * time.Minute); h.app.bot.Kick() }
		var env string
		switch i % 4 {
		case 0:
			env = click()
			tick()
		case 1:
			tick()
			env = click()
		case 2:
			tick()
			h.waitFor("the timer's commit", func() bool { return h.lcIncident(int64(i)).Escalations[0].Step == 1 })
			env = click()
		case 3:
			tick()
			h.pgPage(pgDave, ref, 1)
			env = click()
		}
		h.waitAck(env)
		h.idle()

		if n := h.pgEvents(int64(i), "acknowledged"); n != 1 {
			t.Errorf("%s: %d acknowledged timeline events, want 1", ref, n)
		}
		inc := h.lcIncident(int64(i))
		if e := inc.Escalations[0]; e.State != incident.EscalationAcknowledged || e.AckedBy.ID != pgCarol {
			t.Errorf("%s: escalation %s by %q, want acknowledged by carol", ref, e.State, e.AckedBy.ID)
		}
		if inc.Times.Acknowledged.IsZero() {
			t.Errorf("%s: Times.Acknowledged not set", ref)
		}
		if inc.Escalations[0].Step == 1 {
			timerFirst++
		}
		// A page to dave that went out around the ack is settled, not left live.
		for _, p := range h.pgPages(pgDave, ref) {
			daveDMs++
			h.pgShows(p.Channel, p.TS, "Acknowledged by <@"+pgCarol+">")
		}
		var acked bool
		for _, m := range h.fake.Messages(ch.ID) {
			acked = acked || strings.Contains(m.Text, "Page acknowledged by")
			if acked && strings.HasPrefix(m.Text, ":pager:") {
				t.Errorf("%s: paged after the acknowledgement: %s", ref, m.Text)
			}
		}
	}
	h.pgTick(clock, time.Hour)
	for i := 1; i <= rounds; i++ {
		if n := len(h.pgPages(pgDave, "INC-"+itoa(i))); n > 1 {
			t.Errorf("INC-%d: dave got %d pages", i, n)
		}
		for _, p := range h.pgPages(pgDave, "INC-"+itoa(i)) {
			if m, _ := h.fake.Message(p.Channel, p.TS); strings.Contains(string(m.Blocks), "page_ack") {
				t.Errorf("INC-%d: dave's page still has buttons after the ack", i)
			}
		}
	}
	t.Logf("the timer committed first in %d of %d rounds; %d pages to level 2 went out", timerFirst, rounds, daveDMs)
}

// Two people acknowledge at once: one wins, the other is told who.
func TestPagingTwoAcknowledgeAtOnce(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	carol := h.pgPage(pgCarol, "INC-1", 1)
	h.pgTick(clock, 5*time.Minute)
	dave := h.pgPage(pgDave, "INC-1", 1)
	h.idle()
	a := h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), carol.TS, "page_ack")
	b := h.fake.ClickButton(pgDave, h.fake.DM(pgDave), dave.TS, "page_ack")
	h.waitAck(a)
	h.waitAck(b)
	h.idle()
	if n := h.pgEvents(1, "acknowledged"); n != 1 {
		t.Fatalf("%d acknowledged events, want 1", n)
	}
	winner, loser := pgCarol, pgDave
	if h.lcIncident(1).Escalations[0].AckedBy.ID == pgDave {
		winner, loser = pgDave, pgCarol
	}
	h.ephemeralWith(loser, "already acknowledged by <@"+winner+">", "<#"+ch.ID+">")
	if n := len(h.pgPosts(ch.ID, "Page acknowledged by")); n != 1 {
		t.Errorf("%d 'Page acknowledged' posts, want 1", n)
	}
	h.pgShows(h.fake.DM(pgCarol), carol.TS, "Acknowledged by <@"+winner+">")
	h.pgShows(h.fake.DM(pgDave), dave.TS, "Acknowledged by <@"+winner+">")
}

// A decline at the moment level 1 times out moves on once, not twice.
func TestPagingDeclineRacesTimeout(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(1))
	const rounds = 6
	for i := 1; i <= rounds; i++ {
		ref := "INC-" + itoa(i)
		ch := h.declared(i, "declare sev2 Race "+itoa(i))
		h.slash(h.alice, ch.ID, "page platform")
		dm := h.pgPage(pgCarol, ref, 1)
		h.idle()
		click := func() string { return h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_decline") }
		tick := func() { clock.Advance(5 * time.Minute); h.app.bot.Kick() }
		var env string
		switch i % 3 {
		case 0:
			env = click()
			tick()
		case 1:
			tick()
			env = click()
		case 2:
			tick()
			h.waitFor("the timer's commit", func() bool { return h.lcIncident(int64(i)).Escalations[0].Step == 1 })
			env = click()
		}
		h.waitAck(env)
		h.idle()
		h.pgPage(pgDave, ref, 1)
		h.pgExpectPages(ref, map[string]int{pgCarol: 1, pgDave: 1})
		if e := h.lcIncident(int64(i)).Escalations[0]; e.Step != 1 || !e.Active() {
			t.Errorf("%s: escalation at step %d (%s), want level 2 still waiting", ref, e.Step, e.State)
		}
		if n := len(h.pgPosts(ch.ID, ":pager:")); n != 2 {
			t.Errorf("%s: %d paging posts, want 2", ref, n)
		}
		h.waitAck(h.fake.ClickButton(pgDave, h.fake.DM(pgDave), h.pgPage(pgDave, ref, 1).TS, "page_ack"))
	}
}

func TestPagingResumesAfterRestart(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	page := h.fake.SlashCommand(h.alice, ch.ID, "page platform")
	h.waitAck(page)
	h.pgPage(pgCarol, "INC-1", 1)
	h.idle()
	h.waitAck(h.fake.Redeliver(page))
	h.idle()
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 0})

	// The bot is down when level 1 times out; level 2 is paged on start.
	h.stop()
	clock.Advance(6 * time.Minute)
	h.start()
	h.pgPage(pgDave, "INC-1", 1)
	h.idle()
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 1})

	// Slack retrying the old command pages nobody again.
	h.waitAck(h.fake.Redeliver(page))
	h.idle()
	h.pgTick(clock, time.Minute)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 1})
	if n := len(h.lcIncident(1).Escalations); n != 1 {
		t.Errorf("%d escalations after redeliveries, want 1", n)
	}
	if n := len(h.pgPosts(ch.ID, "Paging policy platform (level 1")); n != 1 {
		t.Errorf("%d 'Paging' posts for level 1, want 1", n)
	}
}

func TestPagingAutomaticallyBySeverity(t *testing.T) {
	h, _ := pgHarness(t, pgPlatform(0)+"severity_defaults:\n  sev1: platform\n")
	ch := h.declared(1, "declare sev1 Everything is down")
	dm := h.pgPage(pgCarol, "INC-1", 1)
	if !containsAll(dm.Text+lcBlockText(dm.Blocks), "SEV1", "Paged by <@"+h.alice+">", "SEV1 incidents page platform automatically") {
		t.Errorf("the page does not say who and why: %s", dm.Blocks)
	}
	h.messageWith(ch.ID, ":pager: Paging policy platform (level 1 of 2)", "SEV1 incidents page platform automatically")

	ch2 := h.declared(2, "declare sev3 A typo on the status page")
	h.idle()
	h.pgExpectPages("INC-2", map[string]int{pgCarol: 0, pgDave: 0})
	if n := len(h.pgPosts(ch2.ID, ":pager:")); n != 0 {
		t.Errorf("a SEV3 was paged: %d posts", n)
	}

	h.slash(h.alice, ch2.ID, "severity sev1")
	h.pgPage(pgCarol, "INC-2", 1)
	h.messageWith(ch2.ID, ":pager: Paging policy platform")
	// Down and up again: the policy was paged for this incident already.
	h.slash(h.alice, ch2.ID, "severity sev2")
	h.slash(h.alice, ch2.ID, "severity sev1")
	h.idle()
	h.pgExpectPages("INC-2", map[string]int{pgCarol: 1, pgDave: 0})
	if n := len(h.lcIncident(2).Escalations); n != 1 {
		t.Errorf("%d escalations after two upgrades, want 1", n)
	}
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1})
}

func TestPagingInPostmortem(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down") // 10:00
	h.pgTick(clock, time.Minute)
	h.slash(h.alice, ch.ID, "page platform Database failover") // 10:01
	h.pgPage(pgCarol, "INC-1", 1)                              // who never answers
	h.idle()
	h.pgTick(clock, 5*time.Minute)
	dave := h.pgPage(pgDave, "INC-1", 1) // 10:06
	h.pgTick(clock, 2*time.Minute)
	h.waitAck(h.fake.ClickButton(pgDave, h.fake.DM(pgDave), dave.TS, "page_ack")) // 10:08
	h.messageWith(ch.ID, "Page acknowledged by")
	h.pgTick(clock, 10*time.Minute)
	h.slash(h.alice, ch.ID, "resolve Failed over to the replica")

	doc := string(h.tlDraft("INC-1-postmortem.md").Content)
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
	h, _ := pgHarness(t, pgPlatform(0))
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
	h.messageWith(ch.ID, "INC-1 resolved")
	if text := ackText(h.slash(h.alice, ch.ID, "page platform")); !containsAll(text, "INC-1 is resolved", "/incident reopen") {
		t.Errorf("page on a resolved incident answered %q", text)
	}
	h.idle()
	for _, u := range []string{pgCarol, pgDave, h.bob} {
		if n := len(h.pgPages(u, "INC-1")); n != 0 {
			t.Errorf("%s was paged by bad input: %d DMs", u, n)
		}
	}
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "<!channel>") || strings.Contains(m.Text, "<!here>") || strings.HasPrefix(m.Text, ":pager:") {
			t.Errorf("bad input reached the channel: %s", m.Text)
		}
	}
	if n := len(h.lcIncident(1).Escalations); n != 0 {
		t.Errorf("%d escalations from bad input", n)
	}
}
