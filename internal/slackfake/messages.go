package slackfake

import (
	"encoding/json"
	"strings"
)

// This file holds the state changes shared by the Web API (the bot acting)
// and the actor methods (people acting): each stores the change and emits
// the events Slack would emit for it.

// postLocked stores a new message and emits its message event, plus
// app_mention when a person mentions the bot.
func (s *Server) postLocked(c *channel, m *message) {
	m.channel = c.ID
	if m.ts == "" {
		m.ts = s.nextTSLocked()
	}
	c.msgs = append(c.msgs, m)
	c.byTS[m.ts] = m
	snap := s.snapshotLocked(c, m)
	s.publishLocked(Event{Kind: EventMessagePosted, Channel: c.ID, User: m.user, Message: &snap})

	ev := s.messageWireLocked(c, m)
	ev["channel"] = c.ID
	ev["event_ts"] = m.ts
	ev["channel_type"] = c.channelType()
	s.emitEventLocked("message", ev, c)

	// DMs with the app arrive as message.im only, never as app_mention.
	if !c.IsIM && m.botID == "" && mentionable(m.subtype) && strings.Contains(m.text, "<@"+s.opts.BotUserID+">") {
		am := obj{
			"type": "app_mention", "user": m.user, "text": m.text, "ts": m.ts,
			"channel": c.ID, "event_ts": m.ts, "team": s.opts.TeamID,
		}
		if m.clientMsgID != "" {
			am["client_msg_id"] = m.clientMsgID
		}
		if len(m.blocks) > 0 {
			am["blocks"] = m.blocks
		}
		if m.isReply() {
			am["thread_ts"] = m.threadTS
		}
		s.emitEventLocked("app_mention", am, c)
	}
}

// mentionable reports whether a message subtype can trigger app_mention.
func mentionable(subtype string) bool {
	return subtype == "" || subtype == "thread_broadcast" || subtype == "file_share"
}

// messageChange describes an edit. Nil fields are left unchanged.
type messageChange struct {
	text        *string
	blocks      json.RawMessage // nil: unchanged; "[]" clears
	attachments json.RawMessage
	metadata    json.RawMessage
	files       []string
}

// updateLocked edits a message and emits message_changed with the
// previous version, hidden as Slack marks it.
func (s *Server) updateLocked(c *channel, m *message, editor string, ch messageChange) {
	prev := s.messageWireLocked(c, m)
	if ch.text != nil {
		m.text = *ch.text
	}
	if ch.blocks != nil {
		m.blocks = normalizeBlocks(ch.blocks, s.nextBlockID)
		if string(m.blocks) == "[]" {
			m.blocks = nil
		}
	}
	if ch.attachments != nil {
		m.attachments = ch.attachments
	}
	if ch.metadata != nil {
		m.metadata = ch.metadata
	}
	if ch.files != nil {
		m.files = ch.files
	}
	m.editedBy, m.editedTS = editor, s.nextTSLocked()
	cur := s.messageWireLocked(c, m)
	snap := s.snapshotLocked(c, m)
	s.publishLocked(Event{Kind: EventMessageUpdated, Channel: c.ID, User: editor, Message: &snap})
	s.emitEventLocked("message", obj{
		"type": "message", "subtype": "message_changed", "hidden": true,
		"message": cur, "previous_message": prev, "channel": c.ID,
		"ts": m.editedTS, "event_ts": m.editedTS, "channel_type": c.channelType(),
	}, c)
}

// deleteLocked deletes a message and emits message_deleted.
func (s *Server) deleteLocked(c *channel, m *message, by string) {
	prev := s.messageWireLocked(c, m)
	m.deleted = true
	ts := s.nextTSLocked()
	snap := s.snapshotLocked(c, m)
	s.publishLocked(Event{Kind: EventMessageDeleted, Channel: c.ID, User: by, Message: &snap})
	ev := obj{
		"type": "message", "subtype": "message_deleted", "hidden": true,
		"channel": c.ID, "ts": ts, "deleted_ts": m.ts, "event_ts": ts,
		"previous_message": prev, "channel_type": c.channelType(),
	}
	if m.isReply() {
		ev["thread_ts"] = m.threadTS
	}
	s.emitEventLocked("message", ev, c)
}

func (s *Server) reactionEventLocked(typ string, c *channel, m *message, userID, name string) {
	s.emitEventLocked(typ, reactionEvent{
		Type: typ, User: userID, Reaction: name, ItemUser: m.user,
		Item:    reactionItem{Type: "message", Channel: c.ID, TS: m.ts},
		EventTS: s.nextTSLocked(),
	}, c)
}

// reactionEvent is reaction_added or reaction_removed, its fields in the
// order of their names (see frame).
type reactionEvent struct {
	EventTS  string       `json:"event_ts"`
	Item     reactionItem `json:"item"`
	ItemUser string       `json:"item_user"`
	Reaction string       `json:"reaction"`
	Type     string       `json:"type"`
	User     string       `json:"user"`
}

type reactionItem struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Type    string `json:"type"`
}

func (s *Server) reactLocked(c *channel, m *message, userID, name string) error {
	r := m.reaction(name)
	if r == nil {
		r = &reaction{name: name}
		m.reactions = append(m.reactions, r)
	}
	for _, u := range r.users {
		if u == userID {
			return apiError("already_reacted")
		}
	}
	r.users = append(r.users, userID)
	snap := s.snapshotLocked(c, m)
	s.publishLocked(Event{Kind: EventReactionAdded, Channel: c.ID, User: userID, Reaction: name, Message: &snap})
	s.reactionEventLocked("reaction_added", c, m, userID, name)
	return nil
}

func (s *Server) unreactLocked(c *channel, m *message, userID, name string) error {
	r := m.reaction(name)
	idx := -1
	if r != nil {
		for i, u := range r.users {
			if u == userID {
				idx = i
			}
		}
	}
	if idx < 0 {
		return apiError("no_reaction")
	}
	r.users = append(r.users[:idx], r.users[idx+1:]...)
	if len(r.users) == 0 {
		out := m.reactions[:0]
		for _, x := range m.reactions {
			if x != r {
				out = append(out, x)
			}
		}
		m.reactions = out
	}
	snap := s.snapshotLocked(c, m)
	s.publishLocked(Event{Kind: EventReactionRemoved, Channel: c.ID, User: userID, Reaction: name, Message: &snap})
	s.reactionEventLocked("reaction_removed", c, m, userID, name)
	return nil
}

func (s *Server) pinLocked(c *channel, m *message, userID string, pin bool) error {
	if pin == m.pinned {
		if pin {
			return apiError("already_pinned")
		}
		return apiError("no_pin")
	}
	m.pinned = pin
	kind, typ := EventPinAdded, "pin_added"
	if !pin {
		kind, typ = EventPinRemoved, "pin_removed"
	}
	snap := s.snapshotLocked(c, m)
	s.publishLocked(Event{Kind: kind, Channel: c.ID, User: userID, Message: &snap})
	s.emitEventLocked(typ, obj{
		"type": typ, "user": userID, "channel_id": c.ID, "item_user": m.user,
		"item": obj{
			"type": "message", "channel": c.ID, "created_by": userID,
			"created": s.opts.Now().Unix(), "message": s.messageWireLocked(c, m),
		},
		"has_pins": s.pinCountLocked(c) > 0, "event_ts": s.nextTSLocked(),
	}, c)
	return nil
}

func (s *Server) pinCountLocked(c *channel) int {
	n := 0
	for _, m := range c.msgs {
		if m.pinned && !m.deleted {
			n++
		}
	}
	return n
}

// setTopicLocked sets the topic and posts Slack's channel_topic message.
func (s *Server) setTopicLocked(c *channel, userID, topic string) {
	c.Topic, c.topicCreator, c.topicSet = topic, userID, s.opts.Now()
	s.publishLocked(Event{Kind: EventTopicSet, Channel: c.ID, User: userID, Text: topic})
	s.postLocked(c, &message{
		user: userID, subtype: "channel_topic", topic: topic,
		text: "set the channel topic: " + topic,
	})
}

// findMessageLocked looks a message up by ts, ignoring deleted ones.
func findMessageLocked(c *channel, ts string) *message {
	if m := c.byTS[ts]; m != nil && !m.deleted {
		return m
	}
	return nil
}

// snapshotLocked copies a stored message into the public Message type.
func (s *Server) snapshotLocked(c *channel, m *message) Message {
	out := Message{
		Channel: c.ID, TS: m.ts, User: m.user, BotID: m.botID, Subtype: m.subtype,
		Text: m.text, Blocks: clone(m.blocks), Attachments: clone(m.attachments),
		Metadata: clone(m.metadata), ThreadTS: m.threadTS, Pinned: m.pinned,
		Edited: m.editedBy != "", Deleted: m.deleted,
	}
	if !m.isReply() {
		if n := len(s.repliesLocked(c, m)); n > 0 {
			out.ReplyCount, out.ThreadTS = n, m.ts
		}
	}
	if len(m.reactions) > 0 {
		out.Reactions = map[string][]string{}
		for _, r := range m.reactions {
			out.Reactions[r.name] = append([]string(nil), r.users...)
		}
	}
	for _, id := range m.files {
		if f := s.files[id]; f != nil {
			out.Files = append(out.Files, f.snapshot())
		}
	}
	return out
}

func clone(b json.RawMessage) json.RawMessage {
	if b == nil {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}
