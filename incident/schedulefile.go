package incident

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// The schedules: part of the escalation file, checked as the policies are:
// every problem at once, each naming the schedule, the rotation and the
// field, with an example of a valid value.

type rawSchedule struct {
	Name           string        `yaml:"name"`
	Description    string        `yaml:"description"`
	TimeZone       string        `yaml:"time_zone"`
	Usergroup      string        `yaml:"usergroup"`
	HandoffChannel string        `yaml:"handoff_channel"`
	Rotations      []rawRotation `yaml:"rotations"`
	ICal           string        `yaml:"ical"`
}

type rawRotation struct {
	Name         string   `yaml:"name"`
	Start        string   `yaml:"start"`
	Shift        string   `yaml:"shift"`
	Participants []string `yaml:"participants"`
	Only         []string `yaml:"only"`
}

// scheduleTypeNames turns the library's names for the schedule types into
// the user's terms (see typeNames).
var scheduleTypeNames = []string{
	" not found in type incident.rawSchedule", " is unknown in a schedule (fields: name, description, time_zone, usergroup, handoff_channel, rotations, ical)",
	" not found in type incident.rawRotation", " is unknown in a rotation (fields: name, start, shift, participants, only)",
	"into []incident.rawSchedule", "into schedules: it must be a list of schedules, each starting with - name:",
	"into []incident.rawRotation", "into rotations: it must be a list of rotations, each starting with - name:",
	"into incident.rawSchedule", "into a schedule: it must be a mapping with name, time_zone and rotations (or ical)",
	"into incident.rawRotation", "into a rotation: it must be a mapping with name, start, shift and participants",
	"into []string", "into a list: write e.g. participants: [U01ANA0001, U02BOB0002] or only: [\"sat 00:00-24:00\"]",
}

var channelIDRE = regexp.MustCompile(`^[CG][A-Z0-9]{6,}$`)

// startLayout is how a rotation's start is written: local wall time.
const startLayout = "2006-01-02T15:04"

// Schedule returns the schedule with the name, ignoring case and surrounding spaces.
func (p *Policies) Schedule(name string) (*Schedule, bool) {
	name = strings.TrimSpace(name)
	if p == nil || name == "" {
		return nil, false
	}
	for i := range p.Schedules {
		if strings.EqualFold(p.Schedules[i].Name, name) {
			return &p.Schedules[i], true
		}
	}
	return nil, false
}

// scheduleNames records the schedules' names before the policies are
// checked, so that a level's schedule:NAME target can be checked.
func (v *validator) scheduleNames(raw []rawSchedule) {
	v.schedules, v.schedSeen, v.usergroups = map[string]string{}, map[string]bool{}, map[string]string{}
	for _, rs := range raw {
		if key := strings.ToLower(strings.TrimSpace(rs.Name)); key != "" && v.schedules[key] == "" {
			v.schedules[key] = rs.Name
			v.scheduleList = append(v.scheduleList, rs.Name)
		}
	}
}

// scheduleTarget checks a schedule:NAME target and returns it with the
// schedule's name as defined, or what is wrong with it.
func (v *validator) scheduleTarget(t Target) (Target, string) {
	name, ok := v.schedules[strings.ToLower(strings.TrimSpace(t.Value()))]
	if !ok {
		defined := "none"
		if len(v.scheduleList) > 0 {
			defined = strings.Join(v.scheduleList, ", ")
		}
		return t, fmt.Sprintf("no schedule of that name is defined under schedules: (defined: %s)", defined)
	}
	return Target("schedule:" + name), ""
}

func (v *validator) schedule(i int, rs rawSchedule) Schedule {
	s := Schedule{Name: rs.Name, Description: strings.TrimSpace(rs.Description), Location: time.UTC,
		Usergroup: strings.TrimSpace(rs.Usergroup), HandoffChannel: strings.TrimSpace(rs.HandoffChannel), ICal: strings.TrimSpace(rs.ICal)}
	label := fmt.Sprintf("schedule %d", i+1)
	if rs.Name == "" {
		v.addf("%s: name is missing: write e.g. name: platform-primary", label)
	} else {
		label = fmt.Sprintf("schedule %q", rs.Name)
		if !policyNameRE.MatchString(rs.Name) {
			v.addf("%s: name must be lowercase letters, digits, - or _ (it is typed in /incident oncall <name> and in schedule:<name> targets): at most 40, starting with a letter or digit, e.g. name: platform-primary", label)
		}
		if key := strings.ToLower(rs.Name); v.schedSeen[key] {
			v.addf("%s: defined twice (names are case-insensitive)", label)
		} else if v.schedSeen[key] = true; v.seen[key] {
			v.addf("%s: a policy has the same name, and both are typed after /incident oncall: give the schedule another, e.g. name: %s-oncall", label, key)
		}
	}
	switch tz := strings.TrimSpace(rs.TimeZone); {
	case tz == "" && s.ICal == "":
		v.addf("%s: time_zone is missing: write the IANA zone the rota keeps its local times in, e.g. time_zone: Europe/Berlin (or UTC)", label)
	case tz == "":
	default:
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			v.addf("%s: time_zone %q is not an IANA time zone: write e.g. time_zone: Europe/Berlin, America/New_York or UTC", label, tz)
		} else {
			s.Location = loc
		}
	}
	if s.Usergroup != "" {
		if !groupIDRE.MatchString(s.Usergroup) {
			v.addf("%s: usergroup %q is not a user group id: write the id (S…), not the @handle, e.g. usergroup: S0PLATONCALL", label, s.Usergroup)
		} else if other, taken := v.usergroups[s.Usergroup]; taken {
			v.addf("%s: usergroup %s is also schedule %q's: the bot keeps a group equal to one schedule's on-call, so give each its own", label, s.Usergroup, other)
		} else {
			v.usergroups[s.Usergroup] = rs.Name
		}
	}
	if s.HandoffChannel != "" && !channelIDRE.MatchString(s.HandoffChannel) {
		v.addf("%s: handoff_channel %q is not a channel id: write the id (C…, in the channel's details), not its name, e.g. handoff_channel: C0PLATFORM", label, s.HandoffChannel)
	}
	switch {
	case s.ICal != "" && len(rs.Rotations) > 0:
		v.addf("%s: has both rotations and ical: keep one (a feed's events are the whole schedule)", label)
	case s.ICal != "":
		if problem := icalSource(s.ICal); problem != "" {
			v.addf("%s: ical %q: %s", label, redactURL(s.ICal), problem)
		}
	case len(rs.Rotations) == 0:
		v.addf("%s: rotations are missing: add at least one rotation (name, start, shift, participants), or give ical: a feed's path or https URL", label)
	}
	seen := map[string]bool{}
	for j, rr := range rs.Rotations {
		s.Rotations = append(s.Rotations, v.rotation(label, j, rr, s.Location, seen))
	}
	return s
}

func (v *validator) rotation(schedule string, j int, rr rawRotation, loc *time.Location, seen map[string]bool) Rotation {
	r := Rotation{Name: rr.Name}
	label := fmt.Sprintf("%s rotation %d", schedule, j+1)
	if rr.Name == "" {
		v.addf("%s: name is missing: write e.g. name: weekly", label)
	} else {
		label = fmt.Sprintf("%s rotation %q", schedule, rr.Name)
		if !policyNameRE.MatchString(rr.Name) {
			v.addf("%s: name must be lowercase letters, digits, - or _, at most 40, e.g. name: weekly", label)
		}
		if key := strings.ToLower(rr.Name); seen[key] {
			v.addf("%s: defined twice in this schedule", label)
		} else {
			seen[key] = true
		}
	}
	switch wall, err := time.Parse(startLayout, strings.TrimSpace(rr.Start)); {
	case rr.Start == "":
		v.addf("%s: start is missing: write the local time (in time_zone) the first shift starts, e.g. start: 2026-01-05T09:00", label)
	case err != nil:
		v.addf("%s: start %q is not a local date and time: write e.g. start: 2026-01-05T09:00 (no seconds, no offset: the time is in time_zone)", label, rr.Start)
	case !exists(wall, loc):
		v.addf("%s: start %s does not exist in %s (the clocks skip it): pick a time outside the DST change, e.g. an hour later", label, rr.Start, loc)
	default:
		r.Start = wallInstant(wall, loc)
	}
	if rr.Shift == "" {
		v.addf("%s: shift is missing: write e.g. shift: 1w (a whole number of h, d or w: 12h, 1d, 1w, 2w)", label)
	} else if d, err := ParseShiftLength(strings.TrimSpace(rr.Shift)); err != nil {
		v.addf("%s: %v", label, err)
	} else {
		r.Length = d
	}
	if len(rr.Participants) == 0 {
		v.addf("%s: participants are missing: list user ids in the order they take shifts, e.g. participants: [U01ANA0001, U02BOB0002]", label)
	}
	for k, p := range rr.Participants {
		p = strings.TrimSpace(p)
		if !userIDRE.MatchString(p) {
			v.addf("%s participant %d (%q): not a user id: use the id such as U0123ABCD (profile → ⋮ → Copy member ID), not a name", label, k+1, p)
		}
		r.Participants = append(r.Participants, p)
	}
	for k, o := range rr.Only {
		w, err := ParseWindow(o)
		if err != nil {
			v.addf("%s only %d (%q): %v", label, k+1, o, err)
		}
		r.Only = append(r.Only, w)
	}
	return r
}

// icalSource says what is wrong with a feed's location, or "".
func icalSource(s string) string {
	if !strings.Contains(s, "://") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "https") {
		return "not a file path or an https URL: write e.g. ical: /etc/incidentbot/vendor.ics or ical: https://example.pagerduty.com/private/…/feed.ics"
	}
	return ""
}

// redactURL cuts a URL to its scheme and host: a feed's path often holds
// its secret (Google's private-…, PagerDuty's token). A path is shown whole.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host + "/…"
	}
	return "…"
}

// ICalRedacted returns the feed's location in a form safe to log or show:
// a path whole, a URL cut to its scheme and host.
func (s *Schedule) ICalRedacted() string { return redactURL(s.ICal) }
