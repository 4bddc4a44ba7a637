package oncall

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Cover: the person on call asks for someone to take (part of) their
// shift. The ask is posted in the schedule's handoff channel, or sent to
// its other participants, with an I'll cover button whose value holds the
// whole ask (schedule, who asked, from, until): the first click makes the
// override; any later click, also a double click, finds that override and
// changes nothing.

const (
	coverActionPrefix = "oncall_cover"
	actionCover       = "oncall_cover"
)

// coverCommand handles "/incident cover <schedule> [for 4h | until 18:00]".
func (m *Module) coverCommand(r *handlers.Request, args string) (string, error) {
	name, rest := handlers.NextWord(args)
	s, err := m.schedule(name)
	if err != nil {
		return "", err
	}
	ovs, err := overrides(r.Tx, s, r.Now)
	if err != nil {
		return "", err
	}
	cur, ok := s.OnCall(r.Now, ovs)
	switch {
	case !ok:
		return "", incident.Invalid(fmt.Sprintf("Nobody is on call for %s now, so there is no shift to cover.", s.Name),
			fmt.Sprintf("To put someone on call, type %s override %s @ana for 4h.", m.command(), s.Name))
	case cur.Who != r.User.ID:
		return "", incident.Invalid(fmt.Sprintf("You are not on call for %s now: <@%s> is.", s.Name, cur.Who),
			fmt.Sprintf("Only the person on call asks for cover; to put someone on call, type %s override %s @ana for 4h.", m.command(), s.Name))
	}
	from, to := r.Now, cur.End
	if next, ok := s.Next(r.Now, ovs); ok {
		to = next.Start
	}
	if rest = strings.TrimSpace(rest); rest != "" {
		if !strings.HasPrefix(rest, "for ") && !strings.HasPrefix(rest, "until ") {
			return "", incident.Invalid("How long should the cover last?", fmt.Sprintf("Type %s cover %s for 4h, or %s cover %s until 18:00.", m.command(), s.Name, m.command(), s.Name))
		}
		if from, to, err = parseSpan(rest, r.Now); err != nil {
			return "", err
		}
	}
	if to.Sub(from) > incident.MaxOverride {
		to = from.Add(incident.MaxOverride)
	}
	if err := s.CheckOverride(incident.Override{Schedule: s.Name, Who: r.User.ID, From: from, To: to}, r.Now); err != nil {
		return "", err
	}
	text := fmt.Sprintf(":sos: <@%s> asks for cover on %s from %s until %s.", r.User.ID, s.Name, when(from, s), when(to, s))
	value := strings.Join([]string{s.Name, r.User.ID, strconv.FormatInt(from.UnixNano(), 10), strconv.FormatInt(to.UnixNano(), 10)}, "|")
	btn := slack.NewButtonBlockElement(actionCover, value, handlers.Plain("I'll cover"))
	btn.Style = slack.StylePrimary
	blocks := []slack.Block{slack.NewSectionBlock(handlers.Md(text), nil, nil), slack.NewActionBlock("oncall_cover", btn)}
	if s.HandoffChannel != "" {
		if err := r.Post(s.HandoffChannel, text, blocks); err != nil {
			return "", err
		}
		return fmt.Sprintf("I asked for cover in <#%s>; you will hear who takes it.", s.HandoffChannel), nil
	}
	var asked []string
	for _, p := range participants(s) {
		if p != r.User.ID {
			asked = append(asked, "<@"+p+">")
			if err := r.Post(p, text, blocks); err != nil {
				return "", err
			}
		}
	}
	if len(asked) == 0 {
		return "", incident.Invalid("Nobody else takes shifts in "+s.Name+" to ask.", "Ask someone directly, who can then type "+m.command()+" override "+s.Name+" @them for 4h.")
	}
	return "I asked " + strings.Join(asked, ", ") + " to cover; you will hear who takes it.", nil
}

// coverAction handles a click on I'll cover.
func (m *Module) coverAction(r *handlers.Request, _ slack.InteractionCallback, a *slack.BlockAction) error {
	parts := strings.Split(a.Value, "|")
	if len(parts) != 4 {
		return incident.Problemf(incident.ErrForbidden, "nothing changed: I could not read this request for cover")
	}
	fromN, err1 := strconv.ParseInt(parts[2], 10, 64)
	toN, err2 := strconv.ParseInt(parts[3], 10, 64)
	s, ok := m.Schedule(parts[0])
	if err1 != nil || err2 != nil || !ok {
		return incident.Problemf(incident.ErrForbidden, "nothing changed: this request for cover is for a schedule I no longer know")
	}
	asker, from, to := parts[1], time.Unix(0, fromN).UTC(), time.Unix(0, toN).UTC()
	if r.User.ID == asker {
		return incident.Invalid("You asked for this cover: someone else has to take it.", "")
	}
	if err := m.mayOverride(r, s); err != nil {
		return err
	}
	all, err := r.Tx.Overrides(s.Name, time.Time{})
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.From.Equal(from) && o.To.Equal(to) && o.By.ID != "" {
			if o.Who == r.User.ID {
				return incident.Invalid(fmt.Sprintf("You already cover this (override #%d).", o.ID), "")
			}
			return incident.Invalid(fmt.Sprintf("Taken: <@%s> already covers this.", o.Who), "")
		}
	}
	o := incident.Override{Schedule: s.Name, Who: r.User.ID, From: from, To: to, Created: r.Now, By: r.User}
	if err := m.addOverride(r, s, &o); err != nil {
		return err
	}
	span := fmt.Sprintf("from %s until %s (override #%d)", when(from, s), when(to, s), o.ID)
	if err := r.Post(asker, fmt.Sprintf(":handshake: <@%s> covers %s for you %s.", o.Who, s.Name, span), nil); err != nil {
		return err
	}
	if err := r.Post(o.Who, fmt.Sprintf(":handshake: You cover %s for <@%s> %s.", s.Name, asker, span), nil); err != nil {
		return err
	}
	if s.HandoffChannel != "" {
		return r.Post(s.HandoffChannel, fmt.Sprintf("<@%s> covers %s for <@%s> %s.", o.Who, s.Name, asker, span), nil)
	}
	return nil
}
