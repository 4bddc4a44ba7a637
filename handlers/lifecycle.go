package handlers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// statusCommand shows the status and key times, or changes the status.
func (h *Handlers) statusCommand(r *request, args string) (string, error) {
	if strings.TrimSpace(args) == "" {
		inc, err := r.incidentIn()
		if err != nil {
			return "", err
		}
		return summaryText(inc, r.now), nil
	}
	to, err := incident.ParseStatus(args)
	if err != nil {
		return "", err
	}
	if to == incident.Resolved {
		return h.resolveCommand(r, "")
	}
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	from := inc.Status
	if err := inc.SetStatus(to, r.now); err != nil {
		return "", err
	}
	text := fmt.Sprintf("Status changed from %s to *%s* by %s", from.Title(), to.Title(), mention(r.user))
	return "", r.changed(inc, "status", text, true)
}

// changed saves inc, records the event on the timeline, says it in the
// channel and refreshes the pinned summary and topic.
func (r *request) changed(inc *incident.Incident, event, text string, post bool) error {
	if err := r.tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.timelineEvent(inc, event, text); err != nil {
		return err
	}
	if post && inc.ChannelID != "" {
		if err := r.post(inc.ChannelID, ":arrows_counterclockwise: "+text+".", nil); err != nil {
			return err
		}
	}
	return r.refreshChannel(inc)
}

func (h *Handlers) reopenCommand(r *request, _ string) (string, error) {
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	if err := inc.Reopen(); err != nil {
		return "", err
	}
	if err := r.changed(inc, "reopened", "Reopened by "+mention(r.user)+"; status is Investigating again", true); err != nil {
		return "", err
	}
	inc.Reminder++ // stale timers from before the resolution stay quiet
	if err := r.tx.PutIncident(inc); err != nil {
		return "", err
	}
	return "", h.scheduleReminder(r, inc, r.now.Add(h.cfg.UpdateEvery))
}

func (h *Handlers) severityCommand(r *request, args string) (string, error) {
	if strings.TrimSpace(args) == "" {
		return "", incident.Invalid("Which severity?", "Type e.g. /incident severity sev1. "+severityHelp())
	}
	sev, err := incident.ParseSeverity(args)
	if err != nil {
		return "", err
	}
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	from := inc.Severity
	upgraded, err := inc.SetSeverity(sev, r.user, r.now)
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("Severity changed from %s to *%s* (%s) by %s", from.Label(), sev.Label(), sev.Meaning(), mention(r.user))
	if err := r.changed(inc, "severity", text, true); err != nil {
		return "", err
	}
	if upgraded {
		if err := h.autoPage(r, inc); err != nil {
			return "", err
		}
	}
	// An upgrade is news for everyone; a downgrade stays in the channel.
	if upgraded && h.cfg.AnnounceChannel != "" && !inc.Private {
		return "", r.post(h.cfg.AnnounceChannel, fmt.Sprintf(":arrow_double_up: *%s upgraded to %s* — %s (%s)",
			inc.Ref(), sev.Label(), safe(clip(inc.Title, 300)), channelLink(inc)), nil)
	}
	return "", nil
}

func (h *Handlers) roleCommand(role incident.Role) commandFunc {
	return func(r *request, args string) (string, error) {
		users := mentionedUsers(args)
		if len(users) != 1 {
			return "", incident.Invalid(fmt.Sprintf("Name one person to be %s.", role),
				fmt.Sprintf("Type e.g. %s %s @ana", h.cfg.Command, role))
		}
		inc, err := h.changeable(r)
		if err != nil {
			return "", err
		}
		if inc.Status == incident.Resolved {
			return "", incident.Problemf(incident.ErrResolved, "%s was resolved at %s", inc.Ref(), incident.FormatTime(inc.Times.Resolved))
		}
		u := users[0]
		if !inc.Assign(role, u) {
			return fmt.Sprintf("%s is already %s.", mention(u), role), nil
		}
		text := fmt.Sprintf("%s is now %s (assigned by %s)", mention(u), role.Title(), mention(r.user))
		if err := r.changed(inc, "role", text, true); err != nil {
			return "", err
		}
		if inc.ChannelID == "" {
			return "", nil
		}
		return "", r.enqueue(inc.ChannelID, jobInvite, inviteJob{Channel: inc.ChannelID, Users: []string{u.ID}})
	}
}

func (h *Handlers) keyTimeCommand(which incident.KeyTime) commandFunc {
	return func(r *request, args string) (string, error) {
		if strings.TrimSpace(args) == "" {
			return "", incident.Invalid(fmt.Sprintf("When was the incident %s?", which),
				fmt.Sprintf("Type e.g. %s %s 10:18 (UTC), or a date and time: 2023-08-17 10:18.", h.cfg.Command, which))
		}
		at, err := incident.ParseWhen(args, r.now)
		if err != nil {
			return "", err
		}
		inc, err := h.changeable(r)
		if err != nil {
			return "", err
		}
		if err := inc.Times.Set(which, at, r.now); err != nil {
			return "", err
		}
		text := fmt.Sprintf("%s time set to %s by %s", strings.ToUpper(string(which[:1]))+string(which[1:]),
			incident.FormatTime(at), mention(r.user))
		if err := r.changed(inc, string(which), text, false); err != nil {
			return "", err
		}
		return fmt.Sprintf(":white_check_mark: Recorded: %s at *%s*.", which, incident.FormatTime(at)), nil
	}
}

// listCommand lists open incidents. A private incident is listed only to
// the people it belongs to (declarer, role holders) and inside its channel.
func (h *Handlers) listCommand(r *request, _ string) (string, error) {
	all, err := r.tx.Incidents()
	if err != nil {
		return "", err
	}
	var lines []string
	for _, inc := range slices.Backward(all) {
		if !inc.Open() || inc.Private && !r.insider(inc) {
			continue
		}
		lock := ""
		if inc.Private {
			lock = ":lock: "
		}
		lines = append(lines, fmt.Sprintf("• %s*%s* %s · %s · %s · lead %s · open %s — %s", lock, inc.Ref(),
			inc.Severity.Label(), inc.Status.Title(), channelLink(inc), mention(inc.Lead()),
			incident.FormatDuration(r.now.Sub(inc.Times.Declared)), safe(clip(inc.Title, 120))))
	}
	if len(lines) == 0 {
		return "No open incidents. :tada:", nil
	}
	return fmt.Sprintf("*%d open incident(s)*, newest first:\n%s", len(lines), strings.Join(lines, "\n")), nil
}

func (r *request) insider(inc *incident.Incident) bool {
	if r.channel == inc.ChannelID || r.user.ID == inc.DeclaredBy.ID {
		return true
	}
	for _, u := range inc.Roles {
		if u.ID == r.user.ID {
			return true
		}
	}
	return false
}

// summaryText is the incident at a glance: status, roles and key times
// with the measures computed from them.
func summaryText(inc *incident.Incident, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* %s — %s\n", inc.Ref(), inc.Severity.Label(), safe(clip(inc.Title, 300)))
	fmt.Fprintf(&b, "Status *%s* · Lead %s", inc.Status.Title(), mention(inc.Lead()))
	for _, role := range incident.Roles[1:] {
		if u, ok := inc.Roles[role]; ok {
			fmt.Fprintf(&b, " · %s %s", role.Title(), mention(u))
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
