// Package handlers is the core every capability of incidentbot builds on:
// the envelope and job Request, the one Registry that commands, job kinds,
// buttons, forms, reactions and lifecycle hooks are declared in, and the
// incident itself — declare, its channel, status, severity, roles, key
// times, resolve and the postmortem upload.
//
// Capabilities are Modules in packages of their own (handlers/timeline,
// handlers/comms, handlers/paging); New refuses a command, job kind, action
// prefix or form claimed twice. Handle runs inside the transaction that
// records an envelope, so a handler only reads and writes state and
// enqueues jobs; Run performs those jobs' Slack calls afterwards.
package handlers

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Config is what the core needs to know about the workspace and the
// operator's choices. Modules have configurations of their own.
type Config struct {
	// AnnounceChannel is where declarations and resolutions are announced
	// (a channel id); empty means nowhere.
	AnnounceChannel string
	// TimelineEmojis are the reaction names that add a message to the
	// timeline; the first is the one help and the summary mention.
	TimelineEmojis []string
	// ConfirmEmoji is the reaction the bot adds to a captured message.
	ConfirmEmoji string
	// TimelinePrefix starts a channel message that goes straight onto the
	// timeline ("TL:"); empty disables it.
	TimelinePrefix string
	// BotUserID is the bot's own user id (from auth.test), so it ignores itself.
	BotUserID string
	// TeamID is the workspace the bot serves; payloads of other teams are
	// refused. Empty: not checked.
	TeamID string
	// Command is the slash command's name, for help texts. Default "/incident".
	Command string
}

// Deps are the services the handlers use.
type Deps struct {
	DB  *store.DB
	API SlackAPI
	// Respond posts to a response_url; nil: slack.PostWebhookContext.
	Respond Responder
	// Templates render updates and the postmortem; nil: the defaults.
	Templates *incident.Templates
	// Now is the clock every recorded time comes from.
	Now func() time.Time
	Log zerolog.Logger
}

// Handlers implements bot.Handler and bot.Runner.
type Handlers struct {
	cfg       Config
	store     *store.DB
	api       SlackAPI
	respond   Responder
	templates *incident.Templates
	now       func() time.Time
	log       zerolog.Logger
	reg       *Registry
	// responders, when set, are the only users who may change an incident
	// (resolve, status, severity, roles); nil: any member of its channel.
	// It is refreshed from Slack user groups while the bot runs.
	responders atomic.Pointer[[]string]
	// teamURL is the workspace's URL, for permalinks.
	teamURL atomic.Pointer[string]
	users   users
	// attempts knows which jobs may already have acted in Slack (marker.go).
	attempts *attempts
}

// New returns the handlers with the core's commands and jobs and those of
// each module. It fails if two of them claim the same name.
func New(cfg Config, deps Deps, modules ...Module) (*Handlers, error) {
	if cfg.Command == "" {
		cfg.Command = "/incident"
	}
	if len(cfg.TimelineEmojis) == 0 {
		cfg.TimelineEmojis = []string{"pushpin"}
	}
	if cfg.ConfirmEmoji == "" {
		cfg.ConfirmEmoji = "white_check_mark"
	}
	if deps.Respond == nil {
		deps.Respond = slack.PostWebhookContext
	}
	if deps.Templates == nil {
		deps.Templates = incident.MustLoadDefaults()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	h := &Handlers{cfg: cfg, store: deps.DB, api: deps.API, respond: deps.Respond, templates: deps.Templates,
		now: deps.Now, log: deps.Log, reg: newRegistry(), attempts: newAttempts(deps.DB)}
	h.reg.owner = "core"
	h.registerCore(h.reg)
	h.reg.Hooks(Hooks{ChannelCreated: h.followMembers})
	for _, m := range modules {
		h.reg.owner = m.Name()
		m.Register(h, h.reg)
	}
	h.reg.owner = ""
	if err := h.reg.err(); err != nil {
		return nil, fmt.Errorf("handlers: %w", err)
	}
	return h, nil
}

// Registry returns what the core and the modules registered.
func (h *Handlers) Registry() *Registry { return h.reg }

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

// Config returns the core configuration (defaults filled in).
func (h *Handlers) Config() Config { return h.cfg }

// API is the Slack Web API, for modules' jobs.
func (h *Handlers) API() SlackAPI { return h.api }

// Now is the handlers' clock.
func (h *Handlers) Now() time.Time { return h.now() }

// Log is the handlers' logger.
func (h *Handlers) Log() *zerolog.Logger { return &h.log }

// Templates are the update and postmortem templates.
func (h *Handlers) Templates() *incident.Templates { return h.templates }

// Respond posts to a response_url.
func (h *Handlers) Respond() Responder { return h.respond }

// View reads state for a job, outside any envelope's transaction.
func (h *Handlers) View(fn func(*store.Tx) error) error { return h.store.View(fn) }

// Load reads one incident, for a job.
func (h *Handlers) Load(id int64) (*incident.Incident, error) {
	var inc *incident.Incident
	err := h.View(func(tx *store.Tx) error {
		var err error
		inc, err = tx.Incident(id)
		return err
	})
	return inc, err
}

// Update runs fn in one write transaction with a Request of its own, as
// an envelope's handler runs: what fn writes and enqueues commits together
// or not at all. For work that does not come from Slack (an alert posted
// to the alert receiver); r.User is empty.
func (h *Handlers) Update(fn func(r *Request) error) error {
	return h.store.Update(func(tx *store.Tx) error { return fn(h.NewRequest(tx)) })
}

// NewRequest is a request with no user, for a job's commit: what it enqueues
// and records happens at the handlers' now.
func (h *Handlers) NewRequest(tx *store.Tx) *Request { return &Request{Tx: tx, Now: h.now(), h: h} }

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

// Ignores reports whether env is one of the bot's own reactions or new
// messages, echoed back by Slack: nothing handles those. It implements
// bot.Handler.
func (h *Handlers) Ignores(env *bot.Envelope) bool {
	ev, ok := env.Data.(slackevents.EventsAPIEvent)
	if !ok || h.cfg.BotUserID == "" {
		return false
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.ReactionAddedEvent:
		return e.User == h.cfg.BotUserID
	case *slackevents.ReactionRemovedEvent:
		return e.User == h.cfg.BotUserID
	case *slackevents.MessageEvent:
		own := e.User == h.cfg.BotUserID || e.BotID != "" && e.User == ""
		return own && (e.SubType == "" || e.SubType == "bot_message" || e.SubType == "thread_broadcast")
	}
	return false
}

// Handle applies one envelope inside tx and returns the ack payload.
func (h *Handlers) Handle(tx *store.Tx, env *bot.Envelope) (any, error) {
	if team := teamOf(env); h.cfg.TeamID != "" && team != "" && team != h.cfg.TeamID {
		// Acked (so Slack stops redelivering) but never applied.
		h.log.Warn().Str("team_id", team).Str("want_team_id", h.cfg.TeamID).Str("type", env.Type).
			Msg("refused a payload from another workspace")
		return nil, nil
	}
	if what := malformed(env.Data); what != "" {
		// Acked but never applied: a malformed id would be stored, used as a
		// key, or sent back to Slack, which refuses it on every retry.
		h.log.Warn().Str("type", env.Type).Str("malformed", what).Msg("refused a payload with malformed Slack ids or timestamps")
		if _, ok := env.Data.(slack.SlashCommand); ok {
			return ephemeral(":warning: Nothing changed: Slack sent this command with a malformed " + Safe(what) + ". Please try again."), nil
		}
		return nil, nil
	}
	switch d := env.Data.(type) {
	case slack.SlashCommand:
		// Slack only lets members type in a channel: the typist is in it.
		if err := h.membership(tx, d.ChannelID, d.UserID, true); err != nil {
			return nil, err
		}
		return h.slash(tx, d)
	case slackevents.EventsAPIEvent:
		return nil, h.event(tx, d)
	case slack.InteractionCallback:
		return h.interaction(tx, d)
	}
	return nil, nil
}
