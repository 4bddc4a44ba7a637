package alerts

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// renderMaxPaged is how many people one paging line names, and
// renderMaxFailed how many failed pages are listed.
const (
	renderMaxPaged  = 10
	renderMaxFailed = 5
)

// renderChannelID matches a channel id, the only thing put in <#…>.
var renderChannelID = regexp.MustCompile(`^[CG][A-Z0-9]+$`)

// renderStatusLines is what has happened to the alert, most decisive
// first: resolved, acknowledged, paging, the incident declared from it.
func renderStatusLines(a *incident.AlertRecord, v renderView) []string {
	var lines []string
	if !a.Open() {
		lines = append(lines, renderResolved(a))
	}
	lines = append(lines, renderPagingLines(a, v.Now)...)
	if v.IncidentRef != "" {
		line := "Incident " + renderLine(v.IncidentRef, 40) + " declared"
		if renderChannelID.MatchString(v.IncidentChannel) {
			line += ": <#" + v.IncidentChannel + ">"
		}
		lines = append(lines, line)
	}
	return lines
}

// renderResolved says when and by whom the alert was resolved.
func renderResolved(a *incident.AlertRecord) string {
	line := "Resolved"
	if !a.Resolved.IsZero() {
		line += " at " + incident.FormatTime(a.Resolved)
	}
	if a.ResolvedBy.ID == "" {
		return line + " by its source"
	}
	return line + " by " + handlers.Mention(a.ResolvedBy)
}

// renderPagingLines describes the alert's paging: who acknowledged, the
// last escalation and any still active, failed pages; or why nobody is
// paged yet. A gathered alert (a.Storm) pages nobody and says nothing: the
// storm alert's message pages for it.
func renderPagingLines(a *incident.AlertRecord, now time.Time) []string {
	var lines []string
	if a.Acknowledged() {
		lines = append(lines, fmt.Sprintf("Acknowledged by %s at %s", handlers.Mention(a.AckedBy), incident.FormatTime(a.AckedAt)))
	}
	if a.Unrouted {
		lines = append(lines, "Matched no route's labels: not paged")
	}
	if len(a.Escalations) == 0 {
		if a.Open() && !a.Unrouted && !a.Acknowledged() && a.Storm == 0 && a.PageAt.After(now) {
			lines = append(lines, fmt.Sprintf("Quiet until %s: pages for route %s if still firing",
				incident.FormatTime(a.PageAt), renderLine(a.Route, 80)))
		}
		return lines
	}
	last := len(a.Escalations) - 1
	for i := range a.Escalations {
		if e := &a.Escalations[i]; i == last || e.Active() {
			lines = append(lines, renderEscalation(a, e)...)
		}
	}
	return lines
}

// renderEscalation is one escalation's line, then its failed pages.
func renderEscalation(a *incident.AlertRecord, e *incident.Escalation) []string {
	var line string
	switch e.State {
	case incident.EscalationActive:
		line = "Paging " + renderEscalationName(e)
		if e.Policy != "" || len(e.Levels) > 1 {
			line += fmt.Sprintf(", level %d of %d", e.Level+1, len(e.Levels))
		}
		if e.Round > 0 {
			line += fmt.Sprintf(" (repeat %d of %d)", e.Round, e.Repeat)
		}
		line += ": " + renderPaged(e)
		if e.By.ID != "" {
			line += " · paged by " + handlers.Mention(e.By)
		}
		if !e.Due.IsZero() {
			next := " · next level at "
			if e.Level == len(e.Levels)-1 && e.Round >= e.Repeat {
				next = " · gives up at "
			}
			line += next + incident.FormatTime(e.Due)
		}
	case incident.EscalationAcknowledged:
		// The record's acknowledgement is already shown; the same person's
		// on the escalation would say it twice.
		if !a.Acknowledged() || e.AckedBy.ID != a.AckedBy.ID {
			line = fmt.Sprintf("Acknowledged by %s at %s", handlers.Mention(e.AckedBy), incident.FormatTime(e.AckedAt))
		}
	case incident.EscalationExhausted:
		line = "Nobody acknowledged after every level of " + renderEscalationName(e)
		if !e.Ended.IsZero() {
			line += " (gave up at " + incident.FormatTime(e.Ended) + ")"
		}
	case incident.EscalationCancelled:
		line = "Paging by " + renderEscalationName(e) + " stopped"
		if !e.Ended.IsZero() {
			line += " at " + incident.FormatTime(e.Ended)
		}
	}
	var lines []string
	if line != "" {
		lines = append(lines, line)
	}
	return append(lines, renderFailed(e)...)
}

// renderEscalationName names the policy paged, or the direct page.
func renderEscalationName(e *incident.Escalation) string {
	if e.Policy == "" {
		return "the direct page"
	}
	return "policy " + renderLine(e.Policy, 80)
}

// renderPaged names who the current step paged; before any page is
// recorded (a group or schedule still being looked up), the level's targets.
func renderPaged(e *incident.Escalation) string {
	var names []string
	seen := map[string]bool{}
	for _, p := range e.Pages {
		key := string(p.Target) + "/" + p.User.ID
		if p.Step != e.Step || p.State == incident.PageSkipped || seen[key] {
			continue
		}
		seen[key] = true
		name := renderWho(p)
		if p.Schedule != "" {
			via := "on call for schedule " + renderLine(p.Schedule, 80)
			if p.Override {
				via += ", by an override"
			}
			name += " (" + via + ")"
		}
		switch p.State {
		case incident.PageDeclined:
			name += " (declined)"
		case incident.PageFailed:
			name += " (failed)"
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		for _, t := range e.Targets() {
			names = append(names, renderTarget(t))
		}
	}
	if len(names) == 0 {
		return "nobody yet"
	}
	if n := len(names) - renderMaxPaged; n > 0 {
		names = append(names[:renderMaxPaged], fmt.Sprintf("and %d more", n))
	}
	return strings.Join(names, ", ")
}

// renderFailed lists the pages of e that failed for good, each target once.
func renderFailed(e *incident.Escalation) []string {
	var lines []string
	seen := map[string]bool{}
	failed := 0
	for _, p := range e.Pages {
		key := string(p.Target) + "/" + p.User.ID
		if p.State != incident.PageFailed || seen[key] {
			continue
		}
		seen[key] = true
		if failed++; failed <= renderMaxFailed {
			line := "Could not page " + renderWho(p)
			if p.Error != "" {
				line += ": " + renderLine(p.Error, 200) // a provider's answer may quote anything
			}
			lines = append(lines, line)
		}
	}
	if n := failed - renderMaxFailed; n > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more failed pages", n))
	}
	return lines
}

// renderWho shows who a page reached: the person, else the provider target.
func renderWho(p incident.Page) string {
	if p.User.ID != "" {
		return handlers.Mention(p.User)
	}
	return renderTarget(p.Target)
}

// renderTarget shows a policy target without pinging a whole user group
// and without showing a provider's secret (Target.Redacted).
func renderTarget(t incident.Target) string {
	switch t.Kind() {
	case incident.TargetUser:
		return handlers.Mention(incident.User{ID: string(t)})
	case incident.TargetGroup:
		return "user group " + string(t)
	}
	return "`" + renderLine(t.Redacted(), 100) + "`"
}
