package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// A response_url accepts up to 5 responses within 30 minutes.
const (
	hookMaxUses = 5
	hookTTL     = 30 * time.Minute
)

type ephemeral struct {
	to  string
	msg Message
}

// responseBody is what a response_url or a slash command ack payload may
// carry (the shape of slack.WebhookMessage / slack.Msg).
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	Attachments     json.RawMessage `json:"attachments"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func (b *responseBody) empty() bool {
	return b.Text == "" && !hasItems(b.Blocks) && !hasItems(b.Attachments)
}

func hasItems(raw json.RawMessage) bool {
	var items []json.RawMessage
	return json.Unmarshal(raw, &items) == nil && len(items) > 0
}

// addEphemeralLocked records an ephemeral message visible to one user and
// returns its message_ts.
func (s *Server) addEphemeralLocked(to string, m Message) string {
	if m.TS == "" {
		m.TS = s.nextTSLocked()
	}
	if hasItems(m.Blocks) {
		m.Blocks = normalizeBlocks(m.Blocks, s.nextBlockID)
	} else {
		m.Blocks = nil
	}
	if !hasItems(m.Attachments) {
		m.Attachments = nil
	}
	s.ephemerals = append(s.ephemerals, ephemeral{to: to, msg: m})
	snap := m
	s.publishLocked(Event{Kind: EventEphemeral, Channel: m.Channel, User: to, Message: &snap})
	return m.TS
}

func (s *Server) ephemeralLocked(to, ts string) *ephemeral {
	for i := range s.ephemerals {
		if e := &s.ephemerals[i]; e.to == to && e.msg.TS == ts {
			return e
		}
	}
	return nil
}

// newHookLocked issues a response_url; kind is "commands" or "actions".
func (s *Server) newHookLocked(kind string, h hook) string {
	s.seq++
	token := fmt.Sprintf("%x%08x", s.seq, uint32(s.seq*2246822519))
	h.created = s.wall()
	s.hooks[token] = &h
	return fmt.Sprintf("%s/%s/%s/%d/%s", s.srv.URL, kind, s.opts.TeamID, 1000000000+s.seq, token)
}

// postResponseLocked applies a message response (ack payload or
// response_url body) in the context of hook h.
func (s *Server) postResponseLocked(h *hook, b responseBody, via string) {
	c := s.channels[h.channel]
	switch {
	case b.DeleteOriginal && h.messageTS != "":
		if h.ephemeral {
			if e := s.ephemeralLocked(h.user, h.messageTS); e != nil {
				e.msg.Deleted = true
			}
		} else if m := findMessageLocked(c, h.messageTS); m != nil {
			s.deleteLocked(c, m, s.opts.BotUserID)
		}
	case b.ReplaceOriginal && h.messageTS != "":
		if h.ephemeral {
			if e := s.ephemeralLocked(h.user, h.messageTS); e != nil {
				e.msg.Text, e.msg.Blocks, e.msg.Edited = b.Text, clone(b.Blocks), true
				snap := e.msg
				s.publishLocked(Event{Kind: EventEphemeral, Channel: e.msg.Channel, User: h.user, Message: &snap})
			}
		} else if m := findMessageLocked(c, h.messageTS); m != nil {
			blocks := b.Blocks
			if !hasItems(blocks) {
				blocks = json.RawMessage("[]")
			}
			s.updateLocked(c, m, s.opts.BotUserID, messageChange{text: &b.Text, blocks: blocks})
		}
	case b.ResponseType == "in_channel" && c != nil:
		m := &message{user: s.opts.BotUserID, botID: s.opts.BotID, text: b.Text}
		if hasItems(b.Blocks) {
			m.blocks = normalizeBlocks(b.Blocks, s.nextBlockID)
		}
		if hasItems(b.Attachments) {
			m.attachments = b.Attachments
		}
		thread := b.ThreadTS
		if thread == "" {
			thread = h.threadTS
		}
		if p := findMessageLocked(c, thread); p != nil {
			m.threadTS = p.ts
			if p.isReply() {
				m.threadTS = p.threadTS
			}
		}
		s.postLocked(c, m)
	default:
		s.addEphemeralLocked(h.user, Message{
			Channel: h.channel, User: s.opts.BotUserID, BotID: s.opts.BotID,
			Text: b.Text, Blocks: clone(b.Blocks), Attachments: clone(b.Attachments),
			ThreadTS: h.threadTS, Via: via,
		})
	}
}

// handleResponseURL serves response_url POSTs (as slack.PostWebhook and
// slack-go's MsgOptionResponseURL send them).
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	token := parts[len(parts)-1]
	var b responseBody
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&b) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hooks[token]
	switch {
	case h == nil:
		http.Error(w, "invalid_token", http.StatusNotFound)
		return
	case s.wall().Sub(h.created) > hookTTL:
		http.Error(w, "expired_url", http.StatusNotFound)
		return
	case h.uses >= hookMaxUses:
		http.Error(w, "used_url", http.StatusNotFound)
		return
	case b.empty() && !b.DeleteOriginal:
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	h.uses++
	s.postResponseLocked(h, b, "response_url")
	s.notifyLocked()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

// commandAckLocked applies a slash command ack payload: a message for the
// invoking user (ephemeral unless response_type is in_channel).
func (s *Server) commandAckLocked(e *envelope, payload json.RawMessage) {
	if payload == nil {
		return
	}
	var b responseBody
	var text string
	if json.Unmarshal(payload, &text) == nil {
		b.Text = text
	} else if json.Unmarshal(payload, &b) != nil {
		return
	}
	if b.empty() {
		return
	}
	b.ReplaceOriginal, b.DeleteOriginal = false, false
	s.postResponseLocked(&hook{user: e.user, channel: e.channel}, b, "ack")
}
