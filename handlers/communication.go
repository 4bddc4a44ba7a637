package handlers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// communicationCommands are the customer-communication and postmortem
// commands.
func (h *Handlers) communicationCommands() map[string]commandFunc {
	return map[string]commandFunc{
		"update":     h.updateCommand,
		"postmortem": h.postmortemCommand,
		"followup":   h.followUpCommand,
		"impact":     h.impactCommand,
		"customers":  h.customersCommand,
	}
}

// communicationRunners are their job runners.
func (h *Handlers) communicationRunners() map[string]runFunc {
	return map[string]runFunc{
		jobUpdatePreview:  decoded(h.runUpdatePreview),
		jobRemind:         decoded(h.runRemind),
		jobFetchFollowUp:  decoded(h.runFetchFollowUp),
		jobRefreshPreview: decoded(h.runRefreshPreview),
	}
}

// postmortemCommand regenerates the draft and uploads it to the channel.
func (h *Handlers) postmortemCommand(r *request, _ string) (string, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return "", err
	}
	if err := r.enqueueThrottled(inc.ChannelID, jobUploadPostmortem, incidentJob{Incident: inc.ID}); err != nil {
		return "", err
	}
	return fmt.Sprintf(":memo: Generating the %s postmortem draft; it will appear in this channel as %s.",
		inc.Ref(), PostmortemFilename(inc.ID)), nil
}

// followUpCommand records "/incident followup [short-term:] <text> [@owner]".
func (h *Handlers) followUpCommand(r *request, args string) (string, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return "", err
	}
	horizon, text := incident.ParseHorizon(args)
	var owner incident.User
	if us := mentionedUsers(text); len(us) > 0 {
		owner = us[len(us)-1]
		text = strings.TrimSpace(trailingMention.ReplaceAllString(text, ""))
	}
	if text == "" {
		return "", incident.Invalid("The follow-up has no text.",
			fmt.Sprintf("Type e.g. %s followup short-term: alert on expiring domains @ana (short-term, mid-term or future)", h.cfg.Command))
	}
	inc.AddFollowUp(incident.FollowUp{Text: text, Owner: owner, Horizon: horizon, By: r.user, At: r.now})
	if err := r.tx.PutIncident(inc); err != nil {
		return "", err
	}
	where := string(horizon)
	if where == "" {
		where = "unsorted (start the text with short-term:, mid-term: or future: to group it)"
	}
	who := "no owner yet"
	if owner.ID != "" {
		who = "owner " + mention(owner)
	}
	return fmt.Sprintf(":memo: Follow-up added to %s: %s — %s, %s.", inc.Ref(), safe(clip(text, 300)), where, who), nil
}

// trailingMention is an owner named at the end of a follow-up.
var trailingMention = regexp.MustCompile(`\s*<@[UW][A-Z0-9]+(\|[^>]*)?>\s*$`)

// impactCommand records affected services: "/incident impact api, dashboard".
func (h *Handlers) impactCommand(r *request, args string) (string, error) {
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	services := strings.FieldsFunc(args, func(c rune) bool { return c == ',' || c == ';' || c == '\n' })
	if len(strings.Fields(args)) > 0 && len(services) == 1 && !strings.Contains(args, ",") {
		services = strings.Fields(args) // "api dashboard" without commas
	}
	added := inc.AddServices(services...)
	if len(added) == 0 {
		if len(inc.Services) == 0 {
			return "", incident.Invalid("Which services are affected?", fmt.Sprintf("Type e.g. %s impact Dashboard, User API, Admin API", h.cfg.Command))
		}
		return "Already recorded as affected: " + safe(strings.Join(inc.Services, ", ")) + ".", nil
	}
	text := fmt.Sprintf("Affected services: %s (added by %s)", strings.Join(inc.Services, ", "), mention(r.user))
	return "", r.changed(inc, "impact", text, true)
}

// customersCommand sets extra channels that receive posted updates.
func (h *Handlers) customersCommand(r *request, args string) (string, error) {
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	ids := channelIDs(args)
	if len(ids) == 0 {
		return "", incident.Invalid("Name the customer channels.", fmt.Sprintf("Type e.g. %s customers #acme-shared #globex-shared", h.cfg.Command))
	}
	inc.CustomerChannels = ids
	if err := r.tx.PutIncident(inc); err != nil {
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
func (h *Handlers) followUpReaction(r *request, inc *incident.Incident, channel, ts string) error {
	for _, f := range inc.FollowUps {
		if f.Source == sourceKey(channel, ts) {
			return nil
		}
	}
	return r.enqueue(lane(inc), jobFetchFollowUp, fetchJob{Incident: inc.ID, Channel: channel, TS: ts})
}

func (h *Handlers) runFetchFollowUp(ctx context.Context, p fetchJob) (func(*store.Tx) error, error) {
	msg, err := h.findMessage(ctx, p.Channel, p.TS)
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
		if us := mentionedUsers(text); len(us) > 0 {
			owner = us[len(us)-1]
		}
		if !inc.AddFollowUp(incident.FollowUp{Text: text, Owner: owner, Horizon: horizon, By: incident.User{ID: msg.User},
			At: h.now(), Source: sourceKey(p.Channel, p.TS)}) {
			return nil
		}
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		r := &request{tx: tx, now: h.now()}
		return r.react(p.Channel, p.TS, h.cfg.ConfirmEmoji, false)
	}, nil
}
