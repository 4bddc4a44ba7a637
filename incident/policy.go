package incident

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// TargetKind says what a target is.
type TargetKind int

// The kinds of target. The zero TargetKind is an unrecognised target.
const (
	TargetUser      TargetKind = iota + 1 // a Slack user id, U… or W…
	TargetGroup                           // a Slack user group id, S…
	TargetPagerDuty                       // pagerduty:<routing key>
	TargetOpsgenie                        // opsgenie:<name of the env var holding the API key>
	TargetWebhook                         // webhook:<http(s) URL>
	TargetJSM                             // jsm:<name of the env var holding the API key>
	TargetSchedule                        // schedule:<name>: whoever is on call in that schedule
)

// schedulePrefix makes a target a schedule's.
const schedulePrefix = "schedule:"

// providerPrefix is what makes a target a provider's. Whether the value
// after it is valid is the provider's to say (paging/provider), through the
// check given to ParsePolicies; this package knows only the shape.
var providerPrefix = map[TargetKind]string{TargetPagerDuty: "pagerduty:", TargetOpsgenie: "opsgenie:", TargetWebhook: "webhook:", TargetJSM: "jsm:"}

var (
	policyNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	userIDRE     = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)
	groupIDRE    = regexp.MustCompile(`^S[A-Z0-9]{6,}$`)
	envNameRE    = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

// Target is one escalation target as written in the file, e.g. "U0123ABCD" or "pagerduty:KEY".
type Target string

// Kind returns what the target is, or 0 when it is unrecognised. A provider
// target's kind comes from its prefix alone: its value may still be invalid.
func (t Target) Kind() TargetKind {
	if strings.HasPrefix(string(t), schedulePrefix) {
		return TargetSchedule
	}
	for _, k := range []TargetKind{TargetPagerDuty, TargetOpsgenie, TargetWebhook, TargetJSM} {
		if strings.HasPrefix(string(t), providerPrefix[k]) {
			return k
		}
	}
	switch {
	case userIDRE.MatchString(string(t)):
		return TargetUser
	case groupIDRE.MatchString(string(t)):
		return TargetGroup
	}
	return 0
}

// Value returns the part after "pagerduty:", "opsgenie:", "webhook:",
// "jsm:" or "schedule:", or the id itself.
func (t Target) Value() string {
	if t.Kind() == TargetSchedule {
		return strings.TrimPrefix(string(t), schedulePrefix)
	}
	if p, ok := providerPrefix[t.Kind()]; ok {
		return strings.TrimPrefix(string(t), p)
	}
	return string(t)
}

// Provider reports whether the target is paged through PagerDuty, Opsgenie, JSM or a webhook.
func (t Target) Provider() bool {
	_, ok := providerPrefix[t.Kind()]
	return ok
}

// Redacted returns the target in a form safe to log or show: ids and the
// Opsgenie env var name as they are, a PagerDuty key cut to its first three
// characters ("pagerduty:R0U…"), a webhook cut to its scheme and host
// ("webhook:https://hooks.example.com/…"). An unrecognised target, which may
// be a key or URL pasted without its prefix, is cut at its first colon, and
// to three characters when longer than 24.
func (t Target) Redacted() string {
	v := t.Value()
	switch t.Kind() {
	case TargetUser, TargetGroup:
		return v
	case TargetSchedule:
		if policyNameRE.MatchString(v) {
			return string(t)
		}
		return schedulePrefix + abbreviate(v) // not a name: maybe a pasted secret
	case TargetPagerDuty:
		return "pagerduty:" + abbreviate(v)
	case TargetOpsgenie, TargetJSM:
		if envNameRE.MatchString(v) {
			return string(t)
		}
		return providerPrefix[t.Kind()] + abbreviate(v)
	case TargetWebhook:
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "webhook:…"
		}
		return "webhook:" + u.Scheme + "://" + u.Host + "/…"
	}
	head, _, colon := strings.Cut(v, ":")
	if len(head) > 24 {
		head = abbreviate(head)
	}
	if colon {
		head += ":…"
	}
	return head
}

// abbreviate keeps a long secret's first three characters, and none of a short one.
func abbreviate(s string) string {
	if r := []rune(s); len(r) > 6 {
		return string(r[:3]) + "…"
	}
	return "…"
}

// Level is one step of a policy.
type Level struct {
	Targets []Target      // who is paged at this level
	Timeout time.Duration // how long to wait for an acknowledgement before the next level
}

// Policy is an escalation policy.
type Policy struct {
	Name        string  // lowercase, typed in /incident page <name>
	Description string  // optional
	Levels      []Level // paged in order
	Repeat      int     // how many more times to run through all levels after the last one, 0-9
}

// Policies are the loaded escalation policies, the on-call schedules
// their levels may page, and the alert routes that page them.
type Policies struct {
	List             []Policy            // in file order
	SeverityDefaults map[Severity]string // severity → policy name
	Schedules        []Schedule          // in file order; nil when there are none
	AlertRoutes      []AlertRoute        // in file order, the order they are tried in; nil when there are none
}

// Get returns the policy with the name, ignoring case and surrounding spaces.
func (p *Policies) Get(name string) (*Policy, bool) {
	name = strings.TrimSpace(name)
	if p == nil || name == "" {
		return nil, false
	}
	for i := range p.List {
		if strings.EqualFold(p.List[i].Name, name) {
			return &p.List[i], true
		}
	}
	return nil, false
}

// ForSeverity returns the policy paged by default for incidents of severity s.
func (p *Policies) ForSeverity(s Severity) (*Policy, bool) {
	if p == nil {
		return nil, false
	}
	return p.Get(p.SeverityDefaults[s])
}

// Empty reports whether no policy is defined.
func (p *Policies) Empty() bool { return p == nil || len(p.List) == 0 }

// CheckTarget says what is wrong with a provider target's value (nil: it is
// usable). Each paging provider checks its own (paging/provider's
// Set.Check); the message says what a valid one looks like and quotes no
// secret.
type CheckTarget func(target string) error

// ParsePolicies reads and checks an escalation file. Every problem is
// reported at once in an error matching ErrInvalidInput; no secret (a key, a
// webhook path, an environment variable's value) appears in it. check
// validates provider targets' values; nil checks only their shape.
func ParsePolicies(data []byte, check CheckTarget) (*Policies, error) {
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err == io.EOF {
		return &Policies{}, nil
	} else if err != nil {
		msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")} // keeps the line number
		if te := (*yaml.TypeError)(nil); errors.As(err, &te) {
			msgs = te.Errors
		}
		v := &validator{}
		for _, msg := range msgs {
			v.addf("%s", typeNames.Replace(msg))
		}
		return nil, fileError(v.errs)
	}
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		return nil, fileError([]error{Problemf(ErrInvalidInput, "only one YAML document is allowed: remove the --- separator and put every policy under one policies:")})
	}
	v := &validator{check: check, seen: map[string]bool{}}
	v.scheduleNames(raw.Schedules)
	ps := &Policies{SeverityDefaults: map[Severity]string{}}
	var defined []string
	for i, rp := range raw.Policies {
		ps.List = append(ps.List, v.policy(i, rp))
		if rp.Name != "" {
			defined = append(defined, rp.Name)
		}
	}
	for i, rs := range raw.Schedules {
		ps.Schedules = append(ps.Schedules, v.schedule(i, rs))
	}
	if defined == nil {
		defined = []string{"none"}
	}
	keys := map[Severity]string{} // severity → how the file first wrote it
	for _, key := range slices.Sorted(maps.Keys(raw.SeverityDefaults)) {
		name := strings.TrimSpace(raw.SeverityDefaults[key])
		sev, err := ParseSeverity(key)
		first, twice := keys[sev]
		if err == nil && !twice {
			keys[sev] = key
		}
		p, found := ps.Get(name)
		switch {
		case err != nil:
			v.addf("severity_defaults: %q is not a severity: use sev1, sev2, sev3 or sev4", key)
		case twice:
			v.addf("severity_defaults: %s is given twice (as %q and %q): keep one", sev, first, key)
		case name == "":
			v.addf("severity_defaults: %s names no policy: write e.g. %s: platform", sev, sev)
		case !found:
			v.addf("severity_defaults: %s names policy %q, which is not defined (defined: %s)", sev, name, strings.Join(defined, ", "))
		default:
			ps.SeverityDefaults[sev] = p.Name
		}
	}
	ps.AlertRoutes = v.alertRoutes(raw.AlertRoutes, ps)
	if len(v.errs) > 0 {
		return nil, fileError(v.errs)
	}
	return ps, nil
}

func fileError(errs []error) error { return fmt.Errorf("escalation file: %w", errors.Join(errs...)) }

type validator struct {
	check CheckTarget
	seen  map[string]bool // lowercased policy names
	errs  []error

	schedules    map[string]string // lowercased schedule name → as defined (the first)
	scheduleList []string          // the names, in file order
	schedSeen    map[string]bool   // lowercased names of schedules checked so far
	usergroups   map[string]string // user group → the schedule keeping it
}

func (v *validator) addf(format string, args ...any) {
	v.errs = append(v.errs, Problemf(ErrInvalidInput, format, args...))
}

func (v *validator) policy(i int, rp rawPolicy) Policy {
	p := Policy{Name: rp.Name, Description: strings.TrimSpace(rp.Description), Repeat: rp.Repeat}
	label := fmt.Sprintf("policy %d", i+1)
	if rp.Name == "" {
		v.addf("%s: name is missing: write e.g. name: platform", label)
	} else {
		label = fmt.Sprintf("policy %q", rp.Name)
		if !policyNameRE.MatchString(rp.Name) {
			v.addf("%s: name must be lowercase letters, digits, - or _ (it is typed in /incident page <name>): at most 40, starting with a letter or digit, e.g. name: platform", label)
		}
		if key := strings.ToLower(rp.Name); v.seen[key] {
			v.addf("%s: defined twice (names are case-insensitive)", label)
		} else {
			v.seen[key] = true
		}
	}
	if rp.Repeat < 0 || rp.Repeat > 9 {
		v.addf("%s: repeat must be between 0 and 9 (got %d)", label, rp.Repeat)
	}
	if len(rp.Levels) == 0 {
		v.addf("%s: levels are missing: add at least one level with targets and a timeout", label)
	}
	for j, rl := range rp.Levels {
		p.Levels = append(p.Levels, v.level(fmt.Sprintf("%s level %d", label, j+1), rl))
	}
	return p
}

func (v *validator) level(label string, rl rawLevel) Level {
	var l Level
	if len(rl.Targets) == 0 {
		v.addf("%s: targets are missing: list user ids (U…), user group ids (S…) or pagerduty:/opsgenie:/webhook:/jsm: targets (or schedule:<name>)", label)
	}
	seen := map[Target]bool{}
	for k, s := range rl.Targets {
		t := Target(strings.TrimSpace(s))
		problem := v.target(t)
		if t.Kind() == TargetSchedule {
			t, problem = v.scheduleTarget(t)
		}
		if problem != "" {
			v.addf("%s target %d (%q): %s", label, k+1, t.Redacted(), problem)
		} else if seen[t] {
			v.addf("%s target %d (%q): listed twice in this level: remove one", label, k+1, t.Redacted())
		}
		seen[t] = true
		l.Targets = append(l.Targets, t)
	}
	switch d, err := time.ParseDuration(rl.Timeout); {
	case rl.Timeout == "":
		v.addf("%s: timeout is missing: write e.g. timeout: 5m", label)
	case err != nil:
		v.addf("%s: timeout %q is not a duration: write e.g. 5m or 1h30m", label, rl.Timeout)
	case d < time.Minute || d > 24*time.Hour:
		v.addf("%s: timeout %s must be between 1m and 24h: write e.g. timeout: 5m", label, rl.Timeout)
	default:
		l.Timeout = d
	}
	return l
}

// target returns what is wrong with t, or "".
func (v *validator) target(t Target) string {
	switch t.Kind() {
	case TargetUser, TargetGroup, TargetSchedule: // a schedule is checked by scheduleTarget
		return ""
	case TargetPagerDuty, TargetOpsgenie, TargetWebhook, TargetJSM:
		if v.check == nil {
			return ""
		}
		if err := v.check(string(t)); err != nil {
			return err.Error()
		}
	default:
		if l := strings.ToLower(string(t)); strings.HasPrefix(l, "http:") || strings.HasPrefix(l, "https:") {
			return "not a target: a URL needs the webhook: prefix, e.g. webhook:https://hooks.example.com/page"
		}
		return "not a target: use a user id such as U0123ABCD (not a name), a user group id such as S0456EFGH, pagerduty:<routing key>, opsgenie:<ENV_VAR holding the API key>, jsm:<ENV_VAR holding the API key> or webhook:https://…, or schedule:<name> for whoever is on call"
	}
	return ""
}
