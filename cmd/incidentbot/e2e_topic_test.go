package main

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// topicMessages are the channel_topic system messages in channel: Slack
// posts one ("set the channel topic: …") for every conversations.setTopic,
// even when the text did not change.
func topicMessages(fake *slackfake.Server, channel string) []string {
	var out []string
	for _, m := range fake.Messages(channel) {
		if m.Subtype == "channel_topic" {
			out = append(out, strings.TrimPrefix(m.Text, "set the channel topic: "))
		}
	}
	return out
}

// The topic shows the reference, severity, status, lead and title. Changes
// to anything else (comms, key times, impact, the scribe) leave it as it is,
// so they must not set it again: each setTopic is a line in the channel.
func TestTopicSetOnlyWhenItChanges(t *testing.T) {
	h := newHarness(t, withSimClock)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.ExpectTopic(ch.ID, "INC-1 SEV2 | Investigating | Lead: <@"+h.alice+">")
	h.idle()
	want := 1
	check := func(after string) {
		t.Helper()
		h.idle()
		got := topicMessages(h.fake, ch.ID)
		if len(got) != want {
			t.Errorf("after %s: %d topic changes in the channel, want %d:\n%s", after, len(got), want, strings.Join(got, "\n"))
		}
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				t.Errorf("after %s: the topic was set to the same text twice in a row: %q", after, got[i])
			}
		}
		if n := len(h.fake.Calls("conversations.setTopic")); n != len(got) {
			t.Errorf("after %s: %d conversations.setTopic calls for %d topic messages", after, n, len(got))
		}
	}
	check("the declaration")

	for _, cmd := range []string{"comms <@" + h.bob + ">", "detected 09:55", "impact Checkout, Payments", "scribe <@" + h.alice + ">"} {
		if ack := ackText(h.slash(h.alice, ch.ID, cmd)); strings.Contains(ack, ":warning:") {
			t.Fatalf("%s: %s", cmd, ack)
		}
		check(cmd)
	}
	if got := h.storedIncident(1); got.Roles["comms"].ID != h.bob || got.Times.Detected.IsZero() || len(got.Services) != 2 {
		t.Fatalf("the changes were not applied: roles %v, detected %v, services %v", got.Roles, got.Times.Detected, got.Services)
	}

	h.slash(h.alice, ch.ID, "status identified")
	h.ExpectTopic(ch.ID, "INC-1 SEV2 | Identified |")
	want++
	check("status identified")

	h.slash(h.alice, ch.ID, "lead <@"+h.bob+">")
	h.ExpectTopic(ch.ID, "Lead: <@"+h.bob+">")
	want++
	check("lead @bob")

	// The same status again changes nothing, so sets nothing.
	h.slash(h.alice, ch.ID, "severity sev2")
	check("severity sev2 (unchanged)")
}

// A topic job resumed after a restart (its setTopic took effect, the bot
// never heard back) reads the topic, finds it set and records it: neither
// the restart nor the next change that leaves the text alone sets it again.
func TestResumedTopicNotSetAgain(t *testing.T) {
	h := newHarness(t, withSimClock, withBotConfig(func(c *bot.Config) { c.ShutdownGrace = 50 * time.Millisecond }))
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.idle()
	held, release := holdFirst(h.fake, "conversations.setTopic", ch.ID)
	h.slash(h.alice, ch.ID, "status identified")
	<-held
	h.stop() // the call is in flight past the grace: the job stays
	close(release)
	h.fake.BeforeReply(nil)

	h.start()
	h.idle()
	h.ExpectTopic(ch.ID, "| Identified |")
	if n := len(h.fake.Calls("conversations.info")); n == 0 {
		t.Errorf("the resumed topic job did not read the topic")
	}
	h.slash(h.alice, ch.ID, "scribe <@"+h.bob+">")
	h.idle()
	if got := topicMessages(h.fake, ch.ID); len(got) != 2 {
		t.Errorf("%d topic changes, want 2 (declared, identified):\n%s", len(got), strings.Join(got, "\n"))
	}
}
