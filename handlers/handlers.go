// Package handlers says what each slash command, reaction, message and
// button does, in the domain's terms. Handle runs inside the transaction
// that records an envelope (so it only reads and writes state and enqueues
// jobs); Run performs those jobs' Slack calls afterwards.
package handlers

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Config is what the handlers need to know about the workspace and the
// operator's choices.
type Config struct {
	// AnnounceChannel is where declarations and resolutions are announced
	// (a channel id); empty means nowhere.
	AnnounceChannel string
	// TimelineEmojis are the reaction names that add a message to the timeline.
	TimelineEmojis []string
	// ConfirmEmoji is the reaction the bot adds to a captured message.
	ConfirmEmoji string
	// BotUserID is the bot's own user id (from auth.test), so it ignores itself.
	BotUserID string
	// TeamID is the workspace the bot serves; payloads of other teams are
	// refused. Empty: not checked.
	TeamID string
	// Command is the slash command's name, for help texts. Default "/incident".
	Command string
	// FollowUpEmoji is the reaction that records a message as a follow-up
	// action. Default "memo".
	FollowUpEmoji string
	// StatusChannel is where customer status updates are posted (a channel
	// id); empty: they are recorded and shown only in the incident channel.
	StatusChannel string
	// UpdateEvery is how long an open incident may go without a customer
	// update before the bot nudges; 0 disables reminders.
	UpdateEvery time.Duration
	// TimelinePrefix starts a channel message that goes straight onto the
	// timeline ("TL:"); empty disables it.
	TimelinePrefix string
	// Policies are the escalation policies (INCIDENTBOT_ESCALATION_FILE);
	// nil or empty: only direct pages.
	Policies *incident.Policies
	// Providers sends pages to PagerDuty, Opsgenie and webhooks; nil: the
	// providers' public endpoints.
	Providers *Providers
	// ProviderGiveUp is how long a provider may keep failing (429, 5xx,
	// unreachable) before the page is reported as failed. 0: 5 minutes.
	ProviderGiveUp time.Duration
}

// Handlers implements bot.Handler and bot.Runner.
type Handlers struct {
	cfg       Config
	store     *store.DB
	api       SlackAPI
	respond   Responder
	templates *incident.Templates
	providers *Providers
	now       func() time.Time
	log       zerolog.Logger
	// responders, when set, are the only users who may change an incident
	// (resolve, status, severity, roles); nil: any member of its channel.
	// It is refreshed from Slack user groups while the bot runs.
	responders atomic.Pointer[[]string]
}

// New returns the handlers. now is the clock every recorded time comes from.
func New(cfg Config, db *store.DB, api SlackAPI, respond Responder, templates *incident.Templates, now func() time.Time, log zerolog.Logger) *Handlers {
	if cfg.Command == "" {
		cfg.Command = "/incident"
	}
	if len(cfg.TimelineEmojis) == 0 {
		cfg.TimelineEmojis = []string{"pushpin"}
	}
	if cfg.FollowUpEmoji == "" {
		cfg.FollowUpEmoji = "memo"
	}
	if cfg.ConfirmEmoji == "" {
		cfg.ConfirmEmoji = "white_check_mark"
	}
	if respond == nil {
		respond = slack.PostWebhookContext
	}
	if cfg.ProviderGiveUp == 0 {
		cfg.ProviderGiveUp = 5 * time.Minute
	}
	if cfg.Providers == nil {
		cfg.Providers = &Providers{}
	}
	if templates == nil {
		templates = incident.MustLoadDefaults()
	}
	return &Handlers{cfg: cfg, store: db, api: api, respond: respond, templates: templates, now: now, log: log, providers: cfg.Providers}
}

// SetResponders restricts who may change incidents to the given user ids
// (user groups already expanded). nil lifts the restriction.
func (h *Handlers) SetResponders(ids []string) {
	if ids == nil {
		h.responders.Store(nil)
		return
	}
	h.responders.Store(&ids)
}

// SetBotUserID tells the handlers the bot's own user id, learnt from
// auth.test once Slack answers. Call it before the bot starts handling.
func (h *Handlers) SetBotUserID(id string) { h.cfg.BotUserID = id }

// SetTeamID tells the handlers the workspace the bot token belongs to (from
// auth.test); payloads from any other team are refused.
func (h *Handlers) SetTeamID(id string) { h.cfg.TeamID = id }

// teamOf returns the team a payload comes from, "" if it does not say.
func teamOf(env *bot.Envelope) string {
	switch d := env.Data.(type) {
	case slack.SlashCommand:
		return d.TeamID
	case slackevents.EventsAPIEvent:
		return d.TeamID
	case slack.InteractionCallback:
		return d.Team.ID
	}
	return ""
}

// Handle applies one envelope inside tx and returns the ack payload.
func (h *Handlers) Handle(tx *store.Tx, env *bot.Envelope) (any, error) {
	if team := teamOf(env); h.cfg.TeamID != "" && team != "" && team != h.cfg.TeamID {
		// Acked (so Slack stops redelivering) but never applied.
		h.log.Warn().Str("team_id", team).Str("want_team_id", h.cfg.TeamID).Str("type", env.Type).
			Msg("refused a payload from another workspace")
		return nil, nil
	}
	switch d := env.Data.(type) {
	case slack.SlashCommand:
		return h.slash(tx, d)
	case slackevents.EventsAPIEvent:
		return nil, h.event(tx, d)
	case slack.InteractionCallback:
		return h.interaction(tx, d)
	}
	return nil, nil
}

// request is one user's request being handled: who, where, and how to answer.
type request struct {
	tx          *store.Tx
	now         time.Time
	user        incident.User
	channel     string
	triggerID   string
	responseURL string
	// threadTS is the thread a mention came from, so answers go there.
	threadTS string
	// at is when the user acted (a mention's own ts); zero means now.
	at time.Time
}

// userFacing reports whether err is something to tell the user rather than
// an internal failure.
func userFacing(err error) bool {
	for _, s := range []error{incident.ErrInvalidInput, incident.ErrNotFound, incident.ErrInvalidTransition,
		incident.ErrResolved, incident.ErrForbidden} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// userMessage is the one place an error becomes what a user reads: what was
// wrong and what to type instead.
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

var errNotIncidentChannel = fmt.Errorf("not an incident channel: %w", incident.ErrNotFound)

// incidentIn returns the incident whose channel this is.
func (r *request) incidentIn() (*incident.Incident, error) {
	inc, err := r.tx.IncidentByChannel(r.channel)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, errNotIncidentChannel
	}
	return inc, err
}

// ephemeral is an ack payload that answers only the user who typed.
func ephemeral(text string) map[string]any {
	return map[string]any{"response_type": "ephemeral", "text": text}
}

// timelineEvent appends a bot event to the incident's timeline.
func (r *request) timelineEvent(inc *incident.Incident, event, text string) error {
	return r.tx.AppendEntry(inc.ID, &incident.Entry{
		At: r.now, Kind: incident.KindEvent, Event: event, Author: r.user, Text: text, RecordedAt: r.now,
	})
}

// db reads state for a job, outside any envelope's transaction.
func (h *Handlers) db(fn func(*store.Tx) error) error { return h.store.View(fn) }
