package paging

import (
	"fmt"
	"strings"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// oncallCommand shows the escalation policies.
func (m *Module) oncallCommand(_ *handlers.Request, _ string) (string, error) {
	if m.cfg.Policies.Empty() {
		return fmt.Sprintf("No escalation policies are configured (INCIDENTBOT_ESCALATION_FILE). You can still page people directly: `%s page @ana`.", m.command()), nil
	}
	lines := []string{"*Escalation policies* — page one with `" + m.command() + " page <policy> [message]`:"}
	auto := map[string][]string{}
	for _, s := range incident.Severities {
		if p, ok := m.cfg.Policies.ForSeverity(s); ok {
			auto[p.Name] = append(auto[p.Name], s.Label())
		}
	}
	for _, p := range m.cfg.Policies.List {
		line := "• *" + p.Name + "*"
		if p.Description != "" {
			line += " — " + handlers.Safe(p.Description)
		}
		for i, l := range p.Levels {
			var who []string
			for _, t := range l.Targets {
				who = append(who, targetName(t))
			}
			line += fmt.Sprintf("\n    %d. %s, then %s", i+1, strings.Join(who, ", "), incident.FormatDuration(l.Timeout))
		}
		if p.Repeat > 0 {
			line += fmt.Sprintf("\n    repeated %d more time(s)", p.Repeat)
		}
		if s := auto[p.Name]; len(s) > 0 {
			line += "\n    paged automatically for " + strings.Join(s, ", ")
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

// ackCommand acknowledges the incident's active escalations: for someone
// reached through PagerDuty or a phone, who has no DM button to press.
func (m *Module) ackCommand(r *handlers.Request, _ string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	// Paging that ran out still takes a late acknowledgement, as its DMs do.
	var waiting []*incident.Escalation
	for i := range inc.Escalations {
		if e := &inc.Escalations[i]; inc.Open() && (e.Active() || e.State == incident.EscalationExhausted) {
			waiting = append(waiting, e)
		}
	}
	if len(waiting) == 0 {
		return fmt.Sprintf("Nothing to acknowledge: no page of %s is waiting for an answer.", inc.Ref()), nil
	}
	for _, e := range waiting {
		if err := m.acknowledge(r, inc, e); err != nil {
			return "", err
		}
	}
	return "", nil
}
