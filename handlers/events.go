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
	case *slackevents.MemberJoinedChannelEvent:
		return h.membership(tx, e.Channel, e.User, true)
	case *slackevents.MemberLeftChannelEvent:
		return h.membership(tx, e.Channel, e.User, false)
	case *slackevents.UserChangeEvent:
		h.ForgetUser(e.User.ID) // a new display name: look it up again
	}
	return nil
}

// membership follows who is in an incident's channel: joins (invitations
// included), departures, and anyone who posts there, which Slack only lets
// members do. The check of buttons and reactions reads it (access.go).
func (h *Handlers) membership(tx *store.Tx, channel, user string, in bool) error {
	if user == "" || user == h.cfg.BotUserID {
		return nil
	}
	inc, err := IncidentOf(tx, channel)
	if inc == nil || err != nil {
		return err
	}
	changed := inc.Members.Leave(user)
	if in {
		changed = inc.Members.Join(user)
	}
	if !changed {
		return nil
	}
	return tx.PutIncident(inc)
}

// followMembers starts following an incident channel's members as soon as
// it exists (a hook of the core), with the declarer, whom the bot invites
// with it.
func (h *Handlers) followMembers(r *Request, inc *incident.Incident) error {
	if !inc.Members.Follow(r.Now) {
		return nil
	}
	inc.Members.Join(inc.DeclaredBy.ID)
	return r.Tx.PutIncident(inc)
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
// module that registered its emoji, if the reaction's access allows it.
func (h *Handlers) reaction(tx *store.Tx, e slackevents.ReactionRemovedEvent, added bool) error {
	rx, ok := h.reg.reactions[e.Reaction]
	if e.Item.Type != "message" || e.User == h.cfg.BotUserID || !ok {
		return nil
	}
	// Read-only (ReactionFunc): shared by the reactions of one commit.
	inc, err := tx.IncidentView(e.Item.Channel)
	if errors.Is(err, incident.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r := &Request{Tx: tx, Now: h.now(), User: incident.User{ID: e.User}, Channel: e.Item.Channel, h: h}
	err = r.allowed(inc, rx.access, act{from: e.Item.Channel})
	if err == nil {
		err = rx.fn(r, inc, Reaction{Emoji: e.Reaction, Channel: e.Item.Channel, TS: e.Item.Timestamp, ItemUser: e.ItemUser, Added: added})
	}
	if err == nil || !UserFacing(err) {
		return err
	}
	h.logRefusal(r, "reaction :"+e.Reaction+":", rx.access, err)
	if !added {
		return nil // taking off a reaction that changed nothing changes nothing
	}
	if inc.Members.Has(e.User) || !inc.Members.Known() {
		return r.Ephemeral(e.Item.Channel, e.User, h.UserMessage(err), "")
	}
	return r.Post(e.User, h.UserMessage(err), nil) // not in the channel: an ephemeral there would not reach them
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
		if err := h.membership(tx, e.Channel, e.User, true); err != nil {
			return err
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
// module that registered its callback id or action id prefix, once its
// access allows it.
func (h *Handlers) interaction(tx *store.Tx, cb slack.InteractionCallback) (any, error) {
	r := &Request{Tx: tx, Now: h.now(), User: userOf(cb), Channel: cb.Channel.ID,
		TriggerID: cb.TriggerID, ResponseURL: cb.ResponseURL, h: h}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		return h.submission(r, cb)
	case slack.InteractionTypeBlockActions:
		// Where the button was clicked: the message's conversation.
		from := cb.Container.ChannelID
		if from == "" && cb.Container.Type != "view" {
			from = cb.Channel.ID
		}
		for _, a := range cb.ActionCallback.BlockActions {
			btn := h.reg.action(a.ActionID)
			if btn == nil {
				continue
			}
			err := r.actionAllowed(btn.access, a.Value, from)
			if err == nil {
				err = btn.fn(r, cb, a)
			}
			if err != nil && !UserFacing(err) {
				return nil, err
			}
			if err != nil {
				h.logRefusal(r, "action "+a.ActionID, btn.access, err)
				if err := h.answerClick(r, from, err); err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, nil
}

// answerClick shows the person who clicked what was wrong: through the
// click's response_url, which reaches them wherever they clicked (also in a
// channel they are not in), else as an ephemeral there.
func (h *Handlers) answerClick(r *Request, from string, err error) error {
	if r.ResponseURL != "" {
		return r.Respond(r.User.ID, r.ResponseURL, h.UserMessage(err))
	}
	if from == "" {
		return nil
	}
	return r.Ephemeral(from, r.User.ID, h.UserMessage(err), "")
}

// submission passes a form to the module that registered it, once the form
// is checked to be the submitter's own and its access allows it.
func (h *Handlers) submission(r *Request, cb slack.InteractionCallback) (any, error) {
	v, ok := h.reg.views[cb.View.CallbackID]
	if !ok {
		return nil, nil
	}
	meta, owner, bound := cutFormOwner(cb.View.PrivateMetadata)
	cb.View.PrivateMetadata = meta
	err := r.formAllowed(v.access, meta, owner, bound)
	if err == nil {
		var ack any
		if ack, err = v.fn(r, cb); err == nil {
			return ack, nil
		}
	}
	if !UserFacing(err) {
		return nil, err
	}
	h.logRefusal(r, "view "+cb.View.CallbackID, v.access, err)
	return h.refusedForm(err), nil
}

// logRefusal notes a refused (or mistaken) button, form or reaction.
func (h *Handlers) logRefusal(r *Request, what string, access Access, err error) {
	h.log.Info().Str("user", r.User.ID).Str("what", what).Stringer("access", access).Str("channel", r.Channel).
		Err(err).Msg("refused")
}

func userOf(cb slack.InteractionCallback) incident.User {
	name := cb.User.Name
	if name == "" {
		name = cb.User.Username
	}
	return incident.User{ID: cb.User.ID, Name: name}
}
