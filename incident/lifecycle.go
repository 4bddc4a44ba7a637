package incident

import (
	"fmt"
	"strings"
	"time"
)

// SetStatus moves the incident to status to at the given time. Moving to
// identified or monitoring fills the matching key time the first time it
// happens (a later bounce back keeps the first, which is what time to
// mitigate measures). Resolving goes through Resolve.
func (inc *Incident) SetStatus(to Status, at time.Time) error {
	if to == Resolved {
		return inc.Resolve(at, "")
	}
	if err := CanTransition(inc.Status, to); err != nil {
		return err
	}
	inc.Status = to
	switch to {
	case Identified:
		if inc.Times.Identified.IsZero() {
			inc.Times.Identified = at
		}
	case Monitoring:
		if inc.Times.Identified.IsZero() {
			inc.Times.Identified = at // a fix being monitored was identified
		}
		if inc.Times.Mitigated.IsZero() {
			inc.Times.Mitigated = at
		}
	}
	return nil
}

// Reopen takes a resolved incident back to investigating. The resolved time
// is cleared, so time to resolve is measured to the final resolution.
func (inc *Incident) Reopen() error {
	if inc.Status != Resolved {
		return Problemf(ErrInvalidTransition, "%s is not resolved, it is %s", inc.Ref(), inc.Status)
	}
	inc.Status = Investigating
	inc.Times.Resolved = time.Time{}
	return nil
}

// SetSeverity changes the severity and logs the change. upgraded is true
// when the new severity is worse, which is announced more widely.
func (inc *Incident) SetSeverity(s Severity, by User, at time.Time) (upgraded bool, err error) {
	if !s.Valid() {
		return false, Invalid(fmt.Sprintf("%d is not a severity.", int(s)), "Use sev1, sev2, sev3 or sev4.")
	}
	if inc.Status == Resolved {
		return false, Problemf(ErrResolved, "%s was resolved at %s", inc.Ref(), FormatTime(inc.Times.Resolved))
	}
	if s == inc.Severity {
		return false, Problemf(ErrInvalidTransition, "%s is already %s", inc.Ref(), s.Label())
	}
	upgraded = s.WorseThan(inc.Severity)
	inc.Severity = s
	inc.SeverityLog = append(inc.SeverityLog, SeverityChange{At: at, Severity: s, By: by})
	return upgraded, nil
}

// Roles lists the roles in the order they are shown.
var Roles = []Role{RoleLead, RoleComms, RoleScribe}

// ParseRole reads a role name.
func ParseRole(text string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(text)))
	for _, known := range Roles {
		if r == known {
			return r, true
		}
	}
	return "", false
}

// Title is the role as shown to people: "Lead".
func (r Role) Title() string {
	if r == "" {
		return ""
	}
	return strings.ToUpper(string(r[:1])) + string(r[1:])
}

// Assign gives role to u. It reports false when u already holds it.
func (inc *Incident) Assign(role Role, u User) bool {
	if inc.Roles == nil {
		inc.Roles = map[Role]User{}
	}
	if cur, ok := inc.Roles[role]; ok && cur.ID == u.ID {
		return false
	}
	inc.Roles[role] = u
	return true
}

// SeverityTimes returns how long the incident spent at each severity up to
// end (its resolution, or now while open), in the order severities were held.
func (inc *Incident) SeverityTimes(end time.Time) []SeverityTime {
	var out []SeverityTime
	for i, c := range inc.SeverityLog {
		until := end
		if i+1 < len(inc.SeverityLog) {
			until = inc.SeverityLog[i+1].At
		}
		d := until.Sub(c.At)
		if d < 0 {
			d = 0
		}
		found := false
		for j := range out {
			if out[j].Severity == c.Severity {
				out[j].Duration += d
				found = true
			}
		}
		if !found {
			out = append(out, SeverityTime{Severity: c.Severity, Duration: d})
		}
	}
	return out
}

// SeverityTime is time spent at one severity.
type SeverityTime struct {
	Severity Severity
	Duration time.Duration
}
