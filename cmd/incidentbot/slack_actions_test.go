package main

// What people do in Slack, each returning once the bot has answered (acked):
// slash commands, button clicks, form submissions. Messages, reactions and
// edits are the fake's own (h.fake.PostMessage, AddReaction, …): Slack does
// not wait for the bot to take them.

import (
	"context"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// slash runs a slash command as user in channel and returns the ack payload.
func (h *harness) slash(user, channel, text string) string {
	h.t.Helper()
	id := h.fake.SlashCommand(user, channel, text)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := h.fake.WaitAck(ctx, id)
	if err != nil {
		h.t.Fatalf("slash command %q was not acked: %v", text, err)
	}
	return string(ack.Payload)
}

// declared declares an incident (text is the command, "declare …") as alice
// in #general and waits for incident n's channel and summary.
func (h *harness) declared(n int, text string) slackfake.Channel {
	h.t.Helper()
	h.slash(h.alice, h.general, text)
	ch := h.incidentChannel(n)
	h.ExpectMessage(ch.ID, "INC-"+itoa(n))
	return ch
}

// click clicks a button of the message at channel/ts as user and returns the
// ack payload.
func (h *harness) click(user, channel, ts, actionID string) string {
	h.t.Helper()
	return h.waitAck(h.fake.ClickButton(user, channel, ts, actionID))
}

// clickDM clicks a button of the message at ts in user's DM with the bot.
func (h *harness) clickDM(user, ts, actionID string) string {
	h.t.Helper()
	return h.click(user, h.fake.DM(user), ts, actionID)
}

// submit submits the form of view viewID as user and returns the ack payload.
func (h *harness) submit(user, viewID string, values map[string]map[string]string) string {
	h.t.Helper()
	return h.waitAck(h.fake.SubmitView(user, viewID, values))
}

// waitAck waits for the ack of an envelope and returns its payload.
func (h *harness) waitAck(id string) string {
	h.t.Helper()
	var payload string
	h.waitFor("ack of "+id, func() bool {
		a, ok := h.fake.Ack(id)
		payload = string(a.Payload)
		return ok
	})
	return payload
}
