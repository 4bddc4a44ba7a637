package oncall

import (
	"fmt"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// showDays is how far /incident oncall <schedule> looks ahead.
const showDays = 7

// oncallCommand handles "/incident oncall [schedule]".
func (m *Module) oncallCommand(r *handlers.Request, args string) (string, error) {
	if name := strings.TrimSpace(args); name != "" {
		s, err := m.schedule(name)
		if err != nil {
			return "", err
		}
		return m.showShifts(r, s)
	}
	hasSchedules := m.cfg.Policies != nil && len(m.cfg.Policies.Schedules) > 0
	if m.cfg.Policies.Empty() && !hasSchedules {
		return fmt.Sprintf("No escalation policies are configured (INCIDENTBOT_ESCALATION_FILE). You can still page people directly: `%s page @ana`.", m.command()), nil
	}
	var lines []string
	if !m.cfg.Policies.Empty() {
		lines = append(lines, m.policies()...)
	}
	if hasSchedules {
		sched, err := m.schedules(r)
		if err != nil {
			return "", err
		}
		lines = append(lines, sched...)
	}
	return strings.Join(lines, "\n"), nil
}

// policies shows the escalation policies.
func (m *Module) policies() []string {
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
	return lines
}

// schedules shows, for each schedule, who is on call now and who is next.
func (m *Module) schedules(r *handlers.Request) ([]string, error) {
	lines := []string{"*On-call schedules* — the next 7 days with `" + m.command() + " oncall <schedule>`:"}
	for _, s := range m.schedulesNow() {
		ovs, err := overrides(r.Tx, s, r.Now)
		if err != nil {
			return nil, err
		}
		line := "• *" + s.Name + "*"
		if s.Description != "" {
			line += " — " + handlers.Safe(s.Description)
		}
		if now, ok := s.OnCall(r.Now, ovs); ok {
			line += fmt.Sprintf("\n    now: <@%s>%s, until %s", now.Who, overrideMark(now), when(now.End, s))
		} else {
			line += "\n    now: nobody is on call"
		}
		if next, ok := s.Next(r.Now, ovs); ok {
			line += fmt.Sprintf("\n    next: <@%s>%s from %s", next.Who, overrideMark(next), when(next.Start, s))
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// showShifts lists a schedule's shifts of the next showDays days.
func (m *Module) showShifts(r *handlers.Request, s *incident.Schedule) (string, error) {
	ovs, err := overrides(r.Tx, s, r.Now)
	if err != nil {
		return "", err
	}
	head := fmt.Sprintf("*%s* — shifts of the next %d days (times in UTC, and in %s):", s.Name, showDays, zone(s))
	shifts := s.Shifts(r.Now, r.Now.Add(showDays*24*time.Hour), ovs)
	if len(shifts) == 0 {
		return head + "\nNobody is on call in that time.", nil
	}
	lines := []string{head}
	for _, sh := range shifts {
		lines = append(lines, fmt.Sprintf("• %s → %s: <@%s>%s", when(sh.Start, s), when(sh.End, s), sh.Who, overrideMark(sh)))
	}
	return strings.Join(lines, "\n"), nil
}

func zone(s *incident.Schedule) string {
	if s.Location == nil {
		return "UTC"
	}
	return s.Location.String()
}

// overrideMark marks a shift an override made.
func overrideMark(sh incident.Shift) string {
	if sh.Override == nil {
		return ""
	}
	return fmt.Sprintf(" _(override #%d by <@%s>)_", sh.Override.ID, sh.Override.By.ID)
}

// targetName shows a target in Slack without pinging a whole group.
func targetName(t incident.Target) string {
	switch t.Kind() {
	case incident.TargetUser:
		return "<@" + string(t) + ">"
	case incident.TargetGroup:
		return "user group " + string(t)
	case incident.TargetSchedule:
		return "schedule " + t.Value()
	}
	return "`" + t.Redacted() + "`"
}
