package incident

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// feedParser interprets the times of one feed's events.
type feedParser struct {
	loc   *time.Location            // floating times and all-day dates
	zones map[string]*time.Location // TZID → zone, as looked up
}

// event reads one VEVENT. It returns the event (nil when cancelled), its
// RECURRENCE-ID if it replaces an instance of a recurring event, or what
// is wrong with it.
func (p *feedParser) event(ev *ics.VEvent, order int) (fe *feedEvent, rid time.Time, problem string) {
	if prop := ev.GetProperty(ics.ComponentPropertyRecurrenceId); prop != nil {
		var err error
		if rid, _, err = p.time(prop); err != nil {
			return nil, time.Time{}, "RECURRENCE-ID: " + err.Error()
		}
	}
	if s := ev.GetProperty(ics.ComponentPropertyStatus); s != nil && strings.EqualFold(s.Value, "CANCELLED") {
		return nil, rid, ""
	}
	fe = &feedEvent{order: order, who: identities(ev)}
	if len(fe.who) == 0 {
		return nil, rid, "no person: give it an ATTENDEE with the person's email (mailto:ana@example.com), or put the email or Slack user id in its SUMMARY"
	}
	start := ev.GetProperty(ics.ComponentPropertyDtStart)
	if start == nil {
		return nil, rid, "DTSTART is missing"
	}
	var allDay bool
	var err error
	if fe.start, allDay, err = p.time(start); err != nil {
		return nil, rid, "DTSTART: " + err.Error()
	}
	switch end, dur := ev.GetProperty(ics.ComponentPropertyDtEnd), ev.GetProperty(ics.ComponentPropertyDuration); {
	case end != nil:
		t, endAllDay, err := p.time(end)
		if err != nil {
			return nil, rid, "DTEND: " + err.Error()
		}
		switch {
		case allDay && endAllDay:
			fe.wall = wallClock(t, t.Location()).Sub(wallClock(fe.start, fe.start.Location())).Round(24 * time.Hour)
		case t.Location() == fe.start.Location() && fe.start.Location() != time.UTC:
			// Start and end on one zone's wall clock: the occurrences keep
			// it, so a weekly 09:00-09:00 shift ends at 09:00 after a DST
			// change as calendar apps show it. RFC 5545 would keep the
			// exact length, leaving an hour nobody is on call (or two
			// people) every autumn (spring).
			fe.wall = wallClock(t, t.Location()).Sub(wallClock(fe.start, t.Location()))
		default:
			fe.exact = t.Sub(fe.start)
		}
	case dur != nil:
		if fe.wall, fe.exact, err = icalDuration(dur.Value); err != nil {
			return nil, rid, "DURATION: " + err.Error()
		}
	case allDay:
		fe.wall = 24 * time.Hour // RFC 5545 3.6.1: an all-day event without an end lasts the day
	}
	if !fe.end(fe.start).After(fe.start) {
		return nil, rid, "it ends when or before it starts, so it covers no time"
	}
	if err = p.recurrence(ev, fe); err != nil {
		return nil, rid, err.Error()
	}
	return fe, rid, ""
}

// recurrence reads the event's RRULE, RDATE and EXDATE.
func (p *feedParser) recurrence(ev *ics.VEvent, fe *feedEvent) error {
	rules, rdates, exdates := ev.GetProperties(ics.ComponentPropertyRrule), ev.GetProperties(ics.ComponentPropertyRdate), ev.GetProperties(ics.ComponentPropertyExdate)
	if len(rules) == 0 && len(rdates) == 0 {
		return nil
	}
	fe.recurring = true
	for _, r := range rules[:min(len(rules), 1)] { // rrule-go keeps one rule; RFC 5545 deprecates more
		// UNTIL without Z is in DTSTART's zone (RFC 5545 3.3.10).
		opt, err := rrule.StrToROptionInLocation(strings.TrimSpace(r.Value), fe.start.Location())
		if err == nil && (opt.Freq == rrule.MINUTELY || opt.Freq == rrule.SECONDLY) {
			err = errors.New("a shift does not recur every minute or second: use HOURLY, DAILY, WEEKLY or longer")
		}
		if err == nil {
			opt.Dtstart = fe.start
			_, err = rrule.NewRRule(*opt) // checks the bounds of its parts
		}
		if err != nil {
			return fmt.Errorf("RRULE %q: %v", r.Value, err)
		}
		fe.rule = opt
	}
	for _, props := range [][]*ics.IANAProperty{rdates, exdates} {
		for _, prop := range props {
			for v := range strings.SplitSeq(prop.Value, ",") {
				one := *prop
				one.Value = v
				t, _, err := p.time(&one)
				if err != nil {
					return fmt.Errorf("%s: %v", prop.IANAToken, err)
				}
				if prop.IANAToken == string(ics.ComponentPropertyRdate) {
					fe.rdates = append(fe.rdates, t)
				} else {
					fe.exdates = append(fe.exdates, t)
				}
			}
		}
	}
	return nil
}

// occurrences returns an iterator over the starts of a recurring event's
// occurrences, in order. It builds its rrule.Set afresh because iterating
// one sorts its dates in place, which would race between goroutines.
func (e *feedEvent) occurrences() func() (time.Time, bool) {
	set := &rrule.Set{}
	set.RDate(e.start) // DTSTART is the first instance, even when the rule would not produce it
	if e.rule != nil {
		rule, _ := rrule.NewRRule(*e.rule) // checked by recurrence
		set.RRule(rule)
	}
	for _, t := range e.rdates {
		set.RDate(t)
	}
	for _, t := range e.exdates {
		set.ExDate(t)
	}
	return set.Iterator()
}

// time reads a DATE or DATE-TIME property: UTC with Z, in its TZID, or
// floating (the feed's zone). A date is midnight of that day, allDay.
func (p *feedParser) time(prop *ics.IANAProperty) (t time.Time, allDay bool, err error) {
	loc := p.loc
	if tz := param(prop, "TZID"); tz != "" {
		if loc, err = p.zone(tz); err != nil {
			return time.Time{}, false, err
		}
	}
	v := strings.TrimSpace(prop.Value)
	var wall time.Time
	switch {
	case len(v) == 8:
		wall, err = time.Parse("20060102", v)
		allDay = true
	case strings.HasSuffix(v, "Z"):
		t, err = time.Parse("20060102T150405Z", v)
		return t, false, err
	default:
		wall, err = time.Parse("20060102T150405", v)
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is not a date (20260105) or time (20260105T090000, with Z for UTC)", v)
	}
	return wallInstant(wall, loc), allDay, nil
}

// zone returns the zone a TZID names: an IANA name, one prefixed as some
// calendars write it (/mozilla.org/20050126_1/Europe/Berlin), or a common
// Windows name. VTIMEZONE definitions are not read: the zone database is
// the better source of a named zone's rules.
func (p *feedParser) zone(tzid string) (*time.Location, error) {
	tzid = strings.Trim(strings.TrimSpace(tzid), `"`)
	if z, ok := p.zones[tzid]; ok {
		return z, nil
	}
	name := tzid
	if n, ok := windowsZone[tzid]; ok {
		name = n
	} else if m := tzidTailRE.FindString(tzid); m != "" && strings.HasPrefix(tzid, "/") {
		name = m
	}
	z, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q is unknown: export the feed with IANA zone names (Europe/Berlin) or UTC times", tzid)
	}
	p.zones[tzid] = z
	return z, nil
}

// param returns a property parameter's first value; names are case-insensitive.
func param(prop *ics.IANAProperty, name string) string {
	for k, v := range prop.ICalParameters {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// identities returns who an event names, in order: its attendees' emails
// or user ids, else those in its summary. Emails are lower-cased.
func identities(ev *ics.VEvent) []string {
	var out []string
	add := func(s string) {
		switch s = strings.TrimSpace(s); {
		case userIDRE.MatchString(s):
			out = append(out, s)
		case emailRE.MatchString(s):
			out = append(out, strings.ToLower(s))
		}
	}
	for _, a := range ev.GetProperties(ics.ComponentPropertyAttendee) {
		v := a.Value
		if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
			v = v[7:]
		}
		add(v)
	}
	if len(out) == 0 {
		if s := ev.GetProperty(ics.ComponentPropertySummary); s != nil {
			for _, m := range identityRE.FindAllString(s.Value, -1) {
				add(m)
			}
		}
	}
	return out
}

// icalDuration reads an RFC 5545 DURATION: weeks and days are nominal (wall
// clock), hours, minutes and seconds exact.
func icalDuration(s string) (wall, exact time.Duration, err error) {
	m := durationRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, 0, errors.New(strconv.Quote(s) + " is not a duration such as PT12H, P1D or P1W")
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	wall = time.Duration(7*n(2)+n(3)) * 24 * time.Hour
	exact = time.Duration(n(4))*time.Hour + time.Duration(n(5))*time.Minute + time.Duration(n(6))*time.Second
	if m[1] == "-" {
		wall, exact = -wall, -exact
	}
	return wall, exact, nil
}
