package main

// Expectations on what people see in Slack, as a person's device would show
// it: each waits (up to 10 s) for what it expects and fails the test if it
// does not come. The parts are matched in a message's text and blocks.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// ExpectMessage waits for a message in channel whose text (or blocks)
// contains all the parts, and returns it.
func (h *harness) ExpectMessage(channel string, parts ...string) slackfake.Message {
	h.t.Helper()
	var found slackfake.Message
	h.waitFor("a message in "+channel+" with "+strings.Join(parts, ", "), func() bool {
		for _, m := range h.fake.Messages(channel) {
			if containsAll(m.Text+string(m.Blocks), parts...) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// ExpectDM waits for a message in user's DM with the bot containing parts.
func (h *harness) ExpectDM(user string, parts ...string) slackfake.Message {
	h.t.Helper()
	return h.ExpectMessage(h.fake.DM(user), parts...)
}

// ExpectEphemeral waits for an ephemeral shown to user containing parts.
func (h *harness) ExpectEphemeral(user string, parts ...string) slackfake.Message {
	h.t.Helper()
	var found slackfake.Message
	h.waitFor("an ephemeral to "+user+" with "+strings.Join(parts, ", "), func() bool {
		for _, m := range h.fake.Ephemerals(user) {
			if containsAll(m.Text+string(m.Blocks), parts...) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// ExpectShows waits until the message at channel/ts (updated in place)
// shows all the parts.
func (h *harness) ExpectShows(channel, ts string, parts ...string) {
	h.t.Helper()
	h.waitMessageAt(channel, ts, "the message "+channel+"/"+ts+" to show "+strings.Join(parts, ", "), func(m slackfake.Message) bool {
		return containsAll(m.Text+string(m.Blocks), parts...)
	})
}

// ExpectSummary waits until the pinned summary at channel/ts shows want in
// the texts of its blocks.
func (h *harness) ExpectSummary(channel, ts, want string) {
	h.t.Helper()
	h.waitMessageAt(channel, ts, "the summary to show "+want, func(m slackfake.Message) bool {
		return m.Pinned && strings.Contains(blockText(m.Blocks), want)
	})
}

// ExpectTopic waits until the channel topic contains want.
func (h *harness) ExpectTopic(channel, want string) {
	h.t.Helper()
	h.waitFor("the topic to show "+want, func() bool {
		c, _ := h.fake.Channel(channel)
		return strings.Contains(c.Topic, want)
	})
}

// ExpectBotReaction waits until the bot's reaction name is on (or off) the
// message at channel/ts.
func (h *harness) ExpectBotReaction(channel, ts, name string, on bool) {
	h.t.Helper()
	what := fmt.Sprintf("the bot's :%s: on %s", name, ts)
	if !on {
		what = fmt.Sprintf("the bot's :%s: to go from %s", name, ts)
	}
	h.waitFor(what, func() bool { return botReacted(h.fake, channel, ts, name) == on })
}

// ExpectUpload waits for an uploaded file by name and returns the first.
func (h *harness) ExpectUpload(name string) slackfake.File {
	h.t.Helper()
	var found slackfake.File
	h.waitFor("the upload of "+name, func() bool {
		for _, f := range h.fake.Files() {
			if f.Name == name {
				found = f
				return true
			}
		}
		return false
	})
	return found
}

// incidentChannel waits for incident n's channel and returns it.
func (h *harness) incidentChannel(n int) slackfake.Channel {
	h.t.Helper()
	var found slackfake.Channel
	h.waitFor("channel inc-"+itoa(n)+"-…", func() bool {
		var ok bool
		found, ok = findIncidentChannel(h.fake, n)
		return ok
	})
	return found
}

// findIncidentChannel finds incident n's channel (inc-n-…).
func findIncidentChannel(fake *slackfake.Server, n int) (slackfake.Channel, bool) {
	prefix := "inc-" + itoa(n)
	for _, c := range fake.Channels() {
		if c.Name == prefix || strings.HasPrefix(c.Name, prefix+"-") {
			return c, true
		}
	}
	return slackfake.Channel{}, false
}

// botReacted reports whether the bot's reaction name is on a message.
func botReacted(fake *slackfake.Server, channel, ts, name string) bool {
	m, ok := fake.Message(channel, ts)
	return ok && slices.Contains(m.Reactions[name], fake.BotUserID())
}
