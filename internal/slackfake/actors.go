package slackfake

import (
	"fmt"
	"strings"
)

// Methods in this file act as people in the workspace: they change state
// and send the events Slack would send. They panic on references that do
// not exist, since that is a bug in the test or script. A channelID equal
// to the bot's user ID means the person's DM with the bot.

// MessageOption adjusts a message posted with PostMessage.
type MessageOption func(*postOpts)

type postOpts struct {
	threadTS  string
	broadcast bool
	files     []File
}

// InThread posts the message as a reply in the thread of ts (a parent or
// any reply of it).
func InThread(ts string) MessageOption {
	return func(o *postOpts) { o.threadTS = ts }
}

// AlsoSendToChannel makes a thread reply a thread_broadcast.
func AlsoSendToChannel() MessageOption {
	return func(o *postOpts) { o.broadcast = true }
}

// WithFiles uploads the files (Name, Title, Content) and shares them with
// the message, which Slack sends as a file_share message.
func WithFiles(files ...File) MessageOption {
	return func(o *postOpts) { o.files = append(o.files, files...) }
}

func (s *Server) memberChannelForLocked(userID, channelID string) *channel {
	s.mustUserLocked(userID)
	c := s.mustChannelLocked(userID, channelID)
	if !c.isMember(userID) {
		panic(fmt.Sprintf("slackfake: %s is not a member of %s", userID, c.ID))
	}
	return c
}

func (s *Server) mustMessageLocked(c *channel, ts string) *message {
	m := findMessageLocked(c, ts)
	if m == nil {
		panic(fmt.Sprintf("slackfake: no message %s in %s", ts, c.ID))
	}
	return m
}

// PostMessage posts text as userID and returns the message ts. It emits a
// message event, and app_mention when the text contains <@BOTUSERID>.
//
// text is what the person types, with mentions written in Slack's form
// (<@U…>, <#C…|name>, <!here>). As Slack does, the fake escapes &, < and >
// elsewhere as &amp;, &lt; and &gt;, wraps bare URLs in <…>, and attaches
// a rich_text block.
func (s *Server) PostMessage(userID, channelID, text string, opts ...MessageOption) string {
	text = encodeTyped(text, true)
	var o postOpts
	for _, opt := range opts {
		opt(&o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.memberChannelForLocked(userID, channelID)
	m := &message{user: userID, text: text, clientMsgID: s.uuidLocked()}
	if text != "" {
		m.blocks = richTextFor(text, s.nextBlockID())
	}
	if o.threadTS != "" {
		p := s.mustMessageLocked(c, o.threadTS)
		m.threadTS = p.ts
		if p.isReply() {
			m.threadTS = p.threadTS
		}
		if o.broadcast {
			m.subtype = "thread_broadcast"
		}
	}
	for _, f := range o.files {
		nf := &file{File: File{
			ID: s.nextIDLocked("F"), Name: f.Name, Title: f.Title, User: userID,
			Content: append([]byte(nil), f.Content...), Channels: []string{c.ID},
		}, created: s.opts.Now(), size: len(f.Content), uploaded: true, complete: true}
		if nf.Title == "" {
			nf.Title = nf.Name
		}
		s.files[nf.ID] = nf
		s.fileOrder = append(s.fileOrder, nf.ID)
		m.files = append(m.files, nf.ID)
		m.subtype = "file_share"
	}
	s.postLocked(c, m)
	for _, id := range m.files {
		s.publishLocked(Event{Kind: EventFileShared, Channel: c.ID, User: userID, File: ptr(s.files[id].snapshot())})
	}
	return m.ts
}

// EditMessage changes the text of userID's message (typed text, encoded
// as for PostMessage) and emits message_changed.
func (s *Server) EditMessage(userID, channelID, ts, text string) {
	text = encodeTyped(text, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.memberChannelForLocked(userID, channelID)
	m := s.mustMessageLocked(c, ts)
	if m.user != userID || m.botID != "" {
		panic(fmt.Sprintf("slackfake: message %s is not %s's", ts, userID))
	}
	blocks := richTextFor(text, s.nextBlockID())
	s.updateLocked(c, m, userID, messageChange{text: &text, blocks: blocks})
}

// DeleteMessage deletes a message as userID and emits message_deleted.
// People may only delete their own messages; the fake does not model admins.
func (s *Server) DeleteMessage(userID, channelID, ts string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChannelLocked(userID, channelID)
	m := s.mustMessageLocked(c, ts)
	if m.user != userID || m.botID != "" {
		panic(fmt.Sprintf("slackfake: message %s is not %s's", ts, userID))
	}
	s.deleteLocked(c, m, userID)
}

// AddReaction reacts to a message as userID (name without colons) and
// emits reaction_added. Reacting twice is a no-op, as in the Slack UI.
func (s *Server) AddReaction(userID, channelID, ts, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUserLocked(userID)
	c := s.mustChannelLocked(userID, channelID)
	_ = s.reactLocked(c, s.mustMessageLocked(c, ts), userID, strings.Trim(name, ":"))
}

// RemoveReaction removes userID's reaction and emits reaction_removed.
func (s *Server) RemoveReaction(userID, channelID, ts, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUserLocked(userID)
	c := s.mustChannelLocked(userID, channelID)
	_ = s.unreactLocked(c, s.mustMessageLocked(c, ts), userID, strings.Trim(name, ":"))
}

// JoinChannel makes userID join a channel: a channel_join message and a
// member_joined_channel event. Joining twice is a no-op.
func (s *Server) JoinChannel(userID, channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUserLocked(userID)
	s.joinLocked(s.mustChannelLocked(userID, channelID), userID, "")
}

// LeaveChannel makes userID leave a channel: a channel_leave message and a
// member_left_channel event.
func (s *Server) LeaveChannel(userID, channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUserLocked(userID)
	s.leaveLocked(s.mustChannelLocked(userID, channelID), userID)
}

// SetTopic sets a channel topic as userID, with Slack's channel_topic
// message.
func (s *Server) SetTopic(userID, channelID, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setTopicLocked(s.memberChannelForLocked(userID, channelID), userID, topic)
}
