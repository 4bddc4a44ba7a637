package incident

import (
	"fmt"
	"strings"
)

// Severity ranks an incident's impact: Sev1 is the worst. The zero value is
// not a valid severity.
type Severity int

// The four severities, from worst to mildest.
const (
	Sev1 Severity = iota + 1
	Sev2
	Sev3
	Sev4
)

// DefaultSeverity is used when a declaration names none.
const DefaultSeverity = Sev3

// Severities lists every valid severity, worst first.
var Severities = []Severity{Sev1, Sev2, Sev3, Sev4}

var severityMeaning = map[Severity]string{
	Sev1: "complete outage of a critical service, or data loss",
	Sev2: "major degradation of a critical service, or many customers affected",
	Sev3: "partial degradation or a minor service down; a workaround exists",
	Sev4: "minor issue with little customer impact",
}

// String returns the severity's name, e.g. "sev1".
func (s Severity) String() string {
	if !s.Valid() {
		return fmt.Sprintf("sev?(%d)", int(s))
	}
	return fmt.Sprintf("sev%d", int(s))
}

// Label returns the upper-case form used in headings, e.g. "SEV1".
func (s Severity) Label() string { return strings.ToUpper(s.String()) }

// Meaning returns the one-line description of the severity.
func (s Severity) Meaning() string { return severityMeaning[s] }

// Valid reports whether s is one of Sev1..Sev4.
func (s Severity) Valid() bool { return s >= Sev1 && s <= Sev4 }

// WorseThan reports whether s is more severe than o.
func (s Severity) WorseThan(o Severity) bool { return s.Valid() && (!o.Valid() || s < o) }

// ParseSeverity reads "sev1".."sev4", also accepting "SEV2", "s2", "p2" and a bare "2".
func ParseSeverity(text string) (Severity, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	for _, prefix := range []string{"sev", "s", "p"} {
		if rest, ok := strings.CutPrefix(t, prefix); ok {
			t = rest
			break
		}
	}
	if len(t) == 1 && t[0] >= '1' && t[0] <= '4' {
		return Severity(t[0] - '0'), nil
	}
	return 0, Invalid(fmt.Sprintf("%q is not a severity.", text), "Use sev1, sev2, sev3 or sev4 (sev1 is the worst).")
}

// LooksLikeSeverity reports whether a word is meant as a severity, so that a
// title starting with "sev5" is refused rather than read as a title.
func LooksLikeSeverity(word string) bool {
	w := strings.ToLower(word)
	if len(w) < 4 || !strings.HasPrefix(w, "sev") {
		return false
	}
	for _, r := range w[3:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
