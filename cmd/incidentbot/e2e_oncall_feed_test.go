package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/handlers/oncall"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

const (
	feedFrank = "U0FRANK01"
	feedGina  = "U0GINA001"
)

// feedICS is a calendar of one all-day shift a day, from Mon 14 Aug, for
// the person with email who.
func feedICS(who string) string {
	return strings.ReplaceAll(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//vendor//oncall//EN
BEGIN:VEVENT
UID:daily@vendor.example
DTSTAMP:20230801T000000Z
SUMMARY:Vendor on-call
DTSTART:20230814T000000Z
DURATION:P1D
RRULE:FREQ=DAILY
ATTENDEE;CN=On call:mailto:`+who+`
END:VEVENT
END:VCALENDAR
`, "\n", "\r\n")
}

// feedHarness runs the bot with a schedule vendor read from a calendar
// file (returned, to be rewritten) and a policy paging it; frank and gina
// are in Slack with their emails.
func feedHarness(t *testing.T, ics string) (*harness, string) {
	t.Helper()
	dir := t.TempDir()
	feed := filepath.Join(dir, "vendor.ics")
	if err := os.WriteFile(feed, []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := `schedules:
  - name: vendor-oncall
    description: Vendor on-call, from their calendar
    ical: ` + feed + `
policies:
  - name: vendor
    levels:
      - targets: ["schedule:vendor-oncall"]
        timeout: 5m
`
	users := func(h *harness) {
		h.fake.AddUser(slackfake.User{ID: feedFrank, Name: "frank", RealName: "Frank Fox", Email: "frank@example.com"})
		h.fake.AddUser(slackfake.User{ID: feedGina, Name: "gina", RealName: "Gina Gale", Email: "Gina@Example.com"})
	}
	return pgHarness(t, yaml, users), feed
}

func (h *harness) oncallShows(who string) {
	h.t.Helper()
	h.idle()
	text := ackText(h.slash(h.alice, h.general, "oncall"))
	if !strings.Contains(text, "*vendor-oncall*") || !strings.Contains(text, "now: <@"+who+">") {
		h.t.Errorf("/incident oncall does not show <@%s> on call for vendor:\n%s", who, text)
	}
}

// A schedule's calendar feed is read at start, its emails looked up in
// Slack: paging the schedule DMs the person on call and /incident oncall
// shows them. A feed that breaks keeps the last one read; a changed one is
// read again within FeedEvery.
func TestOnCallFeedSchedule(t *testing.T) {
	h, feed := feedHarness(t, feedICS("frank@example.com"))
	h.oncallShows(feedFrank)
	if calls := h.fake.Calls("users.lookupByEmail"); len(calls) != 1 || calls[0].Params.Get("email") != "frank@example.com" {
		t.Errorf("users.lookupByEmail calls = %+v, want one for frank@example.com", calls)
	}

	ch := h.declared(1, "declare sev2 The vendor is down")
	h.slash(h.alice, ch.ID, "page vendor")
	dm := h.ExpectPage(feedFrank, "INC-1", 1)
	if !strings.Contains(string(dm.Blocks), "on call for schedule vendor-oncall") {
		t.Errorf("frank's page does not say he is on call for vendor: %s", dm.Blocks)
	}
	h.ExpectMessage(ch.ID, ":pager: Paging policy vendor", "<@"+feedFrank+"> (on call for vendor-oncall)")

	// A broken feed is logged and the last one kept.
	if err := os.WriteFile(feed, []byte("<html>oops</html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.FastForward(oncall.FeedEvery)
	h.oncallShows(feedFrank)

	// The calendar now has gina (her email in another case): read again,
	// within FeedEvery, and she is on call.
	if err := os.WriteFile(feed, []byte(feedICS("gina@example.com")), 0o600); err != nil {
		t.Fatal(err)
	}
	h.FastForward(oncall.FeedEvery)
	h.oncallShows(feedGina)

	// After a restart the feed is read again at once.
	h.restart()
	h.oncallShows(feedGina)
}

// Until its feed is read, or with a feed naming nobody Slack knows, a
// schedule has nobody on call: paging it says so.
func TestOnCallFeedUnknownEmail(t *testing.T) {
	h, _ := feedHarness(t, feedICS("nobody@example.com"))
	h.idle()
	ch := h.declared(1, "declare sev2 The vendor is down")
	h.slash(h.alice, ch.ID, "page vendor")
	h.ExpectMessage(ch.ID, "Nobody is on call in schedule vendor-oncall right now")
	if calls := h.fake.Calls("users.lookupByEmail"); len(calls) == 0 {
		t.Error("the unknown email was not looked up")
	}
}
