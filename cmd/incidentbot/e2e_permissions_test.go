package main

// Permissions on every action, not only on commands: buttons, forms and
// reactions pass the same check as the commands (INCIDENTBOT_RESPONDERS),
// each is bound to the channel, person and incident it was made for, and
// Slack ids and timestamps are checked where envelopes come in.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// joined makes user join channel and waits until the bot has taken every
// event so far (the member_joined_channel among them).
func (h *harness) joined(user, channel string) {
	h.t.Helper()
	h.fake.JoinChannel(user, channel)
	h.waitFor(user+"'s join to be acked", func() bool { ok, _ := eventsAcked(h.fake); return ok })
}

// refusals counts the ephemerals shown to user that contain every part.
func (h *harness) refusals(user string, parts ...string) int {
	n := 0
	for _, m := range h.fake.Ephemerals(user) {
		if containsAll(m.Text+string(m.Blocks), parts...) {
			n++
		}
	}
	return n
}

// expectRefusals waits until user was shown n refusals containing parts.
func (h *harness) expectRefusals(user string, n int, parts ...string) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%d refusals to %s with %v", n, user, parts), func() bool { return h.refusals(user, parts...) >= n })
	h.idle()
	if got := h.refusals(user, parts...); got != n {
		h.t.Errorf("%s was refused %d times, want %d", user, got, n)
	}
}

// editForm waits for the newest open edit form of user.
func (h *harness) editForm(user string) slackfake.View {
	h.t.Helper()
	var found slackfake.View
	h.waitFor("an edit form for "+user, func() bool {
		for _, v := range h.fake.Views() {
			if v.CallbackID == "update_edit" && v.User == user && !v.Closed {
				found = v
			}
		}
		return found.ID != ""
	})
	return found
}

// draftOf returns draft n of incident id.
func (h *harness) draftOf(id int64, n int) incident.UpdateDraft {
	h.t.Helper()
	d, err := h.storedIncident(id).Draft(n)
	if err != nil {
		h.t.Fatal(err)
	}
	return *d
}

func withResponders(h *harness) { h.cfg.Responders = []string{h.alice} }

// Item 1: with INCIDENTBOT_RESPONDERS, a member who is not a responder is
// refused on Edit, Post and Cancel, with the commands' refusal.
func TestPermissionsRespondersOnUpdateButtons(t *testing.T) {
	h := newHarness(t, withStatusChannel, withResponders)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.joined(h.bob, ch.ID)
	h.slash(h.alice, ch.ID, "update identified Alice wording")
	p := h.updatePreview(ch.ID)

	for _, action := range []string{"update_edit", "update_post", "update_cancel"} {
		h.click(h.bob, ch.ID, p.TS, action)
	}
	h.idle()
	for _, v := range h.fake.Views() {
		if v.User == h.bob {
			t.Errorf("bob's Edit opened a form: %s", v.JSON)
		}
	}
	if n := len(botMessages(h.fake, h.cfg.StatusChannel, "")); n != 0 {
		t.Errorf("bob's Post published %d updates", n)
	}
	inc := h.storedIncident(1)
	if d := h.draftOf(1, 1); inc.Status != incident.Investigating || d.State != incident.DraftPending || !strings.Contains(d.Text, "Alice wording") {
		t.Errorf("after bob's clicks: status %s, draft %s %q", inc.Status, d.State, d.Text)
	}
	h.expectRefusals(h.bob, 3, ":warning:", "INCIDENTBOT_RESPONDERS", "<@"+h.alice+">")

	// The responder still can.
	h.click(h.alice, ch.ID, p.TS, "update_post")
	h.ExpectMessage(h.cfg.StatusChannel, "Alice wording")
}

// Item 1: the reminder's buttons take the same check.
func TestPermissionsRespondersOnReminderButtons(t *testing.T) {
	h := newHarness(t, withStatusChannel, withSimClock, withResponders, func(h *harness) { h.cfg.UpdateEvery = 30 * time.Minute })
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.joined(h.bob, ch.ID)
	h.FastForward(31 * time.Minute)
	nudge := h.ExpectMessage(ch.ID, "update_snooze")
	before := h.storedIncident(1).Reminder

	for _, action := range []string{"update_start", "update_snooze", "update_skip"} {
		h.click(h.bob, ch.ID, nudge.TS, action)
	}
	h.idle()
	if n := len(botMessages(h.fake, ch.ID, "Preview of a customer update")); n != 0 {
		t.Errorf("bob's Write an update drafted %d previews", n)
	}
	if got := h.storedIncident(1).Reminder; got != before || h.countEvents(1, "reminder") != 0 {
		t.Errorf("bob's Snooze/Skip moved the reminder: %d → %d, %d reminder events", before, got, h.countEvents(1, "reminder"))
	}
	h.expectRefusals(h.bob, 3, ":warning:", "INCIDENTBOT_RESPONDERS")

	h.click(h.alice, ch.ID, nudge.TS, "update_snooze")
	h.idle()
	if h.countEvents(1, "reminder") != 1 {
		t.Error("alice's Snooze is not on the timeline")
	}
}

// Item 1, the other side: what stays open to every member of the channel
// when responders are set — pins, notes, follow-ups, asking for help — and
// a page is answered by the person paged, responder or not.
func TestPermissionsOpenToEveryMember(t *testing.T) {
	h := newHarness(t, withResponders)
	carol := h.fake.AddUser(slackfake.User{Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"})
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.joined(h.bob, ch.ID)

	ts := h.fake.PostMessage(h.bob, ch.ID, "Error rate is 40%")
	h.fake.AddReaction(h.bob, ch.ID, ts, "pushpin")
	h.waitEntry(1, ch.ID, ts, "bob's pin", func(e incident.Entry) bool { return !e.Pending && e.Text == "Error rate is 40%" })
	todo := h.fake.PostMessage(h.bob, ch.ID, "short-term: alert on the error rate")
	h.fake.AddReaction(h.bob, ch.ID, todo, "memo")
	h.ExpectBotReaction(ch.ID, todo, "white_check_mark", true)
	for _, text := range []string{"note Rolled back deploy 42", "followup mid-term: load test checkout", "page <@" + carol + "> please look"} {
		if out := ackText(h.slash(h.bob, ch.ID, text)); strings.Contains(out, "INCIDENTBOT_RESPONDERS") {
			t.Errorf("bob's %q was refused: %s", text, out)
		}
	}
	dm := h.ExpectDM(carol, "You are being paged for INC-1")
	h.clickDM(carol, dm.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+carol+">")
	if n := len(h.storedIncident(1).FollowUps); n != 2 {
		t.Errorf("%d follow-ups, want bob's two", n)
	}
	if _, ok := h.timelineNote(1, "Rolled back deploy 42"); !ok {
		t.Error("bob's note is not on the timeline")
	}
	if n := h.refusals(h.bob, "INCIDENTBOT_RESPONDERS") + h.refusals(carol, "INCIDENTBOT_RESPONDERS"); n != 0 {
		t.Errorf("%d refusals of what is open to everyone", n)
	}
}

// Item 2: a button works only where it was posted, for the people there.
func TestPermissionsButtonsBoundToTheirChannel(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	h.slash(h.alice, h.general, "declare --private sev2 Payroll export leaking")
	priv := h.incidentChannel(1)
	h.ExpectMessage(priv.ID, "INC-1")
	h.slash(h.alice, priv.ID, "update identified Payroll wording")
	p := h.updatePreview(priv.ID)

	// The private draft's Post, clicked from a copy in #general.
	h.waitAck(h.fake.ClickButtonFrom(h.bob, h.general, priv.ID, p.TS, "update_post"))
	h.waitAck(h.fake.ClickButtonFrom(h.alice, h.general, priv.ID, p.TS, "update_cancel"))
	h.idle()
	if n := len(botMessages(h.fake, h.cfg.StatusChannel, "")); n != 0 {
		t.Errorf("a click from #general published the private update (%d posts)", n)
	}
	if d := h.draftOf(1, 1); d.State != incident.DraftPending {
		t.Errorf("a Cancel from #general left the draft %s", d.State)
	}
	h.expectRefusals(h.bob, 1, ":warning:", "only in the channel")
	h.expectRefusals(h.alice, 1, ":warning:", "only in the channel")
	for _, m := range h.fake.Ephemerals(h.bob) {
		if strings.Contains(m.Text, "Payroll") || strings.Contains(m.Text, priv.ID) {
			t.Errorf("bob's refusal shows the private incident: %q", m.Text)
		}
	}
}

// Item 2: a click in the incident channel by someone who is not in it
// (Slack shows a public channel to anyone) is refused, until they join.
func TestPermissionsNonMemberClicksRefused(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	carol := h.fake.AddUser(slackfake.User{Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"})
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.slash(h.alice, ch.ID, "update identified Checkout wording")
	q := h.updatePreview(ch.ID)
	h.click(carol, ch.ID, q.TS, "update_post")
	h.idle()
	if n := len(botMessages(h.fake, h.cfg.StatusChannel, "")); n != 0 {
		t.Errorf("carol, not in the channel, published an update (%d posts)", n)
	}
	h.expectRefusals(carol, 1, ":warning:", "only people in <#"+ch.ID+">")
	// Her pin is refused too, in a DM: an ephemeral in a channel she is not
	// in would not reach her.
	pin := h.fake.PostMessage(h.alice, ch.ID, "Error rate is 40%")
	h.fake.AddReaction(carol, ch.ID, pin, "pushpin")
	h.ExpectDM(carol, ":warning:", "only people in <#"+ch.ID+">")
	if _, ok := h.timelineEntry(1, ch.ID, pin); ok {
		t.Error("carol's pin, from outside the channel, is on the timeline")
	}
	// Once she joins, she may.
	h.joined(carol, ch.ID)
	h.click(carol, ch.ID, q.TS, "update_post")
	h.ExpectMessage(h.cfg.StatusChannel, "Checkout wording")
	// And once she leaves, she may not any more.
	h.fake.LeaveChannel(carol, ch.ID)
	h.waitFor("carol's leave to be acked", func() bool { ok, _ := eventsAcked(h.fake); return ok })
	h.slash(h.alice, ch.ID, "update monitoring Watching")
	h.click(carol, ch.ID, h.updatePreview(ch.ID).TS, "update_cancel")
	h.expectRefusals(carol, 2, ":warning:", "only people in <#"+ch.ID+">")
}

// Item 2: page buttons answer for the person paged, in the DM they got.
func TestPermissionsPageButtonsBoundToThePagedPerson(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <@"+pgDave+">")
	dm := h.ExpectPage(pgDave, "INC-1", 1)

	h.click(pgCarol, h.fake.DM(pgDave), dm.TS, "page_ack")
	h.waitAck(h.fake.ClickButtonFrom(pgDave, h.general, h.fake.DM(pgDave), dm.TS, "page_decline"))
	h.idle()
	if e := h.storedIncident(1).Escalations[0]; e.State != incident.EscalationActive || e.Pages[0].State != incident.PageSent {
		t.Errorf("after clicks by the wrong person and from the wrong place: escalation %s, page %s", e.State, e.Pages[0].State)
	}
	h.expectRefusals(pgCarol, 1, ":warning:", "only by the person it was sent to")
	h.expectRefusals(pgDave, 1, ":warning:", "only by the person it was sent to")

	h.clickDM(pgDave, dm.TS, "page_ack")
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+pgDave+">")
}

// Item 2: a form is bound to the person it was opened for.
func TestPermissionsFormsBoundToTheirUser(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.joined(h.bob, ch.ID)
	h.slash(h.alice, ch.ID, "update identified Alice wording")
	p := h.updatePreview(ch.ID)
	h.click(h.alice, ch.ID, p.TS, "update_edit")
	form := h.editForm(h.alice)

	h.submit(h.bob, form.ID, map[string]map[string]string{"text": {"text": "Bob wording"}})
	h.idle()
	if d := h.draftOf(1, 1); !strings.Contains(d.Text, "Alice wording") {
		t.Errorf("bob's submission of alice's form rewrote the draft: %q", d.Text)
	}
	if v := h.viewByID(form.ID); !strings.Contains(string(v.JSON), "opened for someone else") {
		t.Errorf("bob's submission was not answered with a refusal: %s", v.JSON)
	}

	// Alice's own form still saves.
	h.click(h.alice, ch.ID, p.TS, "update_edit")
	mine := h.editForm(h.alice)
	h.submit(h.alice, mine.ID, map[string]map[string]string{"text": {"text": "Alice second wording"}})
	h.waitFor("alice's edit", func() bool { return strings.Contains(h.draftOf(1, 1).Text, "Alice second wording") })
}

func (h *harness) viewByID(id string) slackfake.View {
	for _, v := range h.fake.Views() {
		if v.ID == id {
			return v
		}
	}
	h.t.Fatalf("no view %s", id)
	return slackfake.View{}
}

// Item 8: a reaction naming a malformed message ts (or channel) is refused
// where it comes in, with a log line, and never reaches Slack's API.
func TestMalformedIDsRefusedAtTheEdge(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	for i, item := range []struct{ channel, ts string }{{ch.ID, "not-a-ts"}, {"#" + ch.ID, "1692269160.000100"}} {
		event := map[string]any{"type": "reaction_added", "user": h.alice, "reaction": "pushpin", "item_user": h.alice,
			"item": map[string]any{"type": "message", "channel": item.channel, "ts": item.ts}, "event_ts": "1692269160.000200"}
		payload := map[string]any{"token": "x", "team_id": h.fake.TeamID(), "api_app_id": "A0APP", "type": "event_callback",
			"event_id": fmt.Sprintf("Ev0MALFORMED%d", i), "event_time": 1692269160, "event": event}
		frame, _ := json.Marshal(map[string]any{"envelope_id": fmt.Sprintf("malformed-%d", i), "type": "events_api",
			"accepts_response_payload": false, "payload": payload})
		h.fake.SendRaw(frame)
	}
	h.slash(h.alice, ch.ID, "note after the malformed reactions") // handled after them, in order
	h.idle()
	for _, c := range h.fake.Calls("conversations.history") {
		if c.Params.Get("latest") == "not-a-ts" || strings.HasPrefix(c.Params.Get("channel"), "#") {
			t.Errorf("a malformed id reached Slack: conversations.history %v", c.Params)
		}
	}
	for _, e := range h.timeline(1) {
		if e.Pending || strings.Contains(e.Source, "not-a-ts") {
			t.Errorf("a malformed reaction left a timeline entry: %+v", e)
		}
	}
	if !h.log.Has("malformed", "not-a-ts") || !h.log.Has("malformed", "#"+ch.ID) {
		t.Error("no log line names the malformed reactions")
	}
}

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
