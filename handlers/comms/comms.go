package comms

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Config is what customer communication needs to know.
type Config struct {
	// StatusChannel is where customer status updates are posted (a channel
	// id); empty: they are recorded and shown only in the incident channel.
	StatusChannel string
	// UpdateEvery is how long an open incident may go without a customer
	// update before the bot nudges; 0 disables reminders.
	UpdateEvery time.Duration
	// FollowUpEmoji is the reaction that records a message as a follow-up
	// action. Default "memo".
	FollowUpEmoji string
}

// Module is the customer-communication capability.
type Module struct {
	cfg Config
	h   *handlers.Handlers
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.FollowUpEmoji == "" {
		cfg.FollowUpEmoji = "memo"
	}
	return &Module{cfg: cfg}
}

// Name implements handlers.Module.
func (m *Module) Name() string { return "comms" }

// Register implements handlers.Module.
func (m *Module) Register(h *handlers.Handlers, reg *handlers.Registry) {
	m.h = h
	for _, c := range []handlers.Command{
		{Name: "update", Usage: "update <investigating|identified|monitoring|resolved> [message]", Help: "preview a customer status update from its template", Run: m.updateCommand},
		{Name: "followup", Usage: "followup [short-term:|mid-term:|future:] <text> [@owner]", Help: "record a follow-up action", Run: m.followUpCommand},
		{Name: "impact", Usage: "impact <service>, <service>…", Help: "record affected services", Run: m.impactCommand},
		{Name: "customers", Usage: "customers #channel…", Help: "also post updates to these channels", Run: m.customersCommand},
	} {
		reg.Command(c)
	}
	for _, j := range []handlers.Job{
		{Kind: jobUpdatePreview, Describe: "post the customer update preview", Run: handlers.Decoded(m.runUpdatePreview)},
		{Kind: jobRemind, Describe: "remind this channel of the customer update", Run: handlers.Decoded(m.runRemind)},
		{Kind: jobFetchFollowUp, Describe: "read a message for the follow-ups", Run: handlers.Decoded(m.runFetchFollowUp)},
		{Kind: jobRefreshPreview, Describe: "update the customer update preview", Run: handlers.Decoded(m.runRefreshPreview)},
	} {
		reg.Job(j)
	}
	reg.Action(updateActionPrefix, handlers.Responders, m.updateAction)
	reg.View(updateEditCallback, handlers.Responders, m.communicationView)
	reg.Reaction(m.cfg.FollowUpEmoji, handlers.Members, m.followUpReaction)
	reg.Hooks(handlers.Hooks{
		Declared: func(r *handlers.Request, inc *incident.Incident) error {
			return m.scheduleReminder(r, inc, r.Now.Add(m.cfg.UpdateEvery))
		},
		Reopened: func(r *handlers.Request, inc *incident.Incident) error {
			inc.Reminder++ // stale timers from before the resolution stay quiet
			if err := r.Tx.PutIncident(inc); err != nil {
				return err
			}
			return m.scheduleReminder(r, inc, r.Now.Add(m.cfg.UpdateEvery))
		},
	})
}

func (m *Module) command() string { return m.h.Config().Command }

// fetchJob reads a message a follow-up reaction named.
type fetchJob struct {
	Incident int64  `json:"incident"`
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
}

// followUpCommand records "/incident followup [short-term:] <text> [@owner]".
func (m *Module) followUpCommand(r *handlers.Request, args string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	horizon, text := incident.ParseHorizon(args)
	var owner incident.User
	if us := handlers.MentionedUsers(text); len(us) > 0 {
		owner = us[len(us)-1]
		text = strings.TrimSpace(trailingMention.ReplaceAllString(text, ""))
	}
	if text == "" {
		return "", incident.Invalid("The follow-up has no text.",
			fmt.Sprintf("Type e.g. %s followup short-term: alert on expiring domains @ana (short-term, mid-term or future)", m.command()))
	}
	inc.AddFollowUp(incident.FollowUp{Text: text, Owner: owner, Horizon: horizon, By: r.User, At: r.Now})
	if err := r.Tx.PutIncident(inc); err != nil {
		return "", err
	}
	where := string(horizon)
	if where == "" {
		where = "unsorted (start the text with short-term:, mid-term: or future: to group it)"
	}
	who := "no owner yet"
	if owner.ID != "" {
		who = "owner " + handlers.Mention(owner)
	}
	return fmt.Sprintf(":memo: Follow-up added to %s: %s — %s, %s.", inc.Ref(), handlers.Safe(handlers.Clip(text, 300)), where, who), nil
}

// trailingMention is an owner named at the end of a follow-up.
var trailingMention = regexp.MustCompile(`\s*<@[UW][A-Z0-9]+(\|[^>]*)?>\s*$`)

// impactCommand records affected services: "/incident impact api,
// dashboard". Commas, semicolons and new lines separate services; a phrase
// without them ("static assets") is one service.
func (m *Module) impactCommand(r *handlers.Request, args string) (string, error) {
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	services := strings.FieldsFunc(args, func(c rune) bool { return c == ',' || c == ';' || c == '\n' })
	added := inc.AddServices(services...)
	if len(added) == 0 {
		if len(inc.Services) == 0 {
			return "", incident.Invalid("Which services are affected?", fmt.Sprintf("Type e.g. %s impact Dashboard, User API, Admin API", m.command()))
		}
		return "Already recorded as affected: " + handlers.Safe(strings.Join(inc.Services, ", ")) + ".", nil
	}
	text := fmt.Sprintf("Affected services: %s (added by %s)", strings.Join(inc.Services, ", "), handlers.Mention(r.User))
	return "", r.Changed(inc, "impact", text, true)
}

// customersCommand sets extra channels that receive posted updates.
func (m *Module) customersCommand(r *handlers.Request, args string) (string, error) {
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	ids := channelIDs(args)
	if len(ids) == 0 {
		return "", incident.Invalid("Name the customer channels.", fmt.Sprintf("Type e.g. %s customers #acme-shared #globex-shared", m.command()))
	}
	inc.CustomerChannels = ids
	if err := r.Tx.PutIncident(inc); err != nil {
		return "", err
	}
	var names []string
	for _, id := range ids {
		names = append(names, "<#"+id+">")
	}
	return "Posted updates of " + inc.Ref() + " will also go to " + strings.Join(names, ", ") + ". (I must be a member of those channels.)", nil
}

var channelMention = regexp.MustCompile(`<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|\b([CG][A-Z0-9]{8,})\b`)

func channelIDs(text string) []string {
	var ids []string
	for _, m := range channelMention.FindAllStringSubmatch(text, -1) {
		ids = append(ids, m[1]+m[2])
	}
	return ids
}

// followUpReaction starts capturing a message as a follow-up action.
func (m *Module) followUpReaction(r *handlers.Request, inc *incident.Incident, ev handlers.Reaction) error {
	if !ev.Added {
		return nil // a follow-up, once captured, is kept for the review
	}
	channel, ts := ev.Channel, ev.TS
	for _, f := range inc.FollowUps {
		if f.Source == handlers.SourceKey(channel, ts) {
			return nil
		}
	}
	return r.Enqueue(bot.IncidentLane(inc.ID), jobFetchFollowUp, fetchJob{Incident: inc.ID, Channel: channel, TS: ts})
}

func (m *Module) runFetchFollowUp(ctx context.Context, p fetchJob) (func(*store.Tx) error, error) {
	msg, err := m.h.FindMessage(ctx, p.Channel, p.TS)
	if err != nil || msg == nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if errors.Is(err, incident.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		horizon, text := incident.ParseHorizon(msg.Text)
		var owner incident.User
		if us := handlers.MentionedUsers(text); len(us) > 0 {
			owner = us[len(us)-1]
		}
		if !inc.AddFollowUp(incident.FollowUp{Text: text, Owner: owner, Horizon: horizon, By: incident.User{ID: msg.User},
			At: m.h.Now(), Source: handlers.SourceKey(p.Channel, p.TS)}) {
			return nil
		}
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		r := m.h.NewRequest(tx)
		return r.React(p.Channel, p.TS, m.h.Config().ConfirmEmoji, false)
	}, nil
}
