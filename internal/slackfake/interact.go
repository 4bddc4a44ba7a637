package slackfake

import (
	"encoding/json"
	"fmt"
)

// This file builds the slash_commands and interactive envelopes a person's
// actions produce. Like the other actor methods, these panic on references
// that do not exist (unknown user, channel, message, action or view),
// because that is a bug in the test or script, not behaviour to simulate.

// SlashCommand runs /incident as userID in channelID and returns the
// envelope ID. The bot's ack payload, a response_url POST or a
// chat.postEphemeral reply all show up in Ephemerals(userID). text is
// typed text; like Slack, the fake escapes &, < and > in it (mentions
// written as <@U…> are kept).
func (s *Server) SlashCommand(userID, channelID, text string) string {
	return s.SlashCommandWith("/incident", userID, channelID, text)
}

// SlashCommandWith runs any slash command (e.g. "/inc") and returns the
// envelope ID.
func (s *Server) SlashCommandWith(command, userID, channelID, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUserLocked(userID)
	c := s.mustChannelLocked(userID, channelID)
	hookURL := s.newHookLocked("commands", hook{user: userID, channel: c.ID})
	// Slack sends every field as a string here, is_enterprise_install too.
	payload := map[string]string{
		"token": s.opts.VerificationToken, "team_id": s.opts.TeamID,
		"team_domain": s.opts.TeamDomain, "channel_id": c.ID,
		"channel_name": commandChannelName(c), "user_id": userID, "user_name": u.Name,
		"command": command, "text": encodeTyped(text, false), "api_app_id": s.opts.AppID,
		"is_enterprise_install": "false", "response_url": hookURL,
		"trigger_id": s.newTriggerLocked(userID),
	}
	e := &envelope{
		id: s.uuidLocked(), typ: "slash_commands", kind: "command", eventType: command,
		payload: mustJSON(payload), accepts: true,
		user: userID, channel: c.ID, command: command,
	}
	s.enqueueLocked(e)
	return e.id
}

// commandChannelName is the channel_name of a slash command, where Slack
// still reports private channels as "privategroup".
func commandChannelName(c *channel) string {
	if c.IsPrivate && !c.IsIM {
		return "privategroup"
	}
	return channelName(c)
}

// channelName is the name interaction payloads carry for a conversation.
func channelName(c *channel) string {
	if c.IsIM {
		return "directmessage"
	}
	return c.Name
}

func (s *Server) mustUserLocked(id string) *user {
	u := s.users[id]
	if u == nil {
		panic(fmt.Sprintf("slackfake: unknown user %q", id))
	}
	return u
}

// mustChannelLocked resolves a channel for a person's action; the bot's
// user ID stands for the person's DM with the bot.
func (s *Server) mustChannelLocked(userID, ref string) *channel {
	if ref == s.opts.BotUserID {
		return s.dmLocked(userID)
	}
	c := s.resolveChannelLocked(ref)
	if c == nil {
		panic(fmt.Sprintf("slackfake: unknown channel %q", ref))
	}
	return c
}

func (s *Server) userObjLocked(u *user) obj {
	return obj{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": s.opts.TeamID}
}

// ClickButton clicks the button with actionID in a stored message (a
// channel or DM message, or an ephemeral shown to userID) and returns the
// envelope ID of the block_actions payload.
func (s *Server) ClickButton(userID, channelID, messageTS, actionID string) string {
	return s.act(userID, channelID, messageTS, actionID, "", false, "")
}

// ClickButtonFrom clicks the button as ClickButton does, but as seen in
// another conversation, from (a channel id, or the bot's user ID for
// userID's DM): a copy of the message there, such as a message another app
// posted with the same values. The payload's container and channel are
// from; the message, its blocks and values are the original's.
func (s *Server) ClickButtonFrom(userID, from, channelID, messageTS, actionID string) string {
	return s.act(userID, channelID, messageTS, actionID, "", false, from)
}

// ChooseOption picks the option with the given value in a select menu,
// overflow menu or radio group of a stored message, and returns the
// envelope ID of the block_actions payload.
func (s *Server) ChooseOption(userID, channelID, messageTS, actionID, value string) string {
	return s.act(userID, channelID, messageTS, actionID, value, true, "")
}

func (s *Server) act(userID, channelID, messageTS, actionID, value string, choose bool, from string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUserLocked(userID)
	c := s.mustChannelLocked(userID, channelID)
	var blocks json.RawMessage
	var wire obj
	threadTS := ""
	eph := s.ephemeralLocked(userID, messageTS)
	if m := findMessageLocked(c, messageTS); m != nil {
		blocks, wire = m.blocks, s.messageWireLocked(c, m)
		if m.isReply() {
			threadTS = m.threadTS
		}
	} else if eph != nil && eph.msg.Channel == c.ID {
		blocks, threadTS = eph.msg.Blocks, eph.msg.ThreadTS
	} else {
		panic(fmt.Sprintf("slackfake: no message %s in %s", messageTS, c.ID))
	}
	el, blockID, ok := findElement(blocks, actionID)
	if !ok {
		panic(fmt.Sprintf("slackfake: no element with action_id %q in message %s", actionID, messageTS))
	}
	action := obj{"action_id": actionID, "block_id": blockID, "type": el["type"], "action_ts": s.nextTSLocked()}
	for _, k := range []string{"text", "value", "style"} {
		if v, ok := el[k]; ok {
			action[k] = v
		}
	}
	if choose {
		delete(action, "value")
		if el["type"] == "overflow" {
			action["selected_option"] = optionFor(el, value)
		} else {
			for k, v := range elementState(el, value, true) {
				if k != "type" {
					action[k] = v
				}
			}
		}
	}
	shown := c // the conversation the click comes from
	if from != "" {
		shown = s.mustChannelLocked(userID, from)
	}
	container := obj{"type": "message", "message_ts": messageTS, "channel_id": shown.ID, "is_ephemeral": eph != nil && wire == nil}
	if threadTS != "" {
		container["thread_ts"] = threadTS
	}
	payload := obj{
		"type": "block_actions", "user": s.userObjLocked(u), "api_app_id": s.opts.AppID,
		"token": s.opts.VerificationToken, "container": container,
		"trigger_id": s.newTriggerLocked(userID),
		"team":       obj{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"enterprise": nil, "is_enterprise_install": false,
		"channel": obj{"id": shown.ID, "name": channelName(shown)},
		"state":   obj{"values": obj{}},
		"response_url": s.newHookLocked("actions", hook{
			user: userID, channel: shown.ID, messageTS: messageTS, ephemeral: wire == nil, threadTS: threadTS,
		}),
		"actions": []obj{action},
	}
	if wire != nil {
		payload["message"] = wire
	}
	e := &envelope{
		id: s.uuidLocked(), typ: "interactive", kind: "block_actions", eventType: "block_actions",
		payload: mustJSON(payload), user: userID, channel: shown.ID,
	}
	s.enqueueLocked(e)
	return e.id
}

// SubmitView submits an open view as userID and returns the envelope ID of
// the view_submission payload. values maps block_id → action_id → value.
// The value is rendered according to the input element's type found in
// the view: plain_text_input, number/email/url inputs and date/time
// pickers take the text; static/external selects and radio buttons take
// an option value; checkboxes and multi-selects take comma-separated option
// values; users/conversations/channels selects take IDs (comma-separated
// for multi); datetimepicker takes a Unix time; rich_text_input takes text.
// Inputs not mentioned are sent untouched (null/empty), as Slack does.
func (s *Server) SubmitView(userID, viewID string, values map[string]map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUserLocked(userID)
	v := s.views[viewID]
	if v == nil || v.Closed {
		panic(fmt.Sprintf("slackfake: no open view %q", viewID))
	}
	state := obj{}
	seen := map[string]bool{}
	var blocks []map[string]any
	_ = json.Unmarshal(mustJSON(v.wire["blocks"]), &blocks)
	for _, b := range blocks {
		el, ok := b["element"].(map[string]any)
		if b["type"] != "input" || !ok {
			continue
		}
		bid, _ := b["block_id"].(string)
		aid, _ := el["action_id"].(string)
		val, provided := values[bid][aid]
		seen[bid+"\x00"+aid] = true
		state[bid] = obj{aid: elementState(el, val, provided)}
	}
	for bid, acts := range values {
		for aid, val := range acts {
			if !seen[bid+"\x00"+aid] {
				bs, _ := state[bid].(obj)
				if bs == nil {
					bs = obj{}
					state[bid] = bs
				}
				bs[aid] = obj{"type": "plain_text_input", "value": val}
			}
		}
	}
	wire := obj{}
	for k, x := range v.wire {
		wire[k] = x
	}
	wire["state"] = obj{"values": state}
	v.Errors = nil
	payload := obj{
		"type": "view_submission", "team": obj{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"user": s.userObjLocked(u), "api_app_id": s.opts.AppID,
		"token": s.opts.VerificationToken, "trigger_id": s.newTriggerLocked(userID),
		"view": wire, "response_urls": []any{}, "is_enterprise_install": false, "enterprise": nil,
	}
	e := &envelope{
		id: s.uuidLocked(), typ: "interactive", kind: "view_submission", eventType: "view_submission",
		payload: mustJSON(payload), accepts: true, user: userID, viewID: viewID,
	}
	s.enqueueLocked(e)
	return e.id
}
