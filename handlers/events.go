package handlers

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// event handles an Events API event. Events the bot does not act on are
// simply recorded as seen.
func (h *Handlers) event(tx *store.Tx, ev slackevents.EventsAPIEvent) error {
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.ReactionAddedEvent:
		return h.reaction(tx, slackevents.ReactionRemovedEvent(*e), true)
	case *slackevents.ReactionRemovedEvent:
		return h.reaction(tx, *e, false)
	case *slackevents.MessageEvent:
		return h.message(tx, e)
	case *slackevents.AppMentionEvent:
		return h.appMention(tx, e)
	}
	return nil
}

// IncidentOf returns the incident whose channel this is, or nil.
func IncidentOf(tx *store.Tx, channel string) (*incident.Incident, error) {
	inc, err := tx.IncidentByChannel(channel)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, nil
	}
	return inc, err
}

// reaction passes a reaction on a message in an incident channel to the
// module that registered its emoji.
func (h *Handlers) reaction(tx *store.Tx, e slackevents.ReactionRemovedEvent, added bool) error {
	fn := h.reg.reactions[e.Reaction]
	if e.Item.Type != "message" || e.User == h.cfg.BotUserID || fn == nil {
		return nil
	}
	inc, err := IncidentOf(tx, e.Item.Channel)
	if inc == nil || err != nil {
		return err
	}
	r := &Request{Tx: tx, Now: h.now(), User: incident.User{ID: e.User}, Channel: e.Item.Channel, h: h}
	return fn(r, inc, Reaction{Emoji: e.Reaction, Channel: e.Item.Channel, TS: e.Item.Timestamp, ItemUser: e.ItemUser, Added: added})
}

// message passes a message event to every module that follows messages.
func (h *Handlers) message(tx *store.Tx, e *slackevents.MessageEvent) error {
	m := Message{SubType: e.SubType, Channel: e.Channel, User: e.User, BotID: e.BotID, TS: e.TimeStamp,
		ThreadTS: e.ThreadTimeStamp, Text: e.Text}
	switch e.SubType {
	case "message_changed":
		if e.Message == nil {
			return nil
		}
		m.TS, m.Text = e.Message.Timestamp, e.Message.Text
	case "message_deleted":
		m.TS = e.DeletedTimeStamp
	case "", "thread_broadcast", "file_share":
		if e.BotID != "" || e.User == "" || e.User == h.cfg.BotUserID {
			return nil // the bot's own posts, and other bots', are never captured
		}
	default:
		return nil
	}
	r := &Request{Tx: tx, Now: h.now(), User: incident.User{ID: e.User}, Channel: e.Channel, h: h}
	for _, fn := range h.reg.messages {
		if err := fn(r, m); err != nil {
			return err
		}
	}
	return nil
}

// appMention runs "@incidentbot <command>", for places slash commands do
// not work (threads). The answer goes to the user only, in the same thread.
func (h *Handlers) appMention(tx *store.Tx, e *slackevents.AppMentionEvent) error {
	if e.BotID != "" || e.User == h.cfg.BotUserID || e.User == "" {
		return nil
	}
	text := strings.TrimSpace(e.Text)
	if h.cfg.BotUserID != "" {
		text = strings.Replace(text, "<@"+h.cfg.BotUserID+">", "", 1)
	}
	now := h.now()
	r := &Request{Tx: tx, Now: now, User: incident.User{ID: e.User}, Channel: e.Channel, ThreadTS: e.ThreadTimeStamp,
		At: TsTime(e.TimeStamp, now), h: h}
	reply, err := h.runCommand(r, text)
	if err != nil {
		return err
	}
	if reply == "" {
		return nil
	}
	return r.Enqueue(bot.EphemeralLane(e.User), jobEphemeral, ephemeralJob{Channel: e.Channel, User: e.User, Text: reply, ThreadTS: e.ThreadTimeStamp})
}

// SourceKey identifies a Slack message: channel and ts.
func SourceKey(channel, ts string) string { return channel + "/" + ts }

// TsTime turns a Slack ts ("1692269160.000100") into a time; a malformed
// one falls back to fallback.
func TsTime(ts string, fallback time.Time) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return fallback
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC()
}

// CutPrefixFold is strings.CutPrefix, ignoring case.
func CutPrefixFold(s, prefix string) (string, bool) {
	if prefix == "" || len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// interaction handles buttons and form submissions, each through the
// module that registered its callback id or action id prefix.
func (h *Handlers) interaction(tx *store.Tx, cb slack.InteractionCallback) (any, error) {
	r := &Request{Tx: tx, Now: h.now(), User: userOf(cb), Channel: cb.Channel.ID,
		TriggerID: cb.TriggerID, ResponseURL: cb.ResponseURL, h: h}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		if fn := h.reg.views[cb.View.CallbackID]; fn != nil {
			return fn(r, cb)
		}
	case slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			if fn := h.reg.action(a.ActionID); fn != nil {
				if err := fn(r, cb, a); err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, nil
}

func userOf(cb slack.InteractionCallback) incident.User {
	name := cb.User.Name
	if name == "" {
		name = cb.User.Username
	}
	return incident.User{ID: cb.User.ID, Name: name}
}
