package incident

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Rotation is one layer of a schedule: its participants take turns, one
// shift each, starting at Start.
//
// Shift boundaries are counted on the wall clock of the schedule's zone, not
// in elapsed time: the n-th shift starts when the local clock shows Start's
// wall time plus n×Length. So a weekly shift starting Monday 09:00 starts at
// 09:00 local every Monday, summer or winter, and the shift across a DST
// change lasts 167h or 169h; a 12h rotation starting at 09:00 hands over at
// 09:00 and 21:00 local, so its shift across the change lasts 11h or 13h.
// Teams agree on "handover at 9", not on "every 168 hours", and a rota that
// drifted by an hour twice a year would page the wrong person at handover.
//
// Two rules make this total. A boundary whose wall time does not exist (the
// clocks jump over it) falls at the jump: a daily 02:30 shift in
// Europe/Berlin starts at 03:00 CEST on 2026-03-29. A wall time that occurs
// twice (the clocks go back) means its first occurrence. Consequently a
// shift may be empty (a 1h rotation's 02:00 shift on the day the clocks
// skip 02:00-03:00): it is nobody's, and the rotation goes on with the next.
type Rotation struct {
	Name string
	// Start is when the first participant's first shift starts; its wall
	// clock in the schedule's zone is what every boundary keeps. Before it
	// the rotation covers nothing.
	Start time.Time
	// Length is a shift's length on the wall clock: 1d is 24 hours of wall
	// clock, 23h or 25h of real time on a DST day. Between 1h and 4w.
	Length time.Duration
	// Participants take the shifts in turn: shift n is Participants[n mod
	// len]. A participant removed from the file stops appearing, and the
	// turns are counted again from Start.
	Participants []string
	// Only restricts the rotation to windows of the week (local time); empty
	// means the whole shift. Outside them the layer below, if any, is on call.
	Only []Window
}

// Shift lengths allowed in the file.
const (
	MinShiftLength = time.Hour
	MaxShiftLength = 4 * 7 * 24 * time.Hour
)

var shiftLengthRE = regexp.MustCompile(`^([0-9]{1,4})([hdw])$`)

// ParseShiftLength reads a shift length: a whole number of hours, days or
// weeks (12h, 1d, 2w), between 1h and 4w.
func ParseShiftLength(s string) (time.Duration, error) {
	m := shiftLengthRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("shift %q is not a length: write a whole number of hours, days or weeks, e.g. shift: 12h, 1d or 1w", s)
	}
	n, _ := strconv.Atoi(m[1])
	d := time.Duration(n) * map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	if d < MinShiftLength || d > MaxShiftLength {
		return 0, fmt.Errorf("shift %s must be between 1h and 4w: write e.g. shift: 1w", s)
	}
	return d, nil
}

// wallClock returns t's wall clock in loc as a time in UTC with the same
// fields, so that wall-clock arithmetic is plain addition (UTC has no DST).
func wallClock(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// wallInstant returns the instant at which loc's wall clock first shows
// wall (a wallClock value), or, when it never shows it because the clocks
// jump over it, the instant of the jump. time.Date leaves both cases
// unspecified, and the Rotation doc promises these rules.
func wallInstant(wall time.Time, loc *time.Location) time.Time {
	u := wall.Unix()
	// Far from any change of offset the wall time has one instant: a
	// second one would be another offset's, at most 26h away (offsets run
	// from -12h to +14h), and so inside the same zone period.
	_, off := time.Unix(u, 0).In(loc).Zone()
	if t := time.Unix(u-int64(off), int64(wall.Nanosecond())).In(loc); zoneOffset(t) == off {
		const margin = 27 * time.Hour
		if start, end := t.ZoneBounds(); (start.IsZero() || t.Sub(start) > margin) && (end.IsZero() || end.Sub(t) > margin) {
			return t
		}
	}
	var best time.Time
	// Every real zone changes offset at most once within a day either side,
	// so the offsets in force then are the only candidates.
	for _, probe := range [...]int64{u - 86400, u, u + 86400} {
		_, off := time.Unix(probe, 0).In(loc).Zone()
		t := time.Unix(u-int64(off), int64(wall.Nanosecond()))
		if _, got := t.In(loc).Zone(); got == off && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if !best.IsZero() {
		return best.In(loc)
	}
	// A gap: read with the offset before the jump, wall lies in the new
	// offset's period, which starts at the jump.
	_, before := time.Unix(u-86400, 0).In(loc).Zone()
	start, _ := time.Unix(u-int64(before), 0).In(loc).ZoneBounds()
	return start.In(loc)
}

func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// exists reports whether loc's wall clock ever shows wall.
func exists(wall time.Time, loc *time.Location) bool {
	return wallClock(wallInstant(wall, loc), loc).Equal(wall)
}

// boundary returns when shift n starts. It counts in seconds rather than
// time.Duration, which overflows after 292 years: an instant asked about by
// mistake (the zero time) must not send index stepping for centuries.
func (r *Rotation) boundary(n int, loc *time.Location) time.Time {
	return wallInstant(time.Unix(wallClock(r.Start, loc).Unix()+int64(n)*r.seconds(), 0).UTC(), loc)
}

func (r *Rotation) seconds() int64 { return int64(r.Length / time.Second) }

// index returns the number of the shift at instant at: negative before Start.
func (r *Rotation) index(at time.Time, loc *time.Location) int {
	d, l := at.Unix()-r.Start.Unix(), r.seconds()
	n := d / l
	if d < 0 && d%l != 0 {
		n--
	}
	// The estimate is off by the change of offset since Start, a few hours
	// at most: step to the shift that holds at.
	for r.boundary(int(n), loc).After(at) {
		n--
	}
	for !r.boundary(int(n+1), loc).After(at) {
		n++
	}
	return int(n)
}

// sources returns the rotation's coverage overlapping [from, to): each
// shift, cut to the Only windows if any, whole (not cut to the range).
func (r *Rotation) sources(layer int, from, to time.Time, loc *time.Location) []source {
	if len(r.Participants) == 0 || r.Length < time.Minute || !from.Before(to) || !to.After(r.Start) {
		return nil
	}
	n := max(r.index(from, loc), 0)
	var windows []period
	if len(r.Only) > 0 {
		windows = windowsOverlapping(r.Only, later(from, r.boundary(n, loc)), to, loc)
	}
	var out []source
	for start := r.boundary(n, loc); start.Before(to); n++ {
		end := r.boundary(n+1, loc)
		src := source{whole: period{start, end}, who: r.Participants[n%len(r.Participants)], rotation: r.Name,
			prio: [3]int64{classBase, int64(layer), 0}, key: [3]int64{keyRotation, int64(layer), int64(n)}}
		switch {
		case !end.After(start) || !end.After(from): // an empty shift, or one before the range
		case len(r.Only) == 0:
			src.period = period{start, end}
			out = append(out, src)
		default:
			for _, w := range windows {
				if s := (period{later(start, w.start), earlier(end, w.end)}); s.start.Before(s.end) && s.overlaps(from, to) {
					src.period = s
					out = append(out, src)
				}
			}
		}
		start = end
	}
	return out
}

// period is a half-open interval of time, [start, end).
type period struct{ start, end time.Time }

func (s period) overlaps(from, to time.Time) bool { return s.start.Before(to) && s.end.After(from) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
