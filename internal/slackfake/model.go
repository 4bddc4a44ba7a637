package slackfake

import (
	"encoding/json"
	"time"
)

// obj is a JSON object under construction. Maps keep the wire builders short
// and let optional fields be omitted exactly as Slack omits them.
type obj = map[string]any

// User is a workspace member.
type User struct {
	ID          string // U…; generated when empty
	Name        string // the handle, e.g. "alice"
	RealName    string
	DisplayName string
	Email       string
	IsBot       bool
	TZ          string // IANA zone; default "Europe/London"
}

// Channel is a snapshot of a conversation: a public or private channel or a
// DM (IsIM).
type Channel struct {
	ID         string
	Name       string // empty for DMs
	IsPrivate  bool
	IsIM       bool
	User       string // the human side of a DM
	Creator    string
	Created    time.Time
	Members    []string
	Topic      string
	Purpose    string
	IsArchived bool
}

// Message is a snapshot of a message as stored by the fake.
type Message struct {
	Channel     string
	TS          string
	User        string
	BotID       string // set for messages posted by the bot
	Subtype     string // "", "channel_join", "channel_topic", "file_share", …
	Text        string
	Blocks      json.RawMessage // as Slack stores them (block_ids filled in)
	Attachments json.RawMessage
	Metadata    json.RawMessage
	ThreadTS    string // set on replies and on thread parents
	ReplyCount  int
	Reactions   map[string][]string // reaction name → users, in order
	Pinned      bool
	Files       []File
	Edited      bool
	Deleted     bool
	// Via says how an ephemeral reached the user: "ack" (slash command ack
	// payload), "response_url", "chat.postEphemeral", or "timeout" (Slack's
	// own notice that a slash command was not acked within 3 s). Empty for
	// channel messages.
	Via string
}

// File is an uploaded file.
type File struct {
	ID       string
	Name     string
	Title    string
	Content  []byte
	Channels []string // channels it was shared into
	User     string
}

// View is a modal opened with views.open (or pushed by a response_action).
type View struct {
	ID         string
	CallbackID string
	ExternalID string
	User       string
	// JSON is the view object as views.open/views.update returned it.
	JSON json.RawMessage
	// Errors is the last response_action "errors" map the bot acked a
	// view_submission with.
	Errors map[string]string
	Closed bool
}

type user struct {
	User
	updated time.Time
}

type channel struct {
	Channel
	topicCreator string
	topicSet     time.Time
	msgs         []*message // ascending ts, including thread replies
	byTS         map[string]*message
	pins         []string // ts of pinned messages
}

func (c *channel) isMember(u string) bool {
	for _, m := range c.Members {
		if m == u {
			return true
		}
	}
	return false
}

func (c *channel) removeMember(u string) {
	out := c.Members[:0]
	for _, m := range c.Members {
		if m != u {
			out = append(out, m)
		}
	}
	c.Members = out
}

// channelType is the channel_type Slack puts in message events.
func (c *channel) channelType() string {
	switch {
	case c.IsIM:
		return "im"
	case c.IsPrivate:
		return "group"
	default:
		return "channel"
	}
}

type reaction struct {
	name  string
	users []string
}

type message struct {
	channel     string
	ts          string
	user        string
	botID       string
	subtype     string
	text        string
	blocks      json.RawMessage
	attachments json.RawMessage
	metadata    json.RawMessage
	threadTS    string
	clientMsgID string
	inviter     string
	topic       string
	files       []string
	reactions   []*reaction
	pinned      bool
	editedBy    string
	editedTS    string
	deleted     bool
}

func (m *message) isReply() bool { return m.threadTS != "" && m.threadTS != m.ts }

func (m *message) reaction(name string) *reaction {
	for _, r := range m.reactions {
		if r.name == name {
			return r
		}
	}
	return nil
}

type file struct {
	File
	created  time.Time
	size     int
	uploaded bool
	complete bool
}

type view struct {
	View
	wire  obj
	hash  string
	stack string // root view id
}

type trigger struct {
	created time.Time // wall clock: Slack's 3 s limit is real time
	user    string
	used    bool
}

type userGroup struct {
	id, handle string
	members    []string
}

// hook is the context behind one response_url.
type hook struct {
	user      string
	channel   string
	messageTS string // set for block_actions: the message holding the button
	ephemeral bool   // the source message was an ephemeral
	threadTS  string
	uses      int
	created   time.Time
}
