package handlers

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

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

// incidentOf returns the incident whose channel this is, or nil.
func incidentOf(tx *store.Tx, channel string) (*incident.Incident, error) {
	inc, err := tx.IncidentByChannel(channel)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, nil
	}
	return inc, err
}

// reaction adds a message to the timeline when someone reacts with a
// timeline emoji, and takes it off when the last such reaction goes.
func (h *Handlers) reaction(tx *store.Tx, e slackevents.ReactionRemovedEvent, added bool) error {
	followUp := e.Reaction == h.cfg.FollowUpEmoji
	if e.Item.Type != "message" || e.User == h.cfg.BotUserID || !followUp && !slices.Contains(h.cfg.TimelineEmojis, e.Reaction) {
		return nil
	}
	inc, err := incidentOf(tx, e.Item.Channel)
	if inc == nil || err != nil {
		return err
	}
	now := h.now()
	r := &request{tx: tx, now: now, user: incident.User{ID: e.User}, channel: e.Item.Channel}
	if followUp {
		if !added {
			return nil // a follow-up, once captured, is kept for the review
		}
		return h.followUpReaction(r, inc, e.Item.Channel, e.Item.Timestamp)
	}
	source := sourceKey(e.Item.Channel, e.Item.Timestamp)
	pinner := e.User + ":" + e.Reaction
	entry, err := tx.EntryBySource(inc.ID, source)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return err
	}
	switch {
	case added && entry != nil:
		if !entry.Pin(pinner) {
			return nil
		}
		return tx.PutEntry(inc.ID, entry)
	case added:
		entry = &incident.Entry{
			At: tsTime(e.Item.Timestamp, now), Kind: incident.KindMessage, Author: incident.User{ID: e.ItemUser},
			Source: source, PinnedBy: []string{pinner}, Pending: true, RecordedAt: now,
		}
		if err := tx.AppendEntry(inc.ID, entry); err != nil {
			return err
		}
		// The event carries no text: fetch the message (off the ack path).
		return r.enqueue(lane(inc), jobFetchMessage, fetchJob{Incident: inc.ID, Channel: e.Item.Channel, TS: e.Item.Timestamp})
	case entry == nil:
		return nil
	case entry.Unpin(pinner) || entry.Kind != incident.KindMessage:
		// Still pinned by someone, or a TL: note, which is on the timeline
		// by its own prefix rather than by anyone's reaction.
		return tx.PutEntry(inc.ID, entry)
	}
	if err := tx.DeleteEntry(inc.ID, entry); err != nil {
		return err
	}
	return r.react(e.Item.Channel, e.Item.Timestamp, h.cfg.ConfirmEmoji, true)
}

// message follows edits and deletions of captured messages, and puts
// messages that start with the timeline prefix ("TL:") on the timeline.
func (h *Handlers) message(tx *store.Tx, e *slackevents.MessageEvent) error {
	switch e.SubType {
	case "message_changed":
		if e.Message == nil {
			return nil
		}
		return h.messageChanged(tx, e.Channel, e.Message.Timestamp, e.Message.Text)
	case "message_deleted":
		return h.messageDeleted(tx, e.Channel, e.DeletedTimeStamp)
	case "", "thread_broadcast", "file_share":
	default:
		return nil
	}
	if e.BotID != "" || e.User == "" || e.User == h.cfg.BotUserID {
		return nil
	}
	text, ok := cutPrefixFold(strings.TrimSpace(e.Text), h.cfg.TimelinePrefix)
	if !ok {
		return nil
	}
	inc, err := incidentOf(tx, e.Channel)
	if inc == nil || err != nil {
		return err
	}
	now := h.now()
	r := &request{tx: tx, now: now, user: incident.User{ID: e.User}, channel: e.Channel}
	if strings.TrimSpace(text) == "" {
		return r.enqueue("user:"+e.User, jobEphemeral, ephemeralJob{Channel: e.Channel, User: e.User, ThreadTS: e.ThreadTimeStamp,
			Text: fmt.Sprintf(":warning: `%s` needs the text to put on the timeline after it, e.g. `%s cache flushed`.", h.cfg.TimelinePrefix, h.cfg.TimelinePrefix)})
	}
	if err := tx.AppendEntry(inc.ID, &incident.Entry{
		At: tsTime(e.TimeStamp, now), Kind: incident.KindNote, Author: r.user, Text: strings.TrimSpace(text),
		Source: sourceKey(e.Channel, e.TimeStamp), RecordedAt: now,
	}); err != nil {
		return err
	}
	return r.react(e.Channel, e.TimeStamp, h.cfg.ConfirmEmoji, false)
}

func (h *Handlers) messageChanged(tx *store.Tx, channel, ts, text string) error {
	inc, err := incidentOf(tx, channel)
	if inc == nil || err != nil {
		return err
	}
	entry, err := tx.EntryBySource(inc.ID, sourceKey(channel, ts))
	if errors.Is(err, incident.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if entry.Kind == incident.KindNote {
		if t, ok := cutPrefixFold(strings.TrimSpace(text), h.cfg.TimelinePrefix); ok {
			text = strings.TrimSpace(t)
		}
	}
	if entry.Pending {
		entry.Text = text // the fetch will bring the same text
		return tx.PutEntry(inc.ID, entry)
	}
	if !entry.Edit(h.now(), text) {
		return nil
	}
	return tx.PutEntry(inc.ID, entry)
}

func (h *Handlers) messageDeleted(tx *store.Tx, channel, ts string) error {
	inc, err := incidentOf(tx, channel)
	if inc == nil || err != nil {
		return err
	}
	entry, err := tx.EntryBySource(inc.ID, sourceKey(channel, ts))
	if errors.Is(err, incident.ErrNotFound) || entry != nil && entry.Deleted {
		return nil
	}
	if err != nil {
		return err
	}
	entry.Deleted = true
	return tx.PutEntry(inc.ID, entry)
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
	r := &request{tx: tx, now: now, user: incident.User{ID: e.User}, channel: e.Channel, threadTS: e.ThreadTimeStamp,
		at: tsTime(e.TimeStamp, now)}
	reply, err := h.runCommand(r, text)
	if err != nil {
		return err
	}
	if reply == "" {
		return nil
	}
	return r.enqueue("user:"+e.User, jobEphemeral, ephemeralJob{Channel: e.Channel, User: e.User, Text: reply, ThreadTS: e.ThreadTimeStamp})
}

// react enqueues adding or removing the bot's reaction on a message.
func (r *request) react(channel, ts, name string, remove bool) error {
	return r.enqueue("react:"+channel, jobReact, itemJob{Channel: channel, TS: ts, Name: name, Remove: remove})
}

// sourceKey identifies a Slack message: channel and ts.
func sourceKey(channel, ts string) string { return channel + "/" + ts }

// tsTime turns a Slack ts ("1692269160.000100") into a time; a malformed
// one falls back to fallback.
func tsTime(ts string, fallback time.Time) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return fallback
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC()
}

// cutPrefixFold is strings.CutPrefix, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if prefix == "" || len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// interaction handles buttons and form submissions.
func (h *Handlers) interaction(tx *store.Tx, cb slack.InteractionCallback) (any, error) {
	r := &request{tx: tx, now: h.now(), user: userOf(cb), channel: cb.Channel.ID,
		triggerID: cb.TriggerID, responseURL: cb.ResponseURL}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		case declareCallback:
			return h.submitDeclare(r, cb.View)
		}
		return h.communicationView(r, cb)
	case slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			var err error
			switch {
			case strings.HasPrefix(a.ActionID, pagingActionPrefix):
				err = h.pagingAction(r, cb, a)
			case strings.HasPrefix(a.ActionID, updateActionPrefix):
				err = h.updateAction(r, cb, a)
			}
			if err != nil {
				return nil, err
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
