package incident

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The alert_routes: part of the escalation file, checked as the policies
// are: every problem at once, each naming the route and the field, with an
// example of a valid value. It is checked after the policies and schedules,
// since a route's page names one of them.

type rawAlertRoute struct {
	Name         string            `yaml:"name"`
	TokenEnv     string            `yaml:"token_env"`
	Match        rawMatch          `yaml:"match"`
	Channel      string            `yaml:"channel"`
	Page         string            `yaml:"page"`
	SeverityFrom string            `yaml:"severity_from"`
	SeverityMap  rawSeverityMapped `yaml:"severity_map"`
	Declare      string            `yaml:"declare"`
	Quiet        string            `yaml:"quiet"`
}

// rawMatch and rawSeverityMapped are named so that a misshapen one is
// reported in its own terms, not as severity_defaults (a map[string]string).
type (
	rawMatch          map[string]string
	rawSeverityMapped map[string]string
)

// alertRouteTypeNames turns the library's names for the route types into
// the user's terms (see typeNames).
var alertRouteTypeNames = []string{
	" not found in type incident.rawAlertRoute", " is unknown in an alert route (fields: name, token_env, match, channel, page, severity_from, severity_map, declare, quiet)",
	"into []incident.rawAlertRoute", "into alert_routes: it must be a list of routes, each starting with - name:",
	"into incident.rawAlertRoute", "into an alert route: it must be a mapping with name, token_env, channel and optionally match, page, severity_from, severity_map, declare and quiet",
	"into incident.rawMatch", "into match: it must be a mapping of label to value, e.g. match: {team: platform, service: \"=~checkout|cart\"}",
	"into incident.rawSeverityMapped", "into severity_map: it must be a mapping of label value to severity, e.g. severity_map: {P1: sev1, page: sev2}",
}

// tokenEnvRE is an environment variable name as a shell accepts one.
var tokenEnvRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// MaxAlertQuiet is the longest quiet: a route may wait before paging. A
// longer wait is a mistake (an alert nobody hears of for a day).
const MaxAlertQuiet = 24 * time.Hour

// AlertRoute returns the alert route with the name, ignoring case and
// surrounding spaces.
func (p *Policies) AlertRoute(name string) (*AlertRoute, bool) {
	name = strings.TrimSpace(name)
	if p == nil || name == "" {
		return nil, false
	}
	for i := range p.AlertRoutes {
		if strings.EqualFold(p.AlertRoutes[i].Name, name) {
			return &p.AlertRoutes[i], true
		}
	}
	return nil, false
}

// alertRoutes checks the routes in file order. ps holds the policies and
// schedules already read, which a route's page may name.
func (v *validator) alertRoutes(raw []rawAlertRoute, ps *Policies) []AlertRoute {
	var out []AlertRoute
	seen := map[string]bool{}
	catchAll := map[string]string{} // token_env → the label of the first route taking every alert sent with it
	for i, rr := range raw {
		r, label := v.alertRoute(i, rr, ps)
		if key := strings.ToLower(r.Name); key != "" && seen[key] {
			v.addf("%s: defined twice (names are case-insensitive)", label)
		} else if key != "" {
			seen[key] = true
		}
		// Routes sharing a token are tried in order, so one after a route
		// without match would never see an alert: say so rather than let
		// its alerts go silently to the other channel.
		if r.TokenEnv != "" {
			if first, ok := catchAll[r.TokenEnv]; ok {
				v.addf("%s: never receives an alert: %s before it has the same token_env %s and no match, so it takes every alert: move this route before it, or give that one a match", label, first, r.TokenEnv)
			} else if len(rr.Match) == 0 {
				catchAll[r.TokenEnv] = label
			}
		}
		out = append(out, r)
	}
	return out
}

// alertRoute checks one route and returns it with the label its problems
// are reported under.
func (v *validator) alertRoute(i int, rr rawAlertRoute, ps *Policies) (AlertRoute, string) {
	r := AlertRoute{Name: strings.TrimSpace(rr.Name), TokenEnv: strings.TrimSpace(rr.TokenEnv),
		Channel: strings.TrimSpace(rr.Channel), SeverityFrom: strings.TrimSpace(rr.SeverityFrom)}
	label := fmt.Sprintf("alert route %d", i+1)
	if r.Name == "" {
		v.addf("%s: name is missing: write e.g. name: platform", label)
	} else {
		label = fmt.Sprintf("alert route %q", r.Name)
		if !policyNameRE.MatchString(r.Name) {
			v.addf("%s: name must be lowercase letters, digits, - or _ (it is shown on alerts and kept with them): at most 40, starting with a letter or digit, e.g. name: platform", label)
		}
	}
	switch {
	case r.TokenEnv == "":
		v.addf("%s: token_env is missing: write the name of the environment variable holding the route's bearer token, e.g. token_env: PLATFORM_ALERTS_TOKEN", label)
	case !tokenEnvRE.MatchString(r.TokenEnv):
		// The value may be the token itself, pasted in the wrong place.
		v.addf("%s: token_env (%q) is not an environment variable name: write the NAME of the variable holding the token (letters, digits and _, not starting with a digit), e.g. token_env: PLATFORM_ALERTS_TOKEN, never the token itself", label, abbreviate(r.TokenEnv))
	}
	switch {
	case r.Channel == "":
		v.addf("%s: channel is missing: write the id of the channel its alerts are posted in, e.g. channel: C0PLATALERTS", label)
	case !channelIDRE.MatchString(r.Channel):
		v.addf("%s: channel %q is not a channel id: write the id (C… or G…, in the channel's details), not its name, e.g. channel: C0PLATALERTS", label, r.Channel)
	}
	r.Page = v.alertPage(label, strings.TrimSpace(rr.Page), ps)
	r.Match = v.matchers(label, rr.Match)
	if len(rr.SeverityMap) > 0 {
		r.SeverityMap = map[string]Severity{}
	}
	for _, key := range slices.Sorted(maps.Keys(rr.SeverityMap)) {
		val := rr.SeverityMap[key]
		s, err := ParseSeverity(val)
		switch {
		case strings.TrimSpace(key) == "":
			v.addf("%s: severity_map has an empty label value: write e.g. severity_map: {P1: sev1}", label)
		case err != nil:
			v.addf("%s: severity_map %s: %q is not a severity: use sev1, sev2, sev3 or sev4, e.g. severity_map: {%s: sev2}", label, key, val, key)
		default:
			r.SeverityMap[key] = s
		}
	}
	if d := strings.TrimSpace(rr.Declare); d != "" {
		if s, err := ParseSeverity(d); err != nil {
			v.addf("%s: declare %q is not a severity: write the least severe alert that declares an incident by itself, e.g. declare: sev1 (leave it out to always ask with a button)", label, rr.Declare)
		} else {
			r.Declare = s
		}
	}
	if q := strings.TrimSpace(rr.Quiet); q != "" {
		switch d, err := time.ParseDuration(q); {
		case err != nil:
			v.addf("%s: quiet %q is not a duration: write e.g. quiet: 2m (or 0 to page at once)", label, rr.Quiet)
		case d < 0 || d > MaxAlertQuiet:
			v.addf("%s: quiet %s must be between 0 and 24h: write e.g. quiet: 2m", label, q)
		default:
			r.Quiet = d
		}
	}
	return r, label
}

// alertPage checks a route's page: a policy, schedule:NAME, or nothing (the
// alerts are posted and nobody is paged). It returns the name as defined.
func (v *validator) alertPage(label, page string, ps *Policies) string {
	if page == "" {
		return ""
	}
	if Target(page).Kind() == TargetSchedule {
		t, problem := v.scheduleTarget(Target(page))
		if problem != "" {
			v.addf("%s: page %q: %s", label, t.Redacted(), problem)
		}
		return string(t)
	}
	if p, ok := ps.Get(page); ok {
		return p.Name
	}
	defined := make([]string, 0, len(ps.List))
	for _, p := range ps.List {
		if p.Name != "" {
			defined = append(defined, p.Name)
		}
	}
	if len(defined) == 0 {
		defined = []string{"none"}
	}
	v.addf("%s: page %q is not a policy defined under policies: (defined: %s): write a policy's name, schedule:<name> for whoever is on call, or leave page out to post without paging",
		label, Target(page).Redacted(), strings.Join(defined, ", "))
	return page
}

// matchers reads a route's match, reporting every bad matcher rather than
// the first (ParseMatchers stops at one).
func (v *validator) matchers(label string, match rawMatch) []Matcher {
	var out []Matcher
	for _, l := range slices.Sorted(maps.Keys(match)) {
		m, err := ParseMatcher(l, match[l])
		if err != nil {
			v.addf("%s: match %q: %v", label, l, err)
			continue
		}
		out = append(out, m)
	}
	return out
}
