package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Request is one user's request being handled, or a job's commit: the
// transaction it runs in, who acted, where, and how to answer.
type Request struct {
	Tx          *store.Tx
	Now         time.Time
	User        incident.User
	Channel     string
	TriggerID   string
	ResponseURL string
	// ThreadTS is the thread a mention came from, so answers go there.
	ThreadTS string
	// At is when the user acted (a mention's own ts); zero means now.
	At time.Time

	h *Handlers
}

var errNotIncidentChannel = fmt.Errorf("not an incident channel: %w", incident.ErrNotFound)

// IncidentIn returns the incident whose channel this is.
func (r *Request) IncidentIn() (*incident.Incident, error) {
	inc, err := r.Tx.IncidentByChannel(r.Channel)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, errNotIncidentChannel
	}
	return inc, err
}

// Changeable returns the channel's incident if the user may change it: the
// check of Responders buttons (access.go). Running a command in the channel
// already means being one of its members (Slack only lets members post
// there); INCIDENTBOT_RESPONDERS narrows it.
func (r *Request) Changeable() (*incident.Incident, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return nil, err
	}
	if err := r.allowed(inc, Responders, act{from: r.Channel, member: true}); err != nil {
		return nil, err
	}
	return inc, nil
}

// Enqueue adds a job in the request's transaction, due now.
func (r *Request) Enqueue(lane, kind string, payload any) error {
	return r.Tx.EnqueueJSON(lane, kind, payload, r.Now, time.Time{})
}

// EnqueueAt adds a timer job due at at. Give it a lane of its own (see
// bot's lane constructors): a waiting job holds up the jobs behind it.
func (r *Request) EnqueueAt(lane, kind string, payload any, at time.Time) error {
	return r.Tx.EnqueueJSON(lane, kind, payload, r.Now, at)
}

// EnqueueThrottled adds a job that posts to a channel; such jobs are spaced
// per lane, as Slack allows about one message per second per channel.
func (r *Request) EnqueueThrottled(lane, kind string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s job: %w", kind, err)
	}
	return r.Tx.Enqueue(store.Job{Lane: lane, Kind: kind, Payload: data, Created: r.Now, Throttled: true})
}

// Post enqueues a message to a channel (or a user's DM by user id).
func (r *Request) Post(channel, text string, blocks []slack.Block) error {
	return r.PostFor(0, channel, text, blocks)
}

// PostFor enqueues a message to a channel outside the incident's (a status
// or customer channel): if Slack refuses it, the incident's channel is told.
func (r *Request) PostFor(incident int64, channel, text string, blocks []slack.Block) error {
	p := postJob{Channel: channel, Text: text, Incident: incident}
	if blocks != nil {
		raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
		if err != nil {
			return err
		}
		p.Blocks = raw
	}
	return r.EnqueueThrottled(bot.ChannelLane(channel), jobPost, p)
}

// Ephemeral enqueues a message only user sees, in channel (in a thread if
// threadTS is set).
func (r *Request) Ephemeral(channel, user, text, threadTS string) error {
	return r.Enqueue(bot.EphemeralLane(user), jobEphemeral, ephemeralJob{Channel: channel, User: user, Text: text, ThreadTS: threadTS})
}

// React enqueues adding (or removing) the bot's reaction on a message.
func (r *Request) React(channel, ts, name string, remove bool) error {
	return r.Enqueue(bot.ReactLane(channel, ts), jobReact, itemJob{Channel: channel, TS: ts, Name: name, Remove: remove})
}

// Invite enqueues inviting users to a channel.
func (r *Request) Invite(channel string, users ...string) error {
	return r.Enqueue(bot.ChannelLane(channel), jobInvite, inviteJob{Channel: channel, Users: users})
}

// OpenView enqueues opening a modal for the request's trigger. The form is
// bound to the request's user: only they can submit it (access.go).
func (r *Request) OpenView(view slack.ModalViewRequest) error {
	view.PrivateMetadata = withFormOwner(view.PrivateMetadata, r.User.ID)
	raw, err := json.Marshal(view)
	if err != nil {
		return err
	}
	return r.Enqueue(bot.ViewLane(r.User.ID), jobOpenView, viewJob{TriggerID: r.TriggerID, View: raw})
}

// TimelineEvent appends a bot event to the incident's timeline.
func (r *Request) TimelineEvent(inc *incident.Incident, event, text string) error {
	return r.Tx.AppendEntry(inc.ID, &incident.Entry{
		At: r.Now, Kind: incident.KindEvent, Event: event, Author: r.User, Text: text, RecordedAt: r.Now,
	})
}

// Changed saves inc, records the event on the timeline, says it in the
// channel (if post) and refreshes the pinned summary and topic.
func (r *Request) Changed(inc *incident.Incident, event, text string, post bool) error {
	if err := r.Tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.TimelineEvent(inc, event, text); err != nil {
		return err
	}
	if post && inc.ChannelID != "" {
		if err := r.Post(inc.ChannelID, ":arrows_counterclockwise: "+Safe(text)+".", nil); err != nil {
			return err
		}
	}
	return r.RefreshChannel(inc)
}

// RefreshChannel tells the modules that show the incident (its pinned
// summary and topic) that it changed.
func (r *Request) RefreshChannel(inc *incident.Incident) error {
	return r.Notify(inc, func(k Hooks) HookFunc { return k.Changed })
}

// Resolve records and announces a resolution (by command, or by a posted
// "resolved" customer update), through the module that registered the
// resolver. inc is already marked resolved.
func (r *Request) Resolve(inc *incident.Incident) error {
	if r.h.reg.resolver == nil {
		return fmt.Errorf("resolve %s: no module resolves incidents", inc.Ref())
	}
	return r.h.reg.resolver(r, inc)
}

// Respond enqueues an answer to a response_url (a slash command's or a
// button's), on the user's own lane.
func (r *Request) Respond(user, url, text string) error {
	return r.Enqueue(bot.RespondLane(user), jobRespond, respondJob{URL: url, Text: text})
}

// UserFacing reports whether err is something to tell the user rather than
// an internal failure.
func UserFacing(err error) bool {
	for _, s := range []error{incident.ErrInvalidInput, incident.ErrNotFound, incident.ErrInvalidTransition,
		incident.ErrResolved, incident.ErrForbidden} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// UserMessage is the one place an error becomes what a user reads: what was
// wrong and what to type instead.
func (h *Handlers) UserMessage(err error) string {
	// Errors quote what the user typed: through the one escaping path, so
	// an error never pings (Safe is idempotent: a part escaped before
	// stays as it is).
	return Safe(h.userMessage(err))
}

func (h *Handlers) userMessage(err error) string {
	var in *incident.InputError
	var p *incident.Problem
	switch {
	case errors.As(err, &in):
		return ":warning: " + in.Error()
	case errors.As(err, &p) && errors.Is(err, incident.ErrResolved):
		return fmt.Sprintf(":warning: %s. To reopen it: `%s reopen`.", capitalise(p.Msg), h.cfg.Command)
	case errors.As(err, &p):
		return ":warning: " + capitalise(p.Msg) + "."
	case errors.Is(err, errNotIncidentChannel):
		return fmt.Sprintf(":warning: This is not an incident channel. Run this in the incident's channel (`%s list` shows the open ones).", h.cfg.Command)
	case errors.Is(err, incident.ErrResolved):
		return fmt.Sprintf(":warning: %s. To reopen it: `%s reopen`.", capitalise(err.Error()), h.cfg.Command)
	case errors.Is(err, incident.ErrInvalidTransition), errors.Is(err, incident.ErrForbidden), errors.Is(err, incident.ErrNotFound):
		return ":warning: " + capitalise(err.Error()) + "."
	}
	return ":x: Something went wrong inside incidentbot; the details are in its logs."
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ephemeral is an ack payload that answers only the user who typed.
func ephemeral(text string) map[string]any {
	return map[string]any{"response_type": "ephemeral", "text": text}
}
