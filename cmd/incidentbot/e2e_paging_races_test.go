package main

// Paging races: answers at the moment a level times out, and two answers
// at once.

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// An acknowledgement and a timeout at the same moment: whichever commits
// first, nobody is left with a live page, and the ack is recorded once.
// Each round races them in another order: the click first, the clock
// first, the click just after the timer's commit (level 2's DM in flight),
// and the click after level 2's DM arrived.
func TestPagingAcknowledgeRacesTimeout(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	const rounds = 12
	timerFirst, daveDMs := 0, 0
	for i := 1; i <= rounds; i++ {
		ref := "INC-" + itoa(i)
		ch, dm := h.racePaged(i)
		h.waitAck(h.raceTimeout(i%4, i, func() string { return h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_ack") }))
		h.idle()

		if n := h.countEvents(int64(i), "acknowledged"); n != 1 {
			t.Errorf("%s: %d acknowledged timeline events, want 1", ref, n)
		}
		inc := h.storedIncident(int64(i))
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
		for _, p := range h.pages(pgDave, ref) {
			daveDMs++
			h.ExpectShows(p.Channel, p.TS, "Acknowledged by <@"+pgCarol+">")
		}
		var acked bool
		for _, m := range h.fake.Messages(ch.ID) {
			acked = acked || strings.Contains(m.Text, "Page acknowledged by")
			if acked && strings.HasPrefix(m.Text, ":pager:") {
				t.Errorf("%s: paged after the acknowledgement: %s", ref, m.Text)
			}
		}
	}
	h.FastForward(time.Hour)
	for i := 1; i <= rounds; i++ {
		if n := len(h.pages(pgDave, "INC-"+itoa(i))); n > 1 {
			t.Errorf("INC-%d: dave got %d pages", i, n)
		}
		for _, p := range h.pages(pgDave, "INC-"+itoa(i)) {
			if m, _ := h.fake.Message(p.Channel, p.TS); strings.Contains(string(m.Blocks), "page_ack") {
				t.Errorf("INC-%d: dave's page still has buttons after the ack", i)
			}
		}
	}
	t.Logf("the timer committed first in %d of %d rounds; %d pages to level 2 went out", timerFirst, rounds, daveDMs)
}

// Two people acknowledge at once: one wins, the other is told who.
func TestPagingTwoAcknowledgeAtOnce(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page platform")
	carol := h.ExpectPage(pgCarol, "INC-1", 1)
	h.FastForward(5 * time.Minute)
	dave := h.ExpectPage(pgDave, "INC-1", 1)
	h.idle()
	a := h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), carol.TS, "page_ack")
	b := h.fake.ClickButton(pgDave, h.fake.DM(pgDave), dave.TS, "page_ack")
	h.waitAck(a)
	h.waitAck(b)
	h.idle()
	if n := h.countEvents(1, "acknowledged"); n != 1 {
		t.Fatalf("%d acknowledged events, want 1", n)
	}
	winner, loser := pgCarol, pgDave
	if h.storedIncident(1).Escalations[0].AckedBy.ID == pgDave {
		winner, loser = pgDave, pgCarol
	}
	h.ExpectEphemeral(loser, "already acknowledged by <@"+winner+">", "<#"+ch.ID+">")
	if n := len(botMessages(h.fake, ch.ID, "Page acknowledged by")); n != 1 {
		t.Errorf("%d 'Page acknowledged' posts, want 1", n)
	}
	h.ExpectShows(h.fake.DM(pgCarol), carol.TS, "Acknowledged by <@"+winner+">")
	h.ExpectShows(h.fake.DM(pgDave), dave.TS, "Acknowledged by <@"+winner+">")
}

// A decline at the moment level 1 times out moves on once, not twice.
func TestPagingDeclineRacesTimeout(t *testing.T) {
	h := pgHarness(t, pgPlatform(1))
	const rounds = 6
	for i := 1; i <= rounds; i++ {
		ref := "INC-" + itoa(i)
		ch, dm := h.racePaged(i)
		h.waitAck(h.raceTimeout(i%3, i, func() string { return h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_decline") }))
		h.idle()
		h.ExpectPage(pgDave, ref, 1)
		h.ExpectPageCounts(ref, map[string]int{pgCarol: 1, pgDave: 1})
		if e := h.storedIncident(int64(i)).Escalations[0]; e.Step != 1 || !e.Active() {
			t.Errorf("%s: escalation at step %d (%s), want level 2 still waiting", ref, e.Step, e.State)
		}
		if n := len(botMessages(h.fake, ch.ID, ":pager:")); n != 2 {
			t.Errorf("%s: %d paging posts, want 2", ref, n)
		}
		h.click(pgDave, h.fake.DM(pgDave), h.ExpectPage(pgDave, ref, 1).TS, "page_ack")
	}
}

// raceTimeout answers the page of incident n (click, which returns its
// envelope without waiting for the ack) as level 1's 5m timeout passes, in
// one of four orders: 0 the click first, 1 the clock first, 2 the click
// just after the timer's commit (level 2's page in flight), 3 the click
// after level 2's page reached dave.
func (h *harness) raceTimeout(order, n int, click func() string) string {
	h.t.Helper()
	var env string
	switch order {
	case 0:
		env = click()
		h.advance(5 * time.Minute)
	case 1:
		h.advance(5 * time.Minute)
		env = click()
	case 2:
		h.advance(5 * time.Minute)
		h.waitFor("the timer's commit", func() bool { return h.storedIncident(int64(n)).Escalations[0].Step == 1 })
		env = click()
	case 3:
		h.advance(5 * time.Minute)
		h.ExpectPage(pgDave, "INC-"+itoa(n), 1)
		env = click()
	}
	return env
}

// racePaged declares incident n, pages platform there and returns the
// channel and carol's page, with the bot idle.
func (h *harness) racePaged(n int) (slackfake.Channel, slackfake.Message) {
	h.t.Helper()
	ch := h.declared(n, "declare sev2 Race "+itoa(n))
	h.slash(h.alice, ch.ID, "page platform")
	dm := h.ExpectPage(pgCarol, "INC-"+itoa(n), 1)
	h.idle()
	return ch, dm
}
