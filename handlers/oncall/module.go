// Package oncall is on-call schedules in Slack: /incident oncall (the
// escalation policies, and who is on call now and next in each schedule),
// /incident override (overrides, kept in the database), /incident cover
// (asking for cover, with an I'll cover button), and the handoffs: a DM to
// whoever comes on call, a post in the schedule's handoff channel, and its
// user group kept equal to who is on call. The schedules themselves come
// from the escalation file (incident.Schedule); paging a schedule: target
// is the paging module's.
package oncall

import (
	"fmt"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Config is what the on-call module needs to know.
type Config struct {
	// Policies are the escalation policies and schedules
	// (INCIDENTBOT_ESCALATION_FILE); nil: none.
	Policies *incident.Policies
}

// Module is the on-call capability.
type Module struct {
	cfg   Config
	h     *handlers.Handlers
	feeds feedState
}

// New returns the module.
func New(cfg Config) *Module {
	m := &Module{cfg: cfg}
	m.feeds.client = newFeedClient()
	return m
}

// Name implements handlers.Module.
func (m *Module) Name() string { return "oncall" }

// Register implements handlers.Module.
func (m *Module) Register(h *handlers.Handlers, reg *handlers.Registry) {
	m.h = h
	for _, c := range []handlers.Command{
		{Name: "oncall", Usage: "oncall [schedule]", Help: "the escalation policies and who is on call; with a schedule, its shifts of the next 7 days",
			Global: true, Run: m.oncallCommand},
		{Name: "override", Usage: "override <schedule> @who <from> <until> | list <schedule> | remove <N>",
			Help: "put someone on call for a while (e.g. for 4h), list or remove overrides", Global: true, Run: m.overrideCommand},
		{Name: "cover", Usage: "cover <schedule> [for 4h | until 18:00]", Help: "ask the schedule's people to cover your shift",
			Global: true, Run: m.coverCommand},
	} {
		reg.Command(c)
	}
	for _, j := range []handlers.Job{
		{Kind: jobHandoff, Describe: "announce an on-call handoff", Run: handlers.Decoded(m.runHandoff), GiveUp: m.logGiveUp},
		{Kind: jobUsergroup, Describe: "update an on-call user group", Run: handlers.Decoded(m.runUsergroup), GiveUp: m.logGiveUp},
		{Kind: jobFeed, Describe: "read an on-call calendar feed", Run: handlers.Decoded(m.runFeed), GiveUp: m.logGiveUp},
	} {
		reg.Job(j)
	}
	// Anyone may click; the handler lets only the schedule's participants
	// (and the responders) take the cover, as the button acts on no incident.
	reg.Action(coverActionPrefix, handlers.Anyone, m.coverAction)
}

func (m *Module) command() string { return m.h.Config().Command }

// schedule returns the schedule named, or a user-facing error listing them.
func (m *Module) schedule(name string) (*incident.Schedule, error) {
	if s, ok := m.Schedule(name); ok {
		return s, nil
	}
	if name == "" {
		return nil, incident.Invalid("Which schedule?", m.scheduleHint())
	}
	return nil, incident.Invalid(fmt.Sprintf("There is no schedule %q.", handlers.Clip(name, 40)), m.scheduleHint())
}

func (m *Module) scheduleHint() string {
	if m.cfg.Policies == nil || len(m.cfg.Policies.Schedules) == 0 {
		return "No on-call schedules are configured: add schedules: to INCIDENTBOT_ESCALATION_FILE."
	}
	var names []string
	for _, s := range m.cfg.Policies.Schedules {
		names = append(names, s.Name)
	}
	return "Schedules: " + strings.Join(names, ", ") + " (" + m.command() + " oncall shows them)."
}

// overrides returns the overrides of a schedule that can shape a shift at
// or after now: also those just over, which split the shift that follows
// them (a shift is at most 4 weeks, an override at most MaxOverride).
func overrides(tx *store.Tx, s *incident.Schedule, now time.Time) ([]incident.Override, error) {
	return tx.Overrides(s.Name, now.Add(-incident.MaxOverride))
}

// participants are everyone a schedule's rotations name.
func participants(s *incident.Schedule) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Rotations {
		for _, p := range r.Participants {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// when shows an instant in UTC and in the schedule's zone.
func when(t time.Time, s *incident.Schedule) string {
	u := t.UTC().Format("Mon 2 Jan 15:04 UTC")
	loc := s.Location
	if loc == nil || loc == time.UTC {
		return u
	}
	return u + " (" + t.In(loc).Format("15:04 MST") + " " + loc.String() + ")"
}
