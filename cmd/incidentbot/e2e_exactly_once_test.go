package main

import (
	"encoding/json"
	"math/rand/v2"
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
// twice: in process (a lost reply, a reply held across a restart) and with
// the real bot SIGKILLed inside its calls (TestCrashShowsEachMessageOnce).

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
			if m.User != fake.BotUserID() || m.Deleted || len(m.Files) > 0 {
				// A file share (the postmortem upload) is not a post: its
				// job is not marked, and not covered here.
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
	// At start the bot reads its announce and status channels (can it post
	// there?): not a marker lookup.
	atStart := markerLookups(h.fake)
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <@"+pgCarol+">")
	h.ExpectPage(pgCarol, "INC-1", 1)
	h.slash(h.alice, ch.ID, "update identified A bad config push")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.slash(h.alice, ch.ID, "resolve Rolled back")
	h.idle()
	if n := markerLookups(h.fake) - atStart; n != 0 {
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

// TestCrashShowsEachMessageOnce runs the real bot through a declaration, a
// page and its acknowledgement, a customer update and the resolution, and
// SIGKILLs it at seeded random posts and topic changes in each: Slack has
// the message, the bot never learnt its ts. After every restart the resumed
// jobs must find what they posted: at the end no message shows twice
// anywhere in the workspace, none is missing, and the ones with buttons were
// adopted (the page DM shows the acknowledgement, the preview its posting).
func TestCrashShowsEachMessageOnce(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("crash seed %d (rerun with INCIDENTBOT_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x0dd0))
	w := newProcessWorkspace(t, slackfake.Options{RedeliverAfter: 2 * time.Second})
	fake, alice := w.fake, w.alice
	carol := fake.AddUser(slackfake.User{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"})
	status := fake.AddChannel("status-page", false, alice, fake.BotUserID())
	c := &crasher{t: t, w: w, env: w.env(), killed: map[*botProcess]bool{}}
	c.env["INCIDENTBOT_STATUS_CHANNEL"] = status
	fake.BeforeReply(c.hook)
	defer fake.BeforeReply(nil)
	c.start()

	// Settled: what the phase shows is there, and the outbox holds only the
	// timer of the page (due in 5 minutes; acknowledged, it will do nothing).
	timers := 0.0
	settled := func(cond func() bool) func() bool {
		return func() bool { return cond() && metricAt(w.base(), "incidentbot_jobs_pending") == timers }
	}
	var ch slackfake.Channel
	shows := func(channel, part string) func() bool {
		return func() bool { return len(botMessages(fake, channel, part)) > 0 }
	}
	phase := func(name string, calls int, act func(), done func() bool) {
		t.Helper()
		c.arm(1 + rng.IntN(calls))
		act()
		c.await(name, rng, settled(done))
	}

	phase("declare", 3, func() { fake.SlashCommand(alice, w.general, "declare sev2 Crash test") }, func() bool {
		var ok bool
		ch, ok = findIncidentChannel(fake, 1)
		return ok && shows(w.announce, "INC-1 declared")() && len(topicMessages(fake, ch.ID)) > 0 && len(pinnedBy(fake, ch.ID)) == 1
	})
	timers = 1
	phase("page", 2, func() { fake.SlashCommand(alice, ch.ID, "page <@"+carol+">") }, func() bool {
		return shows(fake.DM(carol), "You are being paged for INC-1")() && shows(ch.ID, ":pager: Paging")()
	})
	// The newest DM and preview: the ones the bot recorded even if it
	// showed them twice.
	dms := botMessages(fake, fake.DM(carol), "You are being paged for INC-1")
	dm := dms[len(dms)-1]
	phase("acknowledge", 1, func() { fake.ClickButton(carol, fake.DM(carol), dm.TS, "page_ack") }, shows(ch.ID, "Page acknowledged by"))
	phase("update", 1, func() { fake.SlashCommand(alice, ch.ID, "update identified A bad config push") }, shows(ch.ID, "Preview of a customer update"))
	previews := botMessages(fake, ch.ID, "Preview of a customer update")
	preview := previews[len(previews)-1]
	phase("post the update", 3, func() { fake.ClickButton(alice, ch.ID, preview.TS, "update_post") }, func() bool {
		return shows(status, "A bad config push")() && shows(ch.ID, "Customer update posted")() && strings.Contains(lastTopic(fake, ch.ID), "Identified")
	})
	phase("resolve", 3, func() { fake.SlashCommand(alice, ch.ID, "resolve Rolled back") }, func() bool {
		return shows(w.announce, "INC-1 resolved")() && shows(ch.ID, "INC-1 resolved")() && strings.Contains(lastTopic(fake, ch.ID), "Resolved")
	})
	c.p.stop()
	t.Logf("%d kills inside a post or topic change", c.kills)

	checkPostedOnce(t, fake)
	for _, want := range []struct{ channel, part string }{
		{w.announce, "INC-1 declared"}, {w.announce, "INC-1 resolved"},
		{ch.ID, ":pager: Paging"}, {ch.ID, "Page acknowledged by"},
		{ch.ID, "Customer update posted"}, {ch.ID, "Status changed from Investigating to *Identified*"}, {ch.ID, "INC-1 resolved"},
		{fake.DM(carol), "You are being paged for INC-1"}, {status, "A bad config push"},
	} {
		if n := len(botMessages(fake, want.channel, want.part)); n != 1 {
			t.Errorf("%d bot messages in %s say %q, want 1", n, want.channel, want.part)
		}
	}
	if pins := pinnedBy(fake, ch.ID); len(pins) != 1 || !strings.Contains(pins[0].Text, "resolved") {
		t.Errorf("pinned summaries: %+v; want one, showing the resolution (the adopted summary is kept up to date)", pins)
	}
	if m, _ := fake.Message(fake.DM(carol), dm.TS); !strings.Contains(m.Text+string(m.Blocks), "Acknowledged by") {
		t.Errorf("the page DM does not show the acknowledgement: %s", m.Text)
	}
	if m, _ := fake.Message(ch.ID, preview.TS); strings.Contains(string(m.Blocks), "update_post") {
		t.Errorf("the preview still offers Post: %s", m.Blocks)
	}
	adopted := 0
	for _, p := range c.all {
		for _, line := range p.log.Lines() {
			if strings.Contains(line, "already acted in Slack") {
				adopted++
			}
		}
	}
	t.Logf("%d resumed jobs found what they had done and did not repeat it", adopted)
	if c.kills > 0 && adopted == 0 {
		t.Errorf("%d kills inside a call, and no job adopted its effect", c.kills)
	}
}

// pinnedBy are the bot's pinned messages in channel.
func pinnedBy(fake *slackfake.Server, channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range botMessages(fake, channel, "") {
		if m.Pinned {
			out = append(out, m)
		}
	}
	return out
}

// lastTopic is the text of the newest channel_topic message in channel.
func lastTopic(fake *slackfake.Server, channel string) string {
	t := topicMessages(fake, channel)
	if len(t) == 0 {
		return ""
	}
	return t[len(t)-1]
}
