package incident

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// AlertRoute is one entry of alert_routes in the escalation file: which
// alerts it takes (by bearer token and label matchers), where they are
// posted, whom they page and at which severity.
type AlertRoute struct {
	Name         string
	TokenEnv     string    // the environment variable holding its bearer token
	Match        []Matcher // all must match; none matches every alert
	Channel      string    // where its alerts are posted
	Page         string    // a policy, or schedule:NAME
	SeverityFrom string    // the label read for the severity; "" is "severity"
	SeverityMap  map[string]Severity
	Declare      Severity      // declare an incident at this severity or worse; 0: never
	Quiet        time.Duration // wait this long before paging
}

// Matcher is one label matcher of a route: an exact value, or a regular
// expression that must match the whole value (as Prometheus' =~ does). A
// missing label has the empty value.
type Matcher struct {
	Label string
	Value string         // the exact value, or the expression as written
	Regex *regexp.Regexp // nil for an exact match
}

// ParseMatcher reads one matcher of a route's match: {team: platform} is an
// exact match, {service: "=~checkout|cart"} a regular expression.
func ParseMatcher(label, value string) (Matcher, error) {
	label = strings.TrimSpace(label)
	if label == "" {
		return Matcher{}, Invalid("A matcher needs a label name.", "Write match: {team: platform}.")
	}
	expr, ok := strings.CutPrefix(value, "=~")
	if !ok {
		return Matcher{Label: label, Value: value}, nil
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return Matcher{}, Invalid(fmt.Sprintf("The matcher for %s is not a regular expression: %v.", label, err),
			`Write e.g. service: "=~checkout|cart" (RE2 syntax, matching the whole value).`)
	}
	return Matcher{Label: label, Value: expr, Regex: re}, nil
}

// ParseMatchers reads a route's match map, in label order.
func ParseMatchers(match map[string]string) ([]Matcher, error) {
	labels := make([]string, 0, len(match))
	for l := range match {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	out := make([]Matcher, 0, len(labels))
	for _, l := range labels {
		m, err := ParseMatcher(l, match[l])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Matches reports whether the labels satisfy the matcher.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Label]
	if m.Regex != nil {
		return m.Regex.MatchString(v)
	}
	return v == m.Value
}

// String writes the matcher as in the escalation file: team=platform, service=~checkout.
func (m Matcher) String() string {
	if m.Regex != nil {
		return m.Label + "=~" + m.Value
	}
	return m.Label + "=" + m.Value
}

// Matches reports whether every matcher of the route matches the labels; a
// route without matchers takes every alert.
func (r AlertRoute) Matches(labels map[string]string) bool {
	for _, m := range r.Match {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// MatchRoute returns the first route matching the labels, as a pointer into
// routes, and whether there was one.
func MatchRoute(routes []AlertRoute, labels map[string]string) (*AlertRoute, bool) {
	for i := range routes {
		if routes[i].Matches(labels) {
			return &routes[i], true
		}
	}
	return nil, false
}

// DefaultSeverityMap maps the usual severity label values to severities.
// A route's SeverityMap takes precedence over it.
var DefaultSeverityMap = map[string]Severity{
	"critical": Sev1,
	"error":    Sev2,
	"warning":  Sev3,
	"info":     Sev4,
}

// Severity reads the route's severity label (SeverityFrom, "severity" when
// empty) from the labels: first in the route's SeverityMap, then in
// DefaultSeverityMap, both case-insensitively, then as a severity name
// ("sev2", "P2", "2"). A missing or unknown value is DefaultSeverity (sev3):
// the middle of the scale, so that a mislabelled alert is neither dropped to
// sev4 nor escalated to sev1 and still pages.
func (r AlertRoute) Severity(labels map[string]string) Severity {
	from := r.SeverityFrom
	if from == "" {
		from = "severity"
	}
	v := strings.TrimSpace(labels[from])
	if v == "" {
		return DefaultSeverity
	}
	for _, m := range []map[string]Severity{r.SeverityMap, DefaultSeverityMap} {
		if s, ok := m[v]; ok && s.Valid() { // an exact key wins over one differing in case
			return s
		}
		for k, s := range m {
			if strings.EqualFold(strings.TrimSpace(k), v) && s.Valid() {
				return s
			}
		}
	}
	if s, err := ParseSeverity(v); err == nil {
		return s
	}
	return DefaultSeverity
}

// AutoDeclare reports whether an alert of severity s declares an incident
// by itself: the route has a Declare severity and s is it or worse.
func (r AlertRoute) AutoDeclare(s Severity) bool {
	return r.Declare.Valid() && s.Valid() && s <= r.Declare
}
