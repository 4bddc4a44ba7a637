package oncall

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

var userMention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)

// overrideCommand handles "/incident override <schedule> @who <from> <until>",
// "override list [schedule]" and "override remove <N>". A redelivered
// command is not run twice: the bot dedupes envelopes by trigger_id.
func (m *Module) overrideCommand(r *handlers.Request, args string) (string, error) {
	word, rest := handlers.NextWord(args)
	switch strings.ToLower(word) {
	case "list":
		return m.listOverrides(r, strings.TrimSpace(rest))
	case "remove", "rm", "delete":
		return m.removeOverride(r, strings.TrimSpace(rest))
	}
	usage := fmt.Sprintf("Type %s override platform-primary @ana 18:00 08:00, or %s override platform-primary @ana for 4h.", m.command(), m.command())
	if word == "" {
		return "", incident.Invalid("Which schedule, who, and when?", usage)
	}
	s, err := m.schedule(word)
	if err != nil {
		return "", err
	}
	whoWord, rest := handlers.NextWord(rest)
	mm := userMention.FindStringSubmatch(whoWord)
	if mm == nil {
		return "", incident.Invalid("Who should be on call? Name them with @.", usage)
	}
	from, to, err := parseSpan(rest, r.Now)
	if err != nil {
		return "", err
	}
	if err := m.mayOverride(r, s); err != nil {
		return "", err
	}
	o := incident.Override{Schedule: s.Name, Who: mm[1], From: from, To: to, Created: r.Now, By: r.User}
	if err := m.addOverride(r, s, &o); err != nil {
		return "", err
	}
	if o.Who != r.User.ID {
		if err := r.Post(o.Who, fmt.Sprintf(":calendar: <@%s> put you on call for %s from %s until %s (override #%d).",
			r.User.ID, s.Name, when(o.From, s), when(o.To, s), o.ID), nil); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("Override #%d: <@%s> is on call for %s from %s until %s. Undo it with `%s override remove %d`.",
		o.ID, o.Who, s.Name, when(o.From, s), when(o.To, s), m.command(), o.ID), nil
}

// addOverride checks and records an override, and sets the handoffs at its
// start and end.
func (m *Module) addOverride(r *handlers.Request, s *incident.Schedule, o *incident.Override) error {
	if err := s.CheckOverride(*o, r.Now); err != nil {
		return err
	}
	if err := r.Tx.AddOverride(o); err != nil {
		return err
	}
	return m.overrideChanged(r, s, *o)
}

// mayOverride lets the schedule's participants and the responders
// (INCIDENTBOT_RESPONDERS) change who is on call.
func (m *Module) mayOverride(r *handlers.Request, s *incident.Schedule) error {
	people := participants(s)
	if slices.Contains(people, r.User.ID) || m.h.ListedResponder(r.User.ID) {
		return nil
	}
	var who []string
	for _, p := range people {
		if len(who) < 10 {
			who = append(who, "<@"+p+">")
		}
	}
	return incident.Problemf(incident.ErrForbidden,
		"nothing changed: only the people of schedule %s (%s) and the responders (INCIDENTBOT_RESPONDERS) may change who is on call; ask one of them",
		s.Name, strings.Join(who, ", "))
}

// listOverrides lists the overrides not over yet, of one schedule or all.
func (m *Module) listOverrides(r *handlers.Request, name string) (string, error) {
	schedule := ""
	if name != "" {
		s, err := m.schedule(name)
		if err != nil {
			return "", err
		}
		schedule = s.Name
	}
	ovs, err := r.Tx.Overrides(schedule, r.Now)
	if err != nil {
		return "", err
	}
	if len(ovs) == 0 {
		if schedule == "" {
			return "No overrides are in force or planned.", nil
		}
		return fmt.Sprintf("No overrides of %s are in force or planned.", schedule), nil
	}
	lines := []string{"*Overrides* — remove one with `" + m.command() + " override remove <N>`:"}
	for _, o := range ovs {
		s, ok := m.Schedule(o.Schedule)
		if !ok {
			s = &incident.Schedule{Name: o.Schedule}
		}
		lines = append(lines, fmt.Sprintf("• #%d %s: <@%s> from %s until %s — by <@%s>", o.ID, o.Schedule, o.Who, when(o.From, s), when(o.To, s), o.By.ID))
	}
	return strings.Join(lines, "\n"), nil
}

// removeOverride deletes override N.
func (m *Module) removeOverride(r *handlers.Request, arg string) (string, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(arg, "#"))
	if err != nil || id <= 0 {
		return "", incident.Invalid("Which override? Give its number.", fmt.Sprintf("Type %s override list to see them, then %s override remove 3.", m.command(), m.command()))
	}
	o, err := r.Tx.Override(id)
	if errors.Is(err, incident.ErrNotFound) {
		return "", incident.Invalid(fmt.Sprintf("There is no override #%d.", id), "Type "+m.command()+" override list to see them.")
	} else if err != nil {
		return "", err
	}
	s, ok := m.Schedule(o.Schedule)
	if ok {
		if err := m.mayOverride(r, s); err != nil {
			return "", err
		}
	} else if !m.h.ListedResponder(r.User.ID) && o.By.ID != r.User.ID {
		return "", incident.Problemf(incident.ErrForbidden, "nothing changed: schedule %s is gone from the file; only who made the override or a responder may remove it", o.Schedule)
	}
	if _, err := r.Tx.RemoveOverride(id); err != nil {
		return "", err
	}
	if ok {
		if err := m.enqueueCheck(r, s); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("Removed override #%d (<@%s> on call for %s).", id, o.Who, o.Schedule), nil
}
