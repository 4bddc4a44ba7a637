package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// These tests lose the reply to a Slack call that took effect, as a crash
// or a network failure between the call and the commit recording it does,
// and check that the job, run again, adopts what it did instead of doing it
// twice. The process-level version (a real SIGKILL) is in crash_test.go.

// checkPostedOnce fails the test if any message shows twice anywhere in the
// workspace: two bot messages with the same job marker, two bot posts with
// the same text in one conversation, or the same topic set twice in a row.
func checkPostedOnce(t testing.TB, fake *slackfake.Server) {
	t.Helper()
	markers := map[string]string{}
	for _, c := range fake.Channels() {
		texts := map[string]string{}
		lastTopic := ""
		for _, m := range fake.Messages(c.ID) {
			if m.User != fake.BotUserID() || m.Deleted {
				continue
			}
			switch m.Subtype {
			case "channel_topic":
				if m.Text == lastTopic {
					t.Errorf("%s %s: the topic was set twice in a row: %q", c.Name, m.TS, m.Text)
				}
				lastTopic = m.Text
				continue
			case "":
			default:
				continue
			}
			if len(m.Metadata) > 0 {
				if ts, ok := markers[string(m.Metadata)]; ok {
					t.Errorf("%s: messages %s and %s carry the same marker %s", c.ID, ts, m.TS, m.Metadata)
				}
				markers[string(m.Metadata)] = m.TS
			}
			if ts, ok := texts[m.Text]; ok {
				t.Errorf("%s (%s): messages %s and %s both say %q", c.ID, c.Name, ts, m.TS, m.Text)
			}
			texts[m.Text] = m.TS
		}
	}
}

// markerLookups counts the calls that look for a marker: history read with
// all metadata (FindMessage never asks for it), and conversations.info.
func markerLookups(fake *slackfake.Server) int {
	n := len(fake.Calls("conversations.info"))
	for _, c := range fake.Calls("") {
		if (c.Method == "conversations.history" || c.Method == "conversations.replies") && c.Params.Get("include_all_metadata") == "1" {
			n++
		}
	}
	return n
}

// lostReply is a 503 after Slack acted: the bot cannot know it did.
func lostReply(channel string) slackfake.Fault {
	return slackfake.Fault{Status: http.StatusServiceUnavailable, Apply: true, Channel: channel}
}

// Every job that posts, its reply lost once: the retry finds the message it
// posted, records its ts (the summary is pinned, the preview's and the
// page's buttons work) and posts nothing more.
func TestLostReplyPostsOnce(t *testing.T) {
	h := pgHarness(t, pgPlatform(0), withStatusChannel)
	// The summary: the first post of the declaration.
	h.fake.FailNext("chat.postMessage", 1, lostReply(""))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.ExpectSummary(ch.ID, h.summaryTS(1), "Checkout is down")
	h.idle()

	// The page DM.
	h.fake.FailNext("chat.postMessage", 1, lostReply(h.fake.DM(pgCarol)))
	h.slash(h.alice, ch.ID, "page <@"+pgCarol+">")
	h.idle()
	dm := h.ExpectPage(pgCarol, "INC-1", 1)

	// The preview of a customer update, then the update itself (a post job).
	h.fake.FailNext("chat.postMessage", 1, lostReply(ch.ID))
	h.slash(h.alice, ch.ID, "update identified A bad config push")
	h.idle()
	p := h.updatePreview(ch.ID)
	h.fake.FailNext("chat.postMessage", 1, lostReply(h.cfg.StatusChannel))
	h.click(h.alice, ch.ID, p.TS, "update_post")
	h.idle()
	h.waitMessageAt(ch.ID, p.TS, "the preview to say it was posted", func(m slackfake.Message) bool {
		return strings.Contains(string(m.Blocks), "Customer update posted")
	})

	// The announcement of the resolution.
	h.fake.FailNext("chat.postMessage", 1, lostReply(h.announce))
	h.slash(h.alice, ch.ID, "resolve Rolled back")
	h.idle()
	h.ExpectMessage(h.announce, "INC-1 resolved")

	h.ExpectShows(h.fake.DM(pgCarol), dm.TS, "Paging stopped")
	for _, c := range []string{ch.ID, h.fake.DM(pgCarol), h.cfg.StatusChannel, h.announce} {
		if n := len(botMessages(h.fake, c, "")); n == 0 {
			t.Errorf("nothing posted in %s", c)
		}
	}
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1})
	if n := len(botMessages(h.fake, h.cfg.StatusChannel, "")); n != 1 {
		t.Errorf("%d posts in the status channel, want 1", n)
	}
	checkPostedOnce(t, h.fake)
	if n := markerLookups(h.fake); n < 5 {
		t.Errorf("%d marker lookups for 5 lost replies", n)
	}
}

// Without faults, a post is one call: no job reads history before posting.
func TestPostingIsOneCall(t *testing.T) {
	h := pgHarness(t, pgPlatform(0), withStatusChannel)
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <@"+pgCarol+">")
	h.ExpectPage(pgCarol, "INC-1", 1)
	h.slash(h.alice, ch.ID, "update identified A bad config push")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.slash(h.alice, ch.ID, "resolve Rolled back")
	h.idle()
	if n := markerLookups(h.fake); n != 0 {
		t.Errorf("%d marker lookups without a fault, want 0", n)
	}
	// Every post is one call, and carries its job's marker.
	posted := 0
	for _, c := range h.fake.Channels() {
		for _, m := range h.fake.Messages(c.ID) {
			if m.User != h.fake.BotUserID() || m.Subtype != "" || len(m.Files) > 0 {
				continue // system messages; the postmortem upload's comment
			}
			posted++
			if !strings.Contains(string(m.Metadata), `"incidentbot_job"`) {
				t.Errorf("%s %s %q has no job marker: %s", c.ID, m.TS, m.Text, m.Metadata)
			}
		}
	}
	calls := 0
	for _, c := range h.fake.Calls("chat.postMessage") {
		if c.Status == http.StatusOK && c.Error == "" {
			calls++
		}
	}
	if calls != posted {
		t.Errorf("%d chat.postMessage calls for %d messages", calls, posted)
	}
	checkPostedOnce(t, h.fake)
}

// holdFirst holds the reply to the first successful call of method to
// channel until release is closed; held is closed once it is held.
func holdFirst(fake *slackfake.Server, method, channel string) (held, release chan struct{}) {
	held, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	fake.BeforeReply(func(c slackfake.Call) {
		if c.Method == method && c.Params.Get("channel") == channel && c.Error == "" {
			once.Do(func() { close(held); <-release })
		}
	})
	return held, release
}

// A job resumed after a restart finds the message its previous run posted
// (the bot stopped before learning the ts), adopts it, and keeps it live:
// the one page DM's buttons work.
func TestResumedPageAdoptsItsDM(t *testing.T) {
	h := pgHarness(t, pgPlatform(0), withBotConfig(func(c *bot.Config) { c.ShutdownGrace = 50 * time.Millisecond }))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.idle()
	held, release := holdFirst(h.fake, "chat.postMessage", h.fake.DM(pgCarol))
	h.slash(h.alice, ch.ID, "page <@"+pgCarol+">")
	<-held
	h.stop() // the call is in flight past the grace: the job stays
	close(release)
	h.fake.BeforeReply(nil)
	h.ExpectPage(pgCarol, "INC-1", 1)

	h.start()
	h.idle()
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1})
	if n := markerLookups(h.fake); n == 0 {
		t.Errorf("the resumed page DM did not look for its marker")
	}
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	h.clickDM(pgCarol, dm.TS, "page_ack")
	h.ExpectShows(h.fake.DM(pgCarol), dm.TS, "Acknowledged by <@"+pgCarol+">")
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1})
	var md struct {
		EventType string            `json:"event_type"`
		Payload   map[string]string `json:"event_payload"`
	}
	if err := json.Unmarshal(dm.Metadata, &md); err != nil || md.EventType != "incidentbot_job" || md.Payload["kind"] != "page_dm" || md.Payload["seq"] == "" {
		t.Errorf("the page DM's metadata = %s (%v), want the job's marker", dm.Metadata, err)
	}
	checkPostedOnce(t, h.fake)
}
