package slackfake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// EventKind names a visible change in the workspace.
type EventKind string

// The kinds of Event reported by Subscribe.
const (
	EventMessagePosted   EventKind = "message_posted"
	EventMessageUpdated  EventKind = "message_updated"
	EventMessageDeleted  EventKind = "message_deleted"
	EventReactionAdded   EventKind = "reaction_added"
	EventReactionRemoved EventKind = "reaction_removed"
	EventPinAdded        EventKind = "pin_added"
	EventPinRemoved      EventKind = "pin_removed"
	EventTopicSet        EventKind = "topic_set"
	EventFileShared      EventKind = "file_shared"
	EventEphemeral       EventKind = "ephemeral" // shown to User only
	EventMemberJoined    EventKind = "member_joined"
	EventMemberLeft      EventKind = "member_left"
	EventChannelCreated  EventKind = "channel_created"
	EventChannelArchived EventKind = "channel_archived"
	EventViewOpened      EventKind = "view_opened"
	EventViewUpdated     EventKind = "view_updated"
	EventViewErrors      EventKind = "view_errors"
	EventViewClosed      EventKind = "view_closed"
)

// Event is one visible change, for live transcripts. Fields not relevant
// to the Kind are empty.
type Event struct {
	Kind     EventKind
	Time     time.Time // Options.Now when it happened
	Channel  string
	User     string // who did it (for EventEphemeral: who sees it)
	Reaction string
	Text     string // topic text, channel name
	Message  *Message
	File     *File
	View     *View
}

type subscriber struct {
	queue []Event
	out   chan Event
	done  chan struct{}
}

func (s *Server) publishLocked(e Event) {
	e.Time = s.opts.Now()
	for _, sub := range s.subs {
		sub.queue = append(sub.queue, e)
	}
	s.notifyLocked()
}

// Subscribe reports every visible change, in order, on the returned
// channel. Events queue without bound, so a slow reader loses nothing and
// never blocks the fake. The channel is closed after cancel is called or
// after Close once the queue is drained.
func (s *Server) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{out: make(chan Event), done: make(chan struct{})}
	s.mu.Lock()
	s.sub++
	id := s.sub
	s.subs[id] = sub
	s.mu.Unlock()
	go s.pump(sub)
	cancel := sync.OnceFunc(func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
		close(sub.done)
	})
	return sub.out, cancel
}

func (s *Server) pump(sub *subscriber) {
	defer close(sub.out)
	for {
		s.mu.Lock()
		if len(sub.queue) == 0 {
			ch, closed := s.changed, s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-ch:
				continue
			case <-sub.done:
				return
			}
		}
		ev := sub.queue[0]
		sub.queue = sub.queue[1:]
		s.mu.Unlock()
		select {
		case sub.out <- ev:
		case <-sub.done:
			return
		}
	}
}

// WaitFor blocks until cond returns true, re-checking it after every state
// change, or until ctx ends or the server is closed. Calling the
// observation methods from cond is fine.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return errors.New("slackfake: condition not met: server closed")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slackfake: condition not met: %w", ctx.Err())
		}
	}
}

// Calls returns the Web API calls received for method ("" for all), in
// arrival order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			c.Params = cloneValues(c.Params)
			c.JSON = clone(c.JSON)
			out = append(out, c)
		}
	}
	return out
}

// CallsOK counts the calls of method answered with HTTP 200 and no Slack
// error. Unlike Calls it copies nothing, so a benchmark can poll it
// without holding up the fake.
func (s *Server) CallsOK(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.okCalls[method]
}

// recordCallLocked keeps a call for Calls and counts it for CallsOK.
func (s *Server) recordCallLocked(c Call) {
	s.calls = append(s.calls, c)
	if (c.Status == 0 || c.Status == http.StatusOK) && c.Error == "" {
		if s.okCalls == nil {
			s.okCalls = map[string]int{}
		}
		s.okCalls[c.Method]++
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	return out
}

// Messages returns every message stored in a conversation, thread replies
// and system messages (channel_join, channel_topic, …) included, in ts
// order. Deleted messages are kept with Deleted set.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.msgs))
	for _, m := range c.msgs {
		out = append(out, s.snapshotLocked(c, m))
	}
	return out
}

// Message returns one stored message by ts.
func (s *Server) Message(channelID, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil || c.byTS[ts] == nil {
		return Message{}, false
	}
	return s.snapshotLocked(c, c.byTS[ts]), true
}

// Ephemerals returns the ephemeral messages shown to a user, oldest first.
func (s *Server) Ephemerals(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, e := range s.ephemerals {
		if e.to == userID {
			m := e.msg
			m.Blocks, m.Attachments = clone(m.Blocks), clone(m.Attachments)
			out = append(out, m)
		}
	}
	return out
}

func (c *channel) snapshot() Channel {
	out := c.Channel
	out.Members = append([]string(nil), c.Members...)
	return out
}

// Channel returns a conversation by ID.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[id]; c != nil {
		return c.snapshot(), true
	}
	return Channel{}, false
}

// ChannelByName returns a channel by name (with or without "#").
func (s *Server) ChannelByName(name string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelByNameLocked(name); c != nil {
		return c.snapshot(), true
	}
	return Channel{}, false
}

// Channels returns every conversation, DMs included, in creation order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.chanOrder))
	for _, id := range s.chanOrder {
		out = append(out, s.channels[id].snapshot())
	}
	return out
}

// User returns a workspace member by ID.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		return u.User, true
	}
	return User{}, false
}

// DM returns the ID of the DM between a user and the bot, creating it if
// needed.
func (s *Server) DM(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmLocked(userID).ID
}

// Views returns every view opened so far, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.viewOrder))
	for _, id := range s.viewOrder {
		out = append(out, s.views[id].snapshot())
	}
	return out
}

// Ack returns the bot's ack of an envelope, if it has arrived.
func (s *Server) Ack(envelopeID string) (AckInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.sock.envs[envelopeID]; e != nil && e.acked {
		a := e.ack
		a.Payload = clone(a.Payload)
		return a, true
	}
	return AckInfo{}, false
}

// WaitAck waits for the ack of an envelope.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (AckInfo, error) {
	var a AckInfo
	err := s.WaitFor(ctx, func() bool {
		var ok bool
		a, ok = s.Ack(envelopeID)
		return ok
	})
	if err != nil {
		return AckInfo{}, fmt.Errorf("waiting for ack of %s: %w", envelopeID, err)
	}
	return a, nil
}

// UnackedCount is len(Unacked()) without the copy, for polling.
func (s *Server) UnackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.unacked
}

// Unacked returns the IDs of envelopes (sent or still queued) that have
// not been acked, oldest first. A redelivered envelope and its retries are
// listed separately.
func (s *Server) Unacked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.sock.envOrder {
		if !s.sock.envs[id].acked {
			out = append(out, id)
		}
	}
	return out
}

// Envelopes describes every envelope created so far, oldest first.
func (s *Server) Envelopes() []EnvelopeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EnvelopeInfo, 0, len(s.sock.envOrder))
	for _, id := range s.sock.envOrder {
		out = append(out, s.sock.envs[id].info())
	}
	return out
}

// EnvelopeCount is len(Envelopes()) without copying them (a benchmark
// takes it at the start of its timed part, where the copy's garbage would
// be collected during the part measured).
func (s *Server) EnvelopeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sock.envOrder)
}

// Connections returns how many Socket Mode connections have been opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.opened
}

// Connected reports whether at least one Socket Mode connection is open.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sock.conns) > 0
}
