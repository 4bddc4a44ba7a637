package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ackDeadline is how long Slack waits for the ack of a slash command or
// interaction before it tells the user the app failed.
const ackDeadline = 3 * time.Second

// maxRetries is how often Slack redelivers an unacked events_api envelope.
const maxRetries = 3

// envelope is one Socket Mode envelope the fake created.
type envelope struct {
	id           string
	typ          string // events_api, slash_commands, interactive
	kind         string // event, command, block_actions, view_submission, raw
	eventID      string
	eventType    string
	payload      json.RawMessage
	frame        []byte
	accepts      bool
	retryAttempt int
	retryReason  string
	sent         bool
	sentAt       time.Time
	conn         int
	timers       bool // post-send timers started
	redelivered  bool // an automatic retry was already queued
	acked        bool
	ack          AckInfo
	// context for interpreting the ack payload
	user, channel, command, viewID string
}

// AckInfo describes the bot's acknowledgement of one envelope.
type AckInfo struct {
	EnvelopeID string
	// Payload is the ack's payload as raw JSON, nil when there was none.
	Payload json.RawMessage
	// Latency is the real time between writing the envelope to the socket
	// and reading the ack.
	Latency time.Duration
	At      time.Time
}

// EnvelopeInfo describes one envelope the fake sent or queued.
type EnvelopeInfo struct {
	ID           string
	Type         string // events_api, slash_commands, interactive
	EventID      string // events_api only
	EventType    string // inner event type, or the interaction type
	RetryAttempt int
	RetryReason  string
	Sent         bool
	Acked        bool
	Frame        json.RawMessage // exactly what went over the socket
}

func (s *Server) encodeLocked(e *envelope) {
	f := frame{ID: e.id, Type: e.typ, Accepts: e.accepts, Payload: e.payload}
	if e.typ == "events_api" {
		f.RetryAttempt, f.RetryReason = &e.retryAttempt, &e.retryReason
	}
	e.frame = mustJSON(f)
}

// frame is an envelope as it goes over the socket. Its fields, and those
// of eventCallback and authorization, are in the order of their names, as
// json.Marshal writes a map's: the bytes are what the maps the fake used
// to build gave (struct encoding is cheaper, and a storm makes thousands).
type frame struct {
	Accepts      bool            `json:"accepts_response_payload"`
	ID           string          `json:"envelope_id"`
	Payload      json.RawMessage `json:"payload"`
	RetryAttempt *int            `json:"retry_attempt,omitempty"`
	RetryReason  *string         `json:"retry_reason,omitempty"`
	Type         string          `json:"type"`
}

type eventCallback struct {
	APIAppID           string          `json:"api_app_id"`
	Authorizations     []authorization `json:"authorizations"`
	Event              any             `json:"event"`
	EventContext       string          `json:"event_context"`
	EventID            string          `json:"event_id"`
	EventTime          int64           `json:"event_time"`
	IsExtSharedChannel bool            `json:"is_ext_shared_channel"`
	TeamID             string          `json:"team_id"`
	Token              string          `json:"token"`
	Type               string          `json:"type"`
}

type authorization struct {
	EnterpriseID        *string `json:"enterprise_id"`
	IsBot               bool    `json:"is_bot"`
	IsEnterpriseInstall bool    `json:"is_enterprise_install"`
	TeamID              string  `json:"team_id"`
	UserID              string  `json:"user_id"`
}

type eventContext struct {
	AID string `json:"aid"`
	CID string `json:"cid"`
	ET  string `json:"et"`
	TID string `json:"tid"`
}

func (s *Server) enqueueLocked(e *envelope) {
	s.encodeLocked(e)
	s.sock.envs[e.id] = e
	s.sock.envOrder = append(s.sock.envOrder, e.id)
	s.sock.unacked++
	s.sock.pending = append(s.sock.pending, &outFrame{env: e, to: s.pickConnLocked()})
	s.notifyLocked()
}

// emitEventLocked wraps an inner event in an event_callback and an
// events_api envelope, if the app subscribes to the type and, for channel
// events, the bot is a member of the channel (Slack only delivers events
// from conversations the app is in, including its own posts).
func (s *Server) emitEventLocked(typ string, ev any, c *channel) {
	if !s.events[typ] || (c != nil && !c.isMember(s.opts.BotUserID)) {
		return
	}
	s.seq++
	eventID := "Ev" + fmt.Sprintf("%010X", s.seq*7919)
	chID := ""
	if c != nil {
		chID = c.ID
	}
	// Slack's event_context is an opaque "4-" + base64 JSON string.
	ctx := "4-" + base64.RawURLEncoding.EncodeToString(mustJSON(eventContext{
		ET: typ, TID: s.opts.TeamID, AID: s.opts.AppID, CID: chID,
	}))
	payload := eventCallback{
		Token: s.opts.VerificationToken, TeamID: s.opts.TeamID,
		APIAppID: s.opts.AppID, Event: ev, Type: "event_callback",
		EventID: eventID, EventTime: s.opts.Now().Unix(),
		Authorizations: []authorization{{TeamID: s.opts.TeamID, UserID: s.opts.BotUserID, IsBot: true}},
		EventContext:   ctx,
	}
	s.enqueueLocked(&envelope{
		id: s.uuidLocked(), typ: "events_api", kind: "event",
		eventID: eventID, eventType: typ, payload: mustJSON(payload),
	})
}

// afterSend starts the timers that depend on when an envelope actually
// went out: automatic redelivery and the slash command ack deadline.
func (s *Server) afterSend(e *envelope) {
	s.mu.Lock()
	start := !e.timers
	e.timers = true
	s.mu.Unlock()
	if !start {
		return
	}
	switch e.kind {
	case "event":
		if d := s.opts.RedeliverAfter; d > 0 {
			time.AfterFunc(d, func() { s.autoRedeliver(e) })
		}
	case "command":
		time.AfterFunc(ackDeadline, func() { s.commandTimeout(e) })
	}
}

func (s *Server) autoRedeliver(e *envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || e.acked || e.redelivered || s.sock.ackedEvents[e.eventID] || e.retryAttempt >= maxRetries {
		return
	}
	e.redelivered = true
	s.redeliverLocked(e)
}

// redeliverLocked re-sends an envelope the way Slack retries: a new
// envelope_id, the same payload (so the same event_id), the next
// retry_attempt and retry_reason "timeout".
func (s *Server) redeliverLocked(old *envelope) *envelope {
	e := *old
	e.id = s.uuidLocked()
	e.retryAttempt = old.retryAttempt + 1
	e.retryReason = "timeout"
	e.sent, e.timers, e.redelivered, e.acked = false, false, false, false
	e.sentAt, e.ack, e.conn = time.Time{}, AckInfo{}, 0
	s.enqueueLocked(&e)
	return &e
}

// Redeliver re-sends an envelope as a Slack retry and returns the new
// envelope ID, or "" if envelopeID is unknown.
func (s *Server) Redeliver(envelopeID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.sock.envs[envelopeID]
	if old == nil {
		return ""
	}
	return s.redeliverLocked(old).id
}

// commandTimeout shows the user Slack's own error when a slash command was
// not acked in time.
func (s *Server) commandTimeout(e *envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || e.acked {
		return
	}
	s.addEphemeralLocked(e.user, Message{
		Channel: e.channel, User: "USLACKBOT", Via: "timeout",
		Text: fmt.Sprintf("%s failed with the error \"operation_timeout\"", e.command),
	})
}

// recordAck handles an ack frame from the bot.
func (s *Server) recordAck(id string, payload json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.sock.envs[id]
	if e == nil || e.acked {
		return
	}
	if p := strings.TrimSpace(string(payload)); p == "" || p == "null" {
		payload = nil
	}
	e.acked = true
	s.sock.unacked--
	e.ack = AckInfo{EnvelopeID: id, Payload: payload, Latency: time.Since(e.sentAt), At: time.Now()}
	if e.eventID != "" {
		s.sock.ackedEvents[e.eventID] = true
	}
	// Slack ignores the payload of an ack that came after its deadline.
	if e.ack.Latency <= ackDeadline {
		switch e.kind {
		case "command":
			s.commandAckLocked(e, payload)
		case "view_submission":
			s.viewAckLocked(e, payload)
		}
	}
	s.notifyLocked()
}

func (e *envelope) info() EnvelopeInfo {
	return EnvelopeInfo{
		ID: e.id, Type: e.typ, EventID: e.eventID, EventType: e.eventType,
		RetryAttempt: e.retryAttempt, RetryReason: e.retryReason,
		Sent: e.sent, Acked: e.acked, Frame: append(json.RawMessage(nil), e.frame...),
	}
}
