package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/internal/config/check"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// The bot posts only where it is a member (chat:write): a status channel it
// was never invited to would make every customer update fail with
// not_in_channel. Start-up and `incidentbot check` say so, with what to do.
func TestChannelsTheBotCannotPostToAreReported(t *testing.T) {
	h := buildHarness(t, slackfake.Options{})
	status := h.fake.AddChannel("status-page", false, h.alice) // the bot is not in it
	h.cfg.StatusChannel = status
	h.start()
	h.waitFor("the start-up log to report the status channel", func() bool {
		return h.log.Has("INCIDENTBOT_STATUS_CHANNEL="+status, "not a member", "/invite @incidentbot")
	})
	if h.log.Has("INCIDENTBOT_ANNOUNCE_CHANNEL") {
		t.Errorf("the announce channel, which the bot is in, was reported:\n%s", strings.Join(h.log.Lines(), "\n"))
	}

	env := map[string]string{
		"SLACK_APP_TOKEN": h.fake.AppToken(), "SLACK_BOT_TOKEN": h.fake.BotToken(),
		"INCIDENTBOT_SLACK_API_URL": h.fake.APIURL(), "INCIDENTBOT_DB": h.cfg.DB + ".check",
		"INCIDENTBOT_ANNOUNCE_CHANNEL": h.announce, "INCIDENTBOT_STATUS_CHANNEL": status,
	}
	var out bytes.Buffer
	if check.Run(&out, config.MapEnv(env)) {
		t.Errorf("check passed with a status channel the bot is not in:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "FAIL the bot can post to its announce and status channels: INCIDENTBOT_STATUS_CHANNEL="+status) ||
		!strings.Contains(out.String(), "/invite @incidentbot in #status-page") {
		t.Errorf("check output does not say which channel and what to do:\n%s", out.String())
	}

	env["INCIDENTBOT_STATUS_CHANNEL"] = "C0NOSUCH01"
	out.Reset()
	if check.Run(&out, config.MapEnv(env)) || !strings.Contains(out.String(), "no such channel the bot can see") {
		t.Errorf("check with an unknown channel:\n%s", out.String())
	}
	env["INCIDENTBOT_STATUS_CHANNEL"] = h.announce
	out.Reset()
	if !check.Run(&out, config.MapEnv(env)) {
		t.Errorf("check failed with channels the bot is in:\n%s", out.String())
	}
}

// TestCustomerChannelTheBotIsNotInIsReported posts a customer update to a
// customer channel the bot was never invited to: Slack refuses the post,
// and the incident channel hears which channel and what to do, instead of
// the update silently not arriving.
func TestCustomerChannelTheBotIsNotInIsReported(t *testing.T) {
	h := newHarness(t)
	acme := h.fake.AddChannel("acme-shared", false, h.alice) // the bot is not in it
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.slash(h.alice, ch.ID, "customers <#"+acme+">")
	h.slash(h.alice, ch.ID, "update identified A bad deploy; rolling back.")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.ExpectMessage(ch.ID, ":warning: I could not post a message", "not_in_channel", "<#"+acme+">", "/invite @incidentbot")
}
