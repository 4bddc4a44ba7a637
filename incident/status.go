package incident

import (
	"fmt"
	"strings"
)

// Status is where an incident is in its lifecycle. The four statuses are
// Statuspage's, which customers already know.
type Status string

// The lifecycle, in order.
const (
	Investigating Status = "investigating"
	Identified    Status = "identified"
	Monitoring    Status = "monitoring"
	Resolved      Status = "resolved"
)

// Statuses lists the lifecycle in order.
var Statuses = []Status{Investigating, Identified, Monitoring, Resolved}

func (s Status) rank() int {
	for i, st := range Statuses {
		if st == s {
			return i
		}
	}
	return -1
}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool { return s.rank() >= 0 }

// Title returns the status with a capital letter, e.g. "Investigating".
func (s Status) Title() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// ParseStatus reads one of the four statuses, case-insensitively.
func ParseStatus(text string) (Status, error) {
	s := Status(strings.ToLower(strings.TrimSpace(text)))
	if s.Valid() {
		return s, nil
	}
	return "", Invalid(fmt.Sprintf("%q is not a status.", text),
		"Use investigating, identified, monitoring or resolved.")
}

// CanTransition reports whether the lifecycle allows moving from one status to
// another: any forward move, and back from monitoring to identified (the fix
// did not hold). Leaving resolved is a reopen, not a transition.
func CanTransition(from, to Status) error {
	if !from.Valid() || !to.Valid() {
		return fmt.Errorf("%w: %q to %q", ErrInvalidTransition, from, to)
	}
	switch {
	case from == Resolved:
		return fmt.Errorf("%w: the incident is resolved; reopen it first", ErrInvalidTransition)
	case from == to:
		return fmt.Errorf("%w: the incident is already %s", ErrInvalidTransition, to)
	case to.rank() > from.rank():
		return nil
	case from == Monitoring && to == Identified:
		return nil
	default:
		return fmt.Errorf("%w: cannot go back from %s to %s", ErrInvalidTransition, from, to)
	}
}
