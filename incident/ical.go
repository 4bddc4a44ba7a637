package incident

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// Calendar feeds are read with github.com/arran4/golang-ical, and their
// recurrences expanded with github.com/teambition/rrule-go. golang-ical does
// the RFC 5545 lexing (unfolding, parameters, TEXT unescaping) and writes
// calendars with CRLF and lines folded at 75 octets on UTF-8 boundaries; it
// has no dependencies beyond the standard library and is maintained (v0.3.x,
// 2025). It has no recurrence engine, and reads floating times in the
// server's zone (time.Local), so times are interpreted here. rrule-go is the
// port of python-dateutil's rrule, the usual Go implementation of RRULE
// (BYDAY, BYSETPOS, UNTIL, COUNT, EXDATE and RDATE sets), dependency-free;
// it generates occurrences on the wall clock of DTSTART's zone, which is
// what RFC 5545 requires across DST.

// MaxFeedSize caps a calendar feed, as MaxPolicyFileSize caps the file: a
// year of daily shifts is well under 1 MiB.
const MaxFeedSize = 8 << 20

// maxOccurrences bounds the expansion of one recurring event in one
// evaluation, so that a rule from years ago recurring hourly cannot stall
// paging; that many occurrences are 11 years of hourly shifts.
const maxOccurrences = 100_000

// Feed is a calendar feed's events, read by ParseFeed: each event is a shift
// of the person it names. A Feed is not changed once made (Resolve returns a
// new one), so it may be read from several goroutines.
type Feed struct {
	// Events is how many events were read, a recurring one once.
	Events int
	// Problems are the events skipped, each named, e.g. `event "Primary"
	// (UID 42@example.com): DTSTART is missing`. They are not fatal: the
	// rest of the feed is used.
	Problems []string
	events   []feedEvent
	ids      map[string]string // lower-case email → Slack user id
}

// feedEvent is one VEVENT, recurring or not.
type feedEvent struct {
	who   []string // Slack user ids and lower-case emails, in order of preference
	start time.Time
	wall  time.Duration // an occurrence ends this long on the wall clock after it starts,
	exact time.Duration // and then this long
	order int
	// A recurring event's RRULE (nil if none), RDATEs and EXDATEs; the
	// EXDATEs include instances replaced by another event (RECURRENCE-ID).
	recurring       bool
	rule            *rrule.ROption
	rdates, exdates []time.Time
}

var (
	emailRE     = regexp.MustCompile(`^[^\s@<>"(),;:]+@[^\s@<>"(),;:]+\.[^\s@<>"(),;:]+$`)
	identityRE  = regexp.MustCompile(`[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|\b[UW][A-Z0-9]{6,}\b`)
	durationRE  = regexp.MustCompile(`^([+-])?P(?:([0-9]+)W)?(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?$`)
	tzidTailRE  = regexp.MustCompile(`([A-Za-z_]+/[A-Za-z_+-]+(?:/[A-Za-z_+-]+)?)$`)
	windowsZone = map[string]string{ // the commonest Windows names (CLDR windowsZones, territory 001), as Outlook writes them
		"UTC": "UTC", "GMT Standard Time": "Europe/London", "Greenwich Standard Time": "Atlantic/Reykjavik",
		"W. Europe Standard Time": "Europe/Berlin", "Romance Standard Time": "Europe/Paris",
		"Central Europe Standard Time": "Europe/Budapest", "Central European Standard Time": "Europe/Warsaw",
		"E. Europe Standard Time": "Europe/Chisinau", "FLE Standard Time": "Europe/Kiev", "GTB Standard Time": "Europe/Bucharest",
		"Russian Standard Time": "Europe/Moscow", "Israel Standard Time": "Asia/Jerusalem",
		"Eastern Standard Time": "America/New_York", "Central Standard Time": "America/Chicago",
		"Mountain Standard Time": "America/Denver", "US Mountain Standard Time": "America/Phoenix",
		"Pacific Standard Time": "America/Los_Angeles", "Alaskan Standard Time": "America/Anchorage",
		"Hawaiian Standard Time": "Pacific/Honolulu", "Atlantic Standard Time": "America/Halifax",
		"E. South America Standard Time": "America/Sao_Paulo", "India Standard Time": "Asia/Kolkata",
		"China Standard Time": "Asia/Shanghai", "Tokyo Standard Time": "Asia/Tokyo", "Singapore Standard Time": "Asia/Singapore",
		"AUS Eastern Standard Time": "Australia/Sydney", "Cen. Australia Standard Time": "Australia/Adelaide",
		"New Zealand Standard Time": "Pacific/Auckland",
	}
)

// ParseFeed reads an RFC 5545 calendar. Floating times and all-day dates
// are read in the feed's X-WR-TIMEZONE if it names a known zone, else in
// loc (the schedule's time_zone; nil means UTC). Each event's person is its
// first ATTENDEE that is an email or a Slack user id, or else the first
// one found in its SUMMARY. Events that cannot be used are listed in
// Problems; only data that is not a calendar at all is an error.
func ParseFeed(data []byte, loc *time.Location) (*Feed, error) {
	if len(data) > MaxFeedSize {
		return nil, Problemf(ErrInvalidInput, "calendar feed: %d bytes, over the limit of %d (8 MiB)", len(data), MaxFeedSize)
	}
	cal, err := ics.ParseCalendarWithOptions(bytes.NewReader(data), ics.WithUnknownPropertyHandler(ics.AcceptUnknownPropertyHandler))
	if err != nil || cal == nil || (len(cal.CalendarProperties) == 0 && len(cal.Components) == 0) {
		if err == nil {
			err = fmt.Errorf("no BEGIN:VCALENDAR")
		}
		return nil, Problemf(ErrInvalidInput, "calendar feed: not an iCalendar (RFC 5545) feed: %v", err)
	}
	p := &feedParser{loc: loc, zones: map[string]*time.Location{}}
	if p.loc == nil {
		p.loc = time.UTC
	}
	for _, prop := range cal.CalendarProperties {
		if prop.IANAToken == "X-WR-TIMEZONE" {
			if z, err := p.zone(prop.Value); err == nil {
				p.loc = z
			}
		}
	}
	f := &Feed{}
	masters := map[string]int{} // UID → index in f.events of the event with no RECURRENCE-ID
	type exception struct {
		uid string
		rid time.Time
	}
	var exceptions []exception
	for _, ev := range cal.Events() {
		f.Events++
		fe, rid, problem := p.event(ev, len(f.events))
		if !rid.IsZero() { // even when unusable, it moved the instance away
			exceptions = append(exceptions, exception{ev.Id(), rid})
		}
		if problem != "" {
			f.Problems = append(f.Problems, eventName(ev)+": "+problem)
			continue
		}
		if fe == nil { // cancelled
			continue
		}
		f.events = append(f.events, *fe)
		if rid.IsZero() {
			masters[ev.Id()] = len(f.events) - 1
		}
	}
	// An instance moved or cancelled (RECURRENCE-ID) takes the place of the
	// occurrence it names; the instance itself, if not cancelled, is an
	// event of its own.
	for _, x := range exceptions {
		i, ok := masters[x.uid]
		if !ok {
			continue
		}
		switch m := &f.events[i]; {
		case m.recurring:
			m.exdates = append(m.exdates, x.rid)
		case m.start.Equal(x.rid):
			m.exact, m.wall = 0, 0 // replaced: covers nothing
		}
	}
	return f, nil
}

// Unresolved returns the emails the feed names that have no Slack user id
// yet, sorted: look each up (users.lookupByEmail) and pass what is found to
// Resolve. Their events cover nothing until then. After Resolve, what is
// left are people Slack does not know: report them, they are not fatal.
func (f *Feed) Unresolved() []string {
	if f == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, e := range f.events {
		for _, w := range e.who {
			if _, ok := f.ids[w]; !ok && !userIDRE.MatchString(w) {
				seen[w] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Resolve returns a copy of the feed in which each email in ids (any case)
// stands for the Slack user id it maps to.
func (f *Feed) Resolve(ids map[string]string) *Feed {
	c := *f
	c.ids = maps.Clone(f.ids)
	if c.ids == nil {
		c.ids = map[string]string{}
	}
	for email, id := range ids {
		if userIDRE.MatchString(id) {
			c.ids[strings.ToLower(email)] = id
		}
	}
	return &c
}

// sources returns the feed's occurrences overlapping [from, to). Where
// events overlap, the one that started last wins (it is the newer shift),
// then the one later in the feed.
func (f *Feed) sources(from, to time.Time) []source {
	if f == nil {
		return nil
	}
	var out []source
	for _, e := range f.events {
		who := f.person(e.who)
		if who == "" {
			continue
		}
		add := func(start time.Time) {
			if s := (period{start, e.end(start)}); s.start.Before(s.end) && s.overlaps(from, to) {
				out = append(out, source{period: s, whole: s, who: who, prio: [3]int64{classBase, start.UnixNano(), int64(e.order)},
					key: [3]int64{keyFeed, int64(e.order), start.UnixNano()}})
			}
		}
		if !e.recurring {
			add(e.start)
			continue
		}
		next := e.occurrences()
		for i := 0; i < maxOccurrences; i++ {
			start, ok := next()
			if !ok || !start.Before(to) {
				break
			}
			add(start)
		}
	}
	return out
}

// person returns the first of who that is a Slack user id, or "".
func (f *Feed) person(who []string) string {
	for _, w := range who {
		if userIDRE.MatchString(w) {
			return w
		}
		if id := f.ids[w]; id != "" {
			return id
		}
	}
	return ""
}

// end returns when the occurrence starting at start ends: wall is counted
// on the wall clock of start's zone (an all-day event ends at midnight).
func (e *feedEvent) end(start time.Time) time.Time {
	if e.wall != 0 {
		loc := start.Location()
		start = wallInstant(wallClock(start, loc).Add(e.wall), loc)
	}
	return start.Add(e.exact)
}

// eventName names an event in a problem: its summary and UID.
func eventName(ev *ics.VEvent) string {
	name := "event"
	if p := ev.GetProperty(ics.ComponentPropertySummary); p != nil && p.Value != "" {
		s := []rune(strings.Join(strings.Fields(p.Value), " "))
		if len(s) > 60 {
			s = append(s[:59], '…')
		}
		name += fmt.Sprintf(" %q", string(s))
	}
	if id := ev.Id(); id != "" {
		name += " (UID " + id + ")"
	}
	return name
}
