// Package timeline is the incident's timeline: messages pinned with a
// reaction (:pushpin:), lines that start with the timeline prefix ("TL:"),
// notes typed with /incident note (also backdated), their edits and
// deletions, and /incident timeline to read it back.
package timeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Job kinds of the timeline. Persisted in the outbox: never rename one.
const (
	jobFetchMessage = "fetch_message"
	// jobConfirmPin adds the ✅ to a pin recorded from its message event and
	// fills in its author's name, in one job.
	jobConfirmPin = "confirm_pin"
	// jobLearnName looks up the name of someone who writes in an incident
	// channel for the first time, so a pin of their messages is recorded
	// whole at once.
	jobLearnName = "learn_name"
)

// Module is the timeline capability.
type Module struct {
	h    *handlers.Handlers
	seen seen
	// history shares the reads of pinned messages the bot did not see.
	history history
	// learning dedupes name lookups of new writers (asked).
	learning sync.Mutex
	asked    map[string]bool
}

// New returns the timeline module; the emojis and prefix it captures with
// come from the core configuration (they also appear in the summary).
func New() *Module { return &Module{} }

// Name implements handlers.Module.
func (m *Module) Name() string { return "timeline" }

// Register implements handlers.Module.
func (m *Module) Register(h *handlers.Handlers, reg *handlers.Registry) {
	m.h = h
	reg.Command(handlers.Command{Name: "note", Usage: "note [--at 10:28] <text>", Help: "add to the timeline (times in UTC)", Run: m.noteCommand})
	reg.Command(handlers.Command{Name: "timeline", Usage: "timeline [page]", Help: "show the timeline", Run: m.timelineCommand})
	reg.Job(handlers.Job{Kind: jobLearnName, Describe: "look up a name for the timeline", Run: handlers.Decoded(m.runLearnName), Redoable: true})
	reg.Job(handlers.Job{Kind: jobConfirmPin, Describe: "confirm a pinned message", Run: handlers.Decoded(m.runConfirmPin)})
	reg.Job(handlers.Job{Kind: jobFetchMessage, Describe: "read a message for the timeline", Run: handlers.Decoded(m.runFetchMessage), GiveUp: m.fetchGaveUp})
	for _, emoji := range h.Config().TimelineEmojis {
		reg.Reaction(emoji, handlers.Members, m.reaction)
	}
	reg.Message(m.message)
}

func (m *Module) command() string { return m.h.Config().Command }

// reaction adds a message to the timeline when someone reacts with a
// timeline emoji, and takes it off when the last such reaction goes.
func (m *Module) reaction(r *handlers.Request, inc *incident.Incident, ev handlers.Reaction) error {
	tx := r.Tx
	source := handlers.SourceKey(ev.Channel, ev.TS)
	pinner := r.User.ID + ":" + ev.Emoji
	entry, err := tx.EntryBySource(inc.ID, source)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return err
	}
	switch {
	case ev.Added && entry != nil:
		if !entry.Pin(pinner) {
			return nil
		}
		return tx.PutEntry(inc.ID, entry)
	case ev.Added:
		entry = &incident.Entry{
			At: handlers.TsTime(ev.TS, r.Now), Kind: incident.KindMessage, Author: incident.User{ID: ev.ItemUser},
			Source: source, PinnedBy: []string{pinner}, Pending: true, RecordedAt: r.Now,
		}
		if m.complete(entry, ev.Channel, ev.TS) {
			// Seen arriving: nothing to read, one call (the ✅).
			if err := tx.AppendEntry(inc.ID, entry); err != nil {
				return err
			}
			if entry.Author.Name == "" {
				// The ✅ also brings the author's name (looked up once per person).
				return r.Enqueue(bot.ReactLane(ev.Channel, ev.TS), jobConfirmPin, fetchJob{Incident: inc.ID, Channel: ev.Channel, TS: ev.TS})
			}
			return r.React(ev.Channel, ev.TS, m.h.Config().ConfirmEmoji, false)
		}
		if err := tx.AppendEntry(inc.ID, entry); err != nil {
			return err
		}
		// The event carries no text: fetch the message (off the ack path),
		// with the other pins of the channel waiting for one.
		if _, ok := m.seen.get(source); !ok {
			m.history.want(ev.Channel, ev.TS)
		}
		return r.Enqueue(bot.MessageLane(ev.Channel, ev.TS), jobFetchMessage, fetchJob{Incident: inc.ID, Channel: ev.Channel, TS: ev.TS})
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
	return r.React(ev.Channel, ev.TS, m.h.Config().ConfirmEmoji, true)
}

// complete fills in a new pin's entry from what the bot already knows —
// the message from its event, a local permalink, the author's name if it
// is cached — and reports whether that was all it needed to read (else a
// fetch job reads the message). A name still unknown comes with the ✅
// (confirm_pin).
func (m *Module) complete(e *incident.Entry, channel, ts string) bool {
	s, ok := m.seen.get(handlers.SourceKey(channel, ts))
	if !ok || s.User == "" {
		return false
	}
	link, ok := m.h.LocalPermalink(channel, ts, s.ThreadTS)
	if !ok {
		return false
	}
	name, _ := m.h.CachedUserName(s.User)
	e.Text, e.Author, e.Link, e.Pending = s.Text, incident.User{ID: s.User, Name: name}, link, false
	return true
}

// learnJob names a user whose display name to look up.
type learnJob struct {
	User string `json:"user"`
}

// learn looks up, once, the name of someone writing in an incident channel
// whose name is not known yet (off the ack path, by a job).
func (m *Module) learn(r *handlers.Request, user string) error {
	if user == "" {
		return nil
	}
	if _, ok := m.h.CachedUserName(user); ok {
		return nil
	}
	m.learning.Lock()
	defer m.learning.Unlock()
	if m.asked == nil {
		m.asked = map[string]bool{}
	}
	if m.asked[user] {
		return nil
	}
	m.asked[user] = true // forgotten when the lookup ran (or never, if this transaction fails: then pins fetch the name)
	return r.Enqueue(bot.NameLane(user), jobLearnName, learnJob{User: user})
}

func (m *Module) runLearnName(ctx context.Context, p learnJob) (func(*store.Tx) error, error) {
	_, _, err := m.h.UserName(ctx, p.User)
	m.learning.Lock()
	delete(m.asked, p.User)
	m.learning.Unlock()
	return nil, err
}

// runConfirmPin adds the ✅ to a pin and fills in its author's name.
func (m *Module) runConfirmPin(ctx context.Context, p fetchJob) (func(*store.Tx) error, error) {
	var author string
	if err := m.h.View(func(tx *store.Tx) error {
		e, err := tx.EntryBySource(p.Incident, handlers.SourceKey(p.Channel, p.TS))
		if err == nil && e.Author.Name == "" {
			author = e.Author.ID
		}
		return nil
	}); err != nil {
		return nil, err
	}
	name := ""
	if author != "" {
		n, found, err := m.h.UserName(ctx, author)
		if err != nil {
			return nil, err
		}
		if found {
			name = n
		}
	}
	if err := m.h.AddReaction(ctx, p.Channel, p.TS, m.h.Config().ConfirmEmoji); err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		e, err := tx.EntryBySource(p.Incident, handlers.SourceKey(p.Channel, p.TS))
		if err != nil || name == "" || e.Author.Name != "" {
			return nil // unpinned meanwhile, or named already
		}
		e.Author.Name = name
		return tx.PutEntry(p.Incident, e)
	}, nil
}

// message follows edits and deletions of captured messages, and puts
// messages that start with the timeline prefix ("TL:") on the timeline.
func (m *Module) message(r *handlers.Request, msg handlers.Message) error {
	if inc, err := handlers.IncidentOf(r.Tx, msg.Channel); err != nil {
		return err
	} else if inc != nil {
		m.remember(msg) // a later pin of it then needs no history call
		if err := m.learn(r, msg.User); err != nil {
			return err
		}
	}
	switch msg.SubType {
	case "message_changed":
		return m.messageChanged(r, msg.Channel, msg.TS, msg.Text)
	case "message_deleted":
		return m.messageDeleted(r, msg.Channel, msg.TS)
	}
	prefix := m.h.Config().TimelinePrefix
	text, ok := handlers.CutPrefixFold(strings.TrimSpace(msg.Text), prefix)
	if !ok {
		return nil
	}
	inc, err := handlers.IncidentOf(r.Tx, msg.Channel)
	if inc == nil || err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return r.Ephemeral(msg.Channel, msg.User,
			fmt.Sprintf(":warning: `%s` needs the text to put on the timeline after it, e.g. `%s cache flushed`.", prefix, prefix), msg.ThreadTS)
	}
	if err := r.Tx.AppendEntry(inc.ID, &incident.Entry{
		At: handlers.TsTime(msg.TS, r.Now), Kind: incident.KindNote, Author: r.User, Text: strings.TrimSpace(text),
		Source: handlers.SourceKey(msg.Channel, msg.TS), RecordedAt: r.Now,
	}); err != nil {
		return err
	}
	return r.React(msg.Channel, msg.TS, m.h.Config().ConfirmEmoji, false)
}

func (m *Module) messageChanged(r *handlers.Request, channel, ts, text string) error {
	inc, err := handlers.IncidentOf(r.Tx, channel)
	if inc == nil || err != nil {
		return err
	}
	entry, err := r.Tx.EntryBySource(inc.ID, handlers.SourceKey(channel, ts))
	if errors.Is(err, incident.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if entry.Kind == incident.KindNote {
		if t, ok := handlers.CutPrefixFold(strings.TrimSpace(text), m.h.Config().TimelinePrefix); ok {
			text = strings.TrimSpace(t)
		}
	}
	if entry.Pending {
		entry.Text = text // the fetch will bring the same text
		return r.Tx.PutEntry(inc.ID, entry)
	}
	if !entry.Edit(r.Now, text) {
		return nil
	}
	return r.Tx.PutEntry(inc.ID, entry)
}

func (m *Module) messageDeleted(r *handlers.Request, channel, ts string) error {
	inc, err := handlers.IncidentOf(r.Tx, channel)
	if inc == nil || err != nil {
		return err
	}
	entry, err := r.Tx.EntryBySource(inc.ID, handlers.SourceKey(channel, ts))
	if errors.Is(err, incident.ErrNotFound) || entry != nil && entry.Deleted {
		return nil
	}
	if err != nil {
		return err
	}
	entry.Deleted = true
	return r.Tx.PutEntry(inc.ID, entry)
}
