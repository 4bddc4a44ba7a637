package incident

import (
	"slices"
	"strings"
	"time"
)

// Schedule is an on-call schedule from the escalation file: who is on call
// at any instant, from layered rotations or from a calendar feed, with
// overrides on top. A policy level pages it as the target schedule:<name>.
//
// A Schedule is not changed after it is parsed, so it may be read from
// several goroutines; WithFeed returns a new one.
type Schedule struct {
	Name        string // same rules as a policy's name
	Description string // optional
	// Location is the time zone that rotations and windows are counted in
	// and shifts are shown in (time_zone; UTC for a feed without one).
	Location *time.Location
	// Usergroup (S…), when set, is kept equal to who is on call.
	Usergroup string
	// HandoffChannel (C…), when set, hears every handoff.
	HandoffChannel string
	// Rotations are layers: a later rotation wins wherever it has someone
	// on call; where none has, nobody is on call.
	Rotations []Rotation
	// ICal is the path or https URL of the calendar feed that replaces the
	// rotations. The domain does no I/O: the caller reads it, parses it with
	// ParseFeed, resolves its emails and installs it with WithFeed.
	ICal string
	// Feed is the parsed feed; nil (not fetched yet) means nobody is on call.
	Feed *Feed
}

// Shift is a stretch of time during which one person is on call.
type Shift struct {
	Schedule string
	// Rotation is the rotation the shift comes from; "" for a feed's event
	// or an override.
	Rotation string
	Who      string    // a Slack user id
	Start    time.Time // in the schedule's zone
	End      time.Time
	// Override is the override in force during the shift, nil if none.
	Override *Override
}

// Override puts someone on call for a while in place of the schedule. It
// is kept by the caller (in the database) and passed to every evaluation.
type Override struct {
	ID       int       `json:"id"`
	Schedule string    `json:"schedule"` // the schedule's name; "" applies to any schedule it is passed to
	Who      string    `json:"who"`      // the user id of who is on call instead
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Created  time.Time `json:"created"` // where overrides overlap, the newest wins
	By       User      `json:"by"`
}

// MaxOverride is the longest override CheckOverride accepts: a change of a
// whole rota belongs in the file.
const MaxOverride = 31 * 24 * time.Hour

// CheckOverride says what is wrong with an override of the schedule made at
// now (nil: it is usable), in an error matching ErrInvalidInput.
func (s *Schedule) CheckOverride(o Override, now time.Time) error {
	switch {
	case !userIDRE.MatchString(o.Who):
		return Invalid("An override needs a person to be on call.", "Name them, e.g. @ana.")
	case !o.To.After(o.From):
		return Invalid("The override ends before it starts.", "Give a start and then a later end, e.g. 18:00 until 08:00 tomorrow.")
	case !o.To.After(now):
		return Invalid("The override is over already.", "Give an end in the future, or say for 4h.")
	case o.To.Sub(o.From) > MaxOverride:
		return Invalid("An override may last at most 31 days.", "For a lasting change, change the rotation in the escalation file.")
	case o.Schedule != "" && !strings.EqualFold(o.Schedule, s.Name):
		return Invalid("The override is for schedule "+o.Schedule+", not "+s.Name+".", "")
	}
	return nil
}

// WithFeed returns a copy of the schedule that reads feed.
func (s *Schedule) WithFeed(feed *Feed) *Schedule {
	c := *s
	c.Feed = feed
	return &c
}

// OnCall returns who is on call at instant at, overrides included: the
// shift that holds at, with its start and end (a shift split by an
// override ends where the override starts). ok is false when nobody is.
func (s *Schedule) OnCall(at time.Time, overrides []Override) (Shift, bool) {
	shifts := s.Shifts(at, at.Add(1), overrides)
	if len(shifts) == 0 {
		return Shift{}, false
	}
	return shifts[0], true
}

// Shifts returns the shifts that overlap [from, to), in order, overrides
// applied and marked, each whole (the first may start before from, the
// last end after to). Gaps, when nobody is on call, have no shift.
func (s *Schedule) Shifts(from, to time.Time, overrides []Override) []Shift {
	if !from.Before(to) {
		return nil
	}
	// A shift at an edge of the range may be cut by an override or a layer
	// lying outside it: gather again over everything the first gathering
	// touches, which holds every source that can shape an edge shift.
	lo, hi := from, to
	for _, src := range s.sources(from, to, overrides) {
		lo, hi = earlier(lo, src.whole.start), later(hi, src.whole.end)
	}
	var out []Shift
	for _, sh := range compose(s.sources(lo, hi, overrides)) {
		if (period{sh.Start, sh.End}).overlaps(from, to) {
			sh.Schedule, sh.Start, sh.End = s.Name, sh.Start.In(s.loc()), sh.End.In(s.loc())
			out = append(out, sh)
		}
	}
	return out
}

// NextHorizon is how far ahead Next looks for a handoff.
const NextHorizon = 366 * 24 * time.Hour

// Next returns the next shift after at of someone other than who is on
// call at at (anyone, if nobody is): its Start is the handoff. ok is false
// when nobody else is on call within NextHorizon.
func (s *Schedule) Next(at time.Time, overrides []Override) (Shift, bool) {
	now, onCall := s.OnCall(at, overrides)
	const step = 28 * 24 * time.Hour
	for lo := at; lo.Before(at.Add(NextHorizon)); lo = lo.Add(step) {
		for _, sh := range s.Shifts(lo, lo.Add(step), overrides) {
			if sh.Start.After(at) && (!onCall || sh.Who != now.Who) {
				return sh, true
			}
		}
	}
	return Shift{}, false
}

// Handoffs returns the shifts that start in (from, to] with someone who was
// not on call just before: each is a handoff to announce. A caller that
// remembers up to when it announced calls Handoffs(then, now) and so misses
// none after a restart, and repeats none.
func (s *Schedule) Handoffs(from, to time.Time, overrides []Override) []Shift {
	var out []Shift
	var prev Shift
	for _, sh := range s.Shifts(from, to.Add(1), overrides) {
		before := ""
		if prev.End.Equal(sh.Start) {
			before = prev.Who
		}
		if sh.Start.After(from) && !sh.Start.After(to) && sh.Who != before {
			out = append(out, sh)
		}
		prev = sh
	}
	return out
}

func (s *Schedule) loc() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// source is one candidate for being on call: a rotation's shift (or its
// part inside a window), a feed's event or an override. Where sources
// overlap the one with the greatest prio wins; adjacent pieces with the
// same key are one shift.
type source struct {
	period
	// whole holds every piece with the same key: a rotation's shift, of
	// which period may be a window's part.
	whole    period
	who      string
	rotation string
	override *Override
	prio     [3]int64 // compared in order
	key      [3]int64
}

// The first element of a source's prio: any override beats any rotation
// or event.
const (
	classBase int64 = iota
	classOverride
)

// The first element of a source's key, which tells kinds of source apart.
const (
	keyRotation int64 = iota
	keyOverride
	keyFeed
)

// sources returns every source overlapping [from, to), whole.
func (s *Schedule) sources(from, to time.Time, overrides []Override) []source {
	var out []source
	if s.ICal != "" || s.Feed != nil {
		out = s.Feed.sources(from, to)
	}
	for i := range s.Rotations {
		out = append(out, s.Rotations[i].sources(i, from, to, s.loc())...)
	}
	for i := range overrides {
		o := overrides[i]
		if (o.Schedule != "" && !strings.EqualFold(o.Schedule, s.Name)) || !(period{o.From, o.To}).overlaps(from, to) || o.Who == "" {
			continue
		}
		out = append(out, source{period: period{o.From, o.To}, whole: period{o.From, o.To}, who: o.Who, override: &o,
			prio: [3]int64{classOverride, o.Created.UnixNano(), int64(o.ID)}, key: [3]int64{keyOverride, int64(o.ID), 0}})
	}
	return out
}

// compose sweeps the sources' boundaries and returns, for each stretch, the
// winning source, joining stretches of the same key that touch.
func compose(srcs []source) []Shift {
	var bounds []time.Time
	for _, src := range srcs {
		bounds = append(bounds, src.start, src.end)
	}
	slices.SortFunc(bounds, time.Time.Compare)
	bounds = slices.CompactFunc(bounds, time.Time.Equal)
	slices.SortStableFunc(srcs, func(a, b source) int { return a.start.Compare(b.start) })

	var out []Shift
	var active []*source
	var lastKey [3]int64
	next := 0
	for i := 0; i+1 < len(bounds); i++ {
		t := bounds[i]
		for next < len(srcs) && !srcs[next].start.After(t) {
			active = append(active, &srcs[next])
			next++
		}
		active = slices.DeleteFunc(active, func(src *source) bool { return !src.end.After(t) })
		var win *source
		for _, src := range active {
			if win == nil || slices.Compare(src.prio[:], win.prio[:]) > 0 {
				win = src
			}
		}
		if win == nil {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End.Equal(t) && lastKey == win.key {
			out[n-1].End = bounds[i+1]
			continue
		}
		out = append(out, Shift{Rotation: win.rotation, Who: win.who, Start: t, End: bounds[i+1], Override: win.override})
		lastKey = win.key
	}
	return out
}
