package incidents

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// statusCommand shows the status and key times, or changes the status.
func (m *Module) statusCommand(r *handlers.Request, args string) (string, error) {
	if strings.TrimSpace(args) == "" {
		inc, err := r.IncidentIn()
		if err != nil {
			return "", err
		}
		return summaryText(inc, r.Now), nil
	}
	to, err := incident.ParseStatus(args)
	if err != nil {
		return "", err
	}
	if to == incident.Resolved {
		return m.resolveCommand(r, "")
	}
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	from := inc.Status
	if err := inc.SetStatus(to, r.Now); err != nil {
		return "", err
	}
	text := fmt.Sprintf("Status changed from %s to *%s* by %s", from.Title(), to.Title(), handlers.Mention(r.User))
	return "", r.Changed(inc, "status", text, true)
}

func (m *Module) reopenCommand(r *handlers.Request, _ string) (string, error) {
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	if err := inc.Reopen(); err != nil {
		return "", err
	}
	if err := r.Changed(inc, "reopened", "Reopened by "+handlers.Mention(r.User)+"; status is Investigating again", true); err != nil {
		return "", err
	}
	return "", r.Notify(inc, func(k handlers.Hooks) handlers.HookFunc { return k.Reopened })
}

func (m *Module) severityCommand(r *handlers.Request, args string) (string, error) {
	if strings.TrimSpace(args) == "" {
		return "", incident.Invalid("Which severity?", "Type e.g. /incident severity sev1. "+handlers.SeverityHelp())
	}
	sev, err := incident.ParseSeverity(args)
	if err != nil {
		return "", err
	}
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	from := inc.Severity
	upgraded, err := inc.SetSeverity(sev, r.User, r.Now)
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("Severity changed from %s to *%s* (%s) by %s", from.Label(), sev.Label(), sev.Meaning(), handlers.Mention(r.User))
	if err := r.Changed(inc, "severity", text, true); err != nil {
		return "", err
	}
	if upgraded {
		if err := r.Notify(inc, func(k handlers.Hooks) handlers.HookFunc { return k.SeverityUpgraded }); err != nil {
			return "", err
		}
	}
	// An upgrade is news for everyone; a downgrade stays in the channel.
	if upgraded && m.h.Config().AnnounceChannel != "" && !inc.Private {
		return "", r.Post(m.h.Config().AnnounceChannel, fmt.Sprintf(":arrow_double_up: *%s upgraded to %s* — %s (%s)",
			inc.Ref(), sev.Label(), handlers.Safe(handlers.Clip(inc.Title, 300)), handlers.ChannelLink(inc)), nil)
	}
	return "", nil
}

func (m *Module) roleCommand(role incident.Role) handlers.CommandFunc {
	return func(r *handlers.Request, args string) (string, error) {
		users := handlers.MentionedUsers(args)
		if len(users) != 1 {
			return "", incident.Invalid(fmt.Sprintf("Name one person to be %s.", role),
				fmt.Sprintf("Type e.g. %s %s @ana", m.command(), role))
		}
		inc, err := r.Changeable()
		if err != nil {
			return "", err
		}
		if inc.Status == incident.Resolved {
			return "", incident.Problemf(incident.ErrResolved, "%s was resolved at %s", inc.Ref(), incident.FormatTime(inc.Times.Resolved))
		}
		u := users[0]
		if !inc.Assign(role, u) {
			return fmt.Sprintf("%s is already %s.", handlers.Mention(u), role), nil
		}
		text := fmt.Sprintf("%s is now %s (assigned by %s)", handlers.Mention(u), role.Title(), handlers.Mention(r.User))
		if err := r.Changed(inc, "role", text, true); err != nil {
			return "", err
		}
		if inc.ChannelID == "" {
			return "", nil
		}
		return "", r.Invite(inc.ChannelID, u.ID)
	}
}

func (m *Module) keyTimeCommand(which incident.KeyTime) handlers.CommandFunc {
	return func(r *handlers.Request, args string) (string, error) {
		if strings.TrimSpace(args) == "" {
			return "", incident.Invalid(fmt.Sprintf("When was the incident %s?", which),
				fmt.Sprintf("Type e.g. %s %s 10:18 (UTC), or a date and time: 2023-08-17 10:18.", m.command(), which))
		}
		at, err := incident.ParseWhen(args, r.Now)
		if err != nil {
			return "", err
		}
		inc, err := r.Changeable()
		if err != nil {
			return "", err
		}
		if err := inc.Times.Set(which, at, r.Now); err != nil {
			return "", err
		}
		text := fmt.Sprintf("%s time set to %s by %s", strings.ToUpper(string(which[:1]))+string(which[1:]),
			incident.FormatTime(at), handlers.Mention(r.User))
		if err := r.Changed(inc, string(which), text, false); err != nil {
			return "", err
		}
		return fmt.Sprintf(":white_check_mark: Recorded: %s at *%s*.", which, incident.FormatTime(at)), nil
	}
}

// listCommand lists open incidents. A private incident is listed only to
// the people it belongs to (declarer, role holders) and inside its channel.
// It reads only the open incidents (the store's live index), since it runs
// in the envelope's write transaction.
func (m *Module) listCommand(r *handlers.Request, _ string) (string, error) {
	all, err := r.Tx.OpenIncidents()
	if err != nil {
		return "", err
	}
	var lines []string
	for _, inc := range slices.Backward(all) {
		if !inc.Open() || inc.Private && !insider(r, inc) {
			continue
		}
		lock := ""
		if inc.Private {
			lock = ":lock: "
		}
		lines = append(lines, fmt.Sprintf("• %s*%s* %s · %s · %s · lead %s · open %s — %s", lock, inc.Ref(),
			inc.Severity.Label(), inc.Status.Title(), handlers.ChannelLink(inc), handlers.Mention(inc.Lead()),
			incident.FormatDuration(r.Now.Sub(inc.Times.Declared)), handlers.Safe(handlers.Clip(inc.Title, 120))))
	}
	if len(lines) == 0 {
		return "No open incidents. :tada:", nil
	}
	return fmt.Sprintf("*%d open incident(s)*, newest first:\n%s", len(lines), strings.Join(lines, "\n")), nil
}

// summaryText is the incident at a glance: status, roles and key times
// with the measures computed from them.
func summaryText(inc *incident.Incident, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* %s — %s\n", inc.Ref(), inc.Severity.Label(), handlers.Safe(handlers.Clip(inc.Title, 300)))
	fmt.Fprintf(&b, "Status *%s* · Lead %s", inc.Status.Title(), handlers.Mention(inc.Lead()))
	for _, role := range incident.Roles[1:] {
		if u, ok := inc.Roles[role]; ok {
			fmt.Fprintf(&b, " · %s %s", role.Title(), handlers.Mention(u))
		}
	}
	b.WriteString("\n*Key times (UTC)*\n")
	k := inc.Times
	for _, kt := range []struct {
		name string
		at   time.Time
	}{{"Started", k.Started}, {"Detected", k.Detected}, {"Declared", k.Declared}, {"Acknowledged", k.Acknowledged},
		{"Identified", k.Identified}, {"Mitigated", k.Mitigated}, {"Resolved", k.Resolved}} {
		fmt.Fprintf(&b, "%s: %s\n", kt.name, incident.FormatTime(kt.at))
	}
	fmt.Fprintf(&b, "Time to detect %s · to acknowledge %s · to mitigate %s · to resolve %s · duration %s",
		k.TimeToDetect(), k.TimeToAcknowledge(), k.TimeToMitigate(), k.TimeToResolve(), k.Duration(now))
	return b.String()
}

// insider reports whether the user belongs to a private incident: in its
// channel, its declarer or a role holder.
func insider(r *handlers.Request, inc *incident.Incident) bool {
	if r.Channel == inc.ChannelID || r.User.ID == inc.DeclaredBy.ID {
		return true
	}
	for _, u := range inc.Roles {
		if u.ID == r.User.ID {
			return true
		}
	}
	return false
}
