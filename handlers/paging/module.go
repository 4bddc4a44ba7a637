// Package paging is paging and escalation: /incident page and ack (the
// oncall module shows the policies and schedules),
// escalation policies and their levels and repeats, the page DM with its
// Acknowledge and Decline buttons, user groups, and the external pagers
// (paging/provider). It pages for incidents and, called by the alerts
// module (PageAlert, AckAlert, StopAlert), for alerts: one engine, over a
// subject (subject.go). An escalation's state lives in the incident or
// alert record; every step (a timer, a click, a resolve) is one
// transaction that reads it, changes it and enqueues the pages that
// follow, so steps never interleave.
package paging

import (
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
)

// Config is what paging needs to know.
type Config struct {
	// Policies are the escalation policies (INCIDENTBOT_ESCALATION_FILE);
	// nil or empty: only direct pages.
	Policies *incident.Policies
	// Providers sends pages to PagerDuty, Opsgenie, JSM and webhooks; nil:
	// the built-in providers at their public endpoints.
	Providers *provider.Set
	// ProviderGiveUp is how long a provider may keep failing (429, 5xx,
	// unreachable) before the page is reported as failed. 0: 5 minutes.
	ProviderGiveUp time.Duration
	// OnPaged, if set, hears of every page DM sent: the schedule it was for
	// ("" for a direct or policy page of a person) and who (pager load on
	// /metrics).
	OnPaged func(schedule, person string)
	// Schedules, if set, gives the schedules as they are now (those of a
	// calendar feed with the feed last read: the on-call module); nil: as
	// Policies has them.
	Schedules Schedules
}

// Schedules looks a schedule up by name (any case).
type Schedules interface {
	Schedule(name string) (*incident.Schedule, bool)
}

// Module is the paging capability.
type Module struct {
	cfg Config
	h   *handlers.Handlers
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.ProviderGiveUp == 0 {
		cfg.ProviderGiveUp = 5 * time.Minute
	}
	if cfg.Providers == nil {
		cfg.Providers = builtin.Set(builtin.Options{})
	}
	return &Module{cfg: cfg}
}

// Name implements handlers.Module.
func (m *Module) Name() string { return "paging" }

// Register implements handlers.Module.
func (m *Module) Register(h *handlers.Handlers, reg *handlers.Registry) {
	m.h = h
	for _, c := range []handlers.Command{
		{Name: "page", Usage: "page <policy|@user|@group…> [message]", Help: "page a policy or people, with Acknowledge/Decline buttons", Run: m.pageCommand},
		{Name: "ack", Usage: "ack", Help: "acknowledge this incident's pages (for someone paged by phone)", Run: m.ackCommand},
	} {
		reg.Command(c)
	}
	giveUp := m.pagingGiveUp
	for _, j := range []handlers.Job{
		{Kind: jobPageDM, Describe: "send a page DM", Run: handlers.Decoded(m.runPageDM), GiveUp: giveUp},
		{Kind: jobPageGroup, Describe: "read the members of a user group to page", Run: handlers.Decoded(m.runPageGroup), GiveUp: giveUp},
		{Kind: jobPageProvider, Describe: "send a page to a paging provider", Run: m.runPageProvider, GiveUp: giveUp},
		{Kind: jobPageUpdateDM, Describe: "update a page DM with how the page ended", Run: handlers.Decoded(m.runPageUpdateDM)},
		{Kind: jobPageEscalate, Describe: "escalate to the next level", Run: handlers.Decoded(m.runPageEscalate)},
	} {
		reg.Job(j)
	}
	reg.Action(pagingActionPrefix, handlers.Paged, m.pagingAction)
	reg.Hooks(handlers.Hooks{
		ChannelCreated:   m.autoPage,
		SeverityUpgraded: m.autoPage,
		Resolved:         m.stopPaging,
	})
}

func (m *Module) command() string { return m.h.Config().Command }

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
