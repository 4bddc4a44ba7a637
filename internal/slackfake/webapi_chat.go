package slackfake

import (
	"encoding/json"
	"strings"
)

// messageArgs reads text, blocks, attachments and metadata the way chat.*
// methods accept them, validating the JSON-encoded ones.
func (s *Server) messageArgs(r *apiRequest) (*message, error) {
	m := &message{text: r.get("text")}
	if b := r.get("blocks"); b != "" {
		if !validBlocks(json.RawMessage(b)) {
			return nil, apiError("invalid_blocks")
		}
		m.blocks = normalizeBlocks(json.RawMessage(b), s.nextBlockID)
		if string(m.blocks) == "[]" {
			m.blocks = nil
		}
	}
	if a := r.get("attachments"); a != "" && a != "null" {
		if !json.Valid([]byte(a)) {
			return nil, apiError("invalid_attachments")
		}
		m.attachments = json.RawMessage(a)
	}
	if md := r.get("metadata"); md != "" {
		var v struct {
			EventType string `json:"event_type"`
		}
		if json.Unmarshal([]byte(md), &v) != nil {
			return nil, apiError("invalid_metadata_format")
		}
		// slack-go always sends metadata; an empty event_type means none.
		if v.EventType != "" {
			m.metadata = json.RawMessage(md)
		}
	}
	return m, nil
}

// botChannelLocked resolves the channel argument for a bot write: it must
// exist, be visible to the bot, and (except DMs) have the bot as a member.
func (s *Server) botChannelLocked(ref string) (*channel, error) {
	c := s.resolveChannelLocked(ref)
	if !s.visibleLocked(c) {
		return nil, apiError("channel_not_found")
	}
	if c.IsArchived {
		return nil, apiError("is_archived")
	}
	if !c.isMember(s.opts.BotUserID) {
		return nil, apiError("not_in_channel")
	}
	return c, nil
}

// threadParentLocked resolves a thread_ts argument to the thread's parent:
// Slack accepts a reply's ts and files the message under its parent.
func threadParentLocked(c *channel, ts string) (*message, error) {
	p := findMessageLocked(c, ts)
	if p == nil {
		return nil, apiError("invalid_thread_ts")
	}
	if p.isReply() {
		if root := findMessageLocked(c, p.threadTS); root != nil {
			return root, nil
		}
	}
	return p, nil
}

func (s *Server) apiChatPost(r *apiRequest) (obj, error) {
	c, err := s.botChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	m, err := s.messageArgs(r)
	if err != nil {
		return nil, err
	}
	if m.text == "" && m.blocks == nil && m.attachments == nil {
		return nil, apiError("no_text")
	}
	if ts := r.get("thread_ts"); ts != "" {
		p, err := threadParentLocked(c, ts)
		if err != nil {
			return nil, err
		}
		m.threadTS = p.ts
		if boolArg(r.get("reply_broadcast")) {
			m.subtype = "thread_broadcast"
		}
	}
	m.user, m.botID = s.opts.BotUserID, s.opts.BotID
	s.postLocked(c, m)
	return obj{"channel": c.ID, "ts": m.ts, "message": s.messageWireLocked(c, m)}, nil
}

// ownMessageLocked finds a message the bot may change: chat.update and
// chat.delete take a conversation ID, not a user ID.
func (s *Server) ownMessageLocked(r *apiRequest, notOwn string) (*channel, *message, error) {
	c := s.channels[r.get("channel")]
	if !s.visibleLocked(c) {
		return nil, nil, apiError("channel_not_found")
	}
	m := findMessageLocked(c, r.get("ts"))
	if m == nil {
		return nil, nil, apiError("message_not_found")
	}
	if m.botID != s.opts.BotID {
		return nil, nil, apiError(notOwn)
	}
	return c, m, nil
}

func (s *Server) apiChatUpdate(r *apiRequest) (obj, error) {
	c, m, err := s.ownMessageLocked(r, "cant_update_message")
	if err != nil {
		return nil, err
	}
	args, err := s.messageArgs(r)
	if err != nil {
		return nil, err
	}
	var ch messageChange
	if _, ok := r.params["text"]; ok {
		ch.text = &args.text
	}
	// Slack keeps blocks and attachments that are not sent; an empty
	// array clears them.
	if b := r.get("blocks"); b != "" {
		ch.blocks = json.RawMessage(b)
	}
	if _, ok := r.params["attachments"]; ok && args.attachments != nil {
		ch.attachments = args.attachments
	}
	ch.metadata = args.metadata
	s.updateLocked(c, m, s.opts.BotUserID, ch)
	return obj{"channel": c.ID, "ts": m.ts, "text": m.text, "message": s.messageWireLocked(c, m)}, nil
}

func (s *Server) apiChatDelete(r *apiRequest) (obj, error) {
	c, m, err := s.ownMessageLocked(r, "cant_delete_message")
	if err != nil {
		return nil, err
	}
	s.deleteLocked(c, m, s.opts.BotUserID)
	return obj{"channel": c.ID, "ts": m.ts}, nil
}

func (s *Server) apiChatEphemeral(r *apiRequest) (obj, error) {
	c := s.resolveChannelLocked(r.get("channel"))
	if !s.visibleLocked(c) {
		return nil, apiError("channel_not_found")
	}
	userID := r.get("user")
	if s.users[userID] == nil {
		return nil, apiError("user_not_found")
	}
	if !c.isMember(userID) {
		return nil, apiError("user_not_in_channel")
	}
	m, err := s.messageArgs(r)
	if err != nil {
		return nil, err
	}
	if m.text == "" && m.blocks == nil && m.attachments == nil {
		return nil, apiError("no_text")
	}
	e := Message{
		Channel: c.ID, User: s.opts.BotUserID, BotID: s.opts.BotID,
		Text: m.text, Blocks: m.blocks, Attachments: m.attachments,
		ThreadTS: r.get("thread_ts"), Via: "chat.postEphemeral",
	}
	ts := s.addEphemeralLocked(userID, e)
	return obj{"message_ts": ts}, nil
}

func (s *Server) apiPermalink(r *apiRequest) (obj, error) {
	c := s.channels[r.get("channel")]
	if !s.visibleLocked(c) {
		return nil, apiError("channel_not_found")
	}
	m := findMessageLocked(c, r.get("message_ts"))
	if m == nil {
		return nil, apiError("message_not_found")
	}
	return obj{"channel": c.ID, "permalink": s.permalinkLocked(c, m)}, nil
}

func (s *Server) permalinkLocked(c *channel, m *message) string {
	link := "https://" + s.opts.TeamDomain + ".slack.com/archives/" + c.ID + "/p" + strings.Replace(m.ts, ".", "", 1)
	if m.isReply() {
		link += "?thread_ts=" + m.threadTS + "&cid=" + c.ID
	}
	return link
}

// itemLocked resolves the channel+timestamp item of reactions.* and pins.*.
func (s *Server) itemLocked(r *apiRequest, needMember bool) (*channel, *message, error) {
	c := s.channels[r.get("channel")]
	if !s.visibleLocked(c) {
		return nil, nil, apiError("channel_not_found")
	}
	if needMember && !c.isMember(s.opts.BotUserID) {
		return nil, nil, apiError("not_in_channel")
	}
	m := findMessageLocked(c, r.get("timestamp"))
	if m == nil {
		return nil, nil, apiError("message_not_found")
	}
	return c, m, nil
}

func reactionName(r *apiRequest) (string, error) {
	name := strings.Trim(r.get("name"), ":")
	if name == "" {
		return "", apiError("invalid_name")
	}
	return name, nil
}

func (s *Server) apiReactionsAdd(r *apiRequest) (obj, error) {
	name, err := reactionName(r)
	if err != nil {
		return nil, err
	}
	c, m, err := s.itemLocked(r, false)
	if err != nil {
		return nil, err
	}
	return nil, s.reactLocked(c, m, s.opts.BotUserID, name)
}

func (s *Server) apiReactionsRemove(r *apiRequest) (obj, error) {
	name, err := reactionName(r)
	if err != nil {
		return nil, err
	}
	c, m, err := s.itemLocked(r, false)
	if err != nil {
		return nil, err
	}
	return nil, s.unreactLocked(c, m, s.opts.BotUserID, name)
}

func (s *Server) apiPinsAdd(r *apiRequest) (obj, error) {
	c, m, err := s.itemLocked(r, true)
	if err != nil {
		return nil, err
	}
	return nil, s.pinLocked(c, m, s.opts.BotUserID, true)
}

func (s *Server) apiPinsRemove(r *apiRequest) (obj, error) {
	c, m, err := s.itemLocked(r, true)
	if err != nil {
		return nil, err
	}
	return nil, s.pinLocked(c, m, s.opts.BotUserID, false)
}
