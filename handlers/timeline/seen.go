package timeline

import (
	"sync"

	"github.com/incidentbot/incidentbot/handlers"
)

// seenLimit bounds the messages remembered: a busy incident channel's last
// ten thousand, a few megabytes.
const seenLimit = 10_000

// seen remembers the messages the bot received in incident channels, so a
// pin of one of them needs no conversations.history call: its text and
// author came with the message event. It is only a cache — after a restart,
// or for a message older than the bot, the fetch reads history as before.
type seen struct {
	mu    sync.Mutex
	msgs  map[string]seenMessage // by source key, channel/ts
	order []string               // oldest first, for eviction
}

type seenMessage struct {
	User, Text, ThreadTS string
}

func (s *seen) put(key string, m seenMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msgs == nil {
		s.msgs = map[string]seenMessage{}
	}
	if _, ok := s.msgs[key]; !ok {
		s.order = append(s.order, key)
		for len(s.order) > seenLimit {
			delete(s.msgs, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.msgs[key] = m
}

// edit changes a remembered message's text (an edit arrived).
func (s *seen) edit(key, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.msgs[key]; ok {
		m.Text = text
		s.msgs[key] = m
	}
}

func (s *seen) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.msgs, key) // its key stays in order until evicted: harmless
}

func (s *seen) get(key string) (seenMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[key]
	return m, ok
}

// remember keeps what a message event says of a message in an incident
// channel. Messages with files (subtype file_share) are not kept: the event
// does not carry the files, and the draft lists them.
func (m *Module) remember(msg handlers.Message) {
	key := handlers.SourceKey(msg.Channel, msg.TS)
	switch msg.SubType {
	case "", "thread_broadcast":
		m.seen.put(key, seenMessage{User: msg.User, Text: msg.Text, ThreadTS: msg.ThreadTS})
	case "message_changed":
		m.seen.edit(key, msg.Text)
	case "message_deleted":
		m.seen.forget(key)
	}
}
