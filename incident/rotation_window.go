package incident

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Window is a restriction of a rotation (only: in the file): a span of
// local time that recurs on some days of the week.
//
// The grammar, case-insensitive, spaces optional around - and ,:
//
//	window = [days " "] time "-" time
//	days   = day-or-range *("," day-or-range)    mon-fri  |  sat,sun  |  mon,wed-fri
//	day-or-range = day ["-" day]                 a range may wrap: fri-mon is fri, sat, sun, mon
//	day    = mon | tue | wed | thu | fri | sat | sun
//	time   = HH:MM                               00:00 to 23:59; 24:00 only as an end
//
// Without days the window is every day. The days are those on which the
// window starts; an end at or before the start is on the next day, so
// "fri 18:00-09:00" runs from Friday 18:00 to Saturday 09:00 and
// "mon-fri 22:00-06:00" covers five nights. "sat 00:00-24:00" is all of
// Saturday. Times are wall times in the schedule's zone, with the same DST
// rules as rotation boundaries (see Rotation).
type Window struct {
	Days     [7]bool       // indexed by time.Weekday
	From, To time.Duration // since local midnight; To <= From means the next day
	text     string
}

var (
	windowRE = regexp.MustCompile(`^(?:([a-z][a-z ,-]*?)\s+)?([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})$`)
	dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // by time.Weekday
)

// windowExample ends every window error with what a valid one looks like.
const windowExample = `write e.g. "mon-fri 09:00-17:00", "sat,sun 00:00-24:00" or "fri 18:00-09:00"`

// ParseWindow reads one restriction written as the Window grammar says.
func ParseWindow(s string) (Window, error) {
	text := strings.Join(strings.Fields(strings.ToLower(s)), " ")
	m := windowRE.FindStringSubmatch(text)
	if m == nil {
		return Window{}, fmt.Errorf("not a window of days and hours: %s", windowExample)
	}
	w := Window{text: text}
	if m[1] == "" {
		w.Days = [7]bool{true, true, true, true, true, true, true}
	} else if err := w.parseDays(strings.ReplaceAll(m[1], " ", "")); err != nil {
		return Window{}, err
	}
	var err error
	if w.From, err = clockTime(m[2], m[3], false); err != nil {
		return Window{}, err
	}
	if w.To, err = clockTime(m[4], m[5], true); err != nil {
		return Window{}, err
	}
	if w.From == w.To {
		return Window{}, fmt.Errorf("starts and ends at %s:%s: write 00:00-24:00 for a whole day, e.g. \"sat 00:00-24:00\"", m[2], m[3])
	}
	return w, nil
}

func (w *Window) parseDays(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		first, last, isRange := strings.Cut(part, "-")
		a, b := slices.Index(dayNames, first), slices.Index(dayNames, last)
		if !isRange {
			b = a
		}
		for _, bad := range []struct {
			name string
			i    int
		}{{first, a}, {last, b}} {
			if bad.i < 0 {
				return fmt.Errorf("%q is not a day: use mon, tue, wed, thu, fri, sat or sun, or a range such as mon-fri", bad.name)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == b {
				break
			}
		}
	}
	return nil
}

// clockTime reads HH:MM; 24:00 only when end.
func clockTime(hh, mm string, end bool) (time.Duration, error) {
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	if m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
		return 0, fmt.Errorf("%s:%s is not a time of day: use 00:00 to 23:59 (and 24:00 as an end), %s", hh, mm, windowExample)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// String returns the window as written, in lower case.
func (w Window) String() string { return w.text }

// windowsOverlapping returns the occurrences of the windows that overlap
// [from, to), whole, in order of start.
func windowsOverlapping(ws []Window, from, to time.Time, loc *time.Location) []period {
	// A window starts on a day and ends within the next, so the day before
	// from's is the first that can reach into the range.
	day := func(t time.Time) time.Time {
		w := wallClock(t, loc)
		return time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	}
	var out []period
	for d, last := day(from).AddDate(0, 0, -1), day(to); !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, w := range ws {
			if !w.Days[d.Weekday()] {
				continue
			}
			end := d.Add(w.To)
			if w.To <= w.From {
				end = end.Add(24 * time.Hour)
			}
			s := period{wallInstant(d.Add(w.From), loc), wallInstant(end, loc)}
			if s.start.Before(s.end) && s.overlaps(from, to) {
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b period) int { return a.start.Compare(b.start) })
	return out
}
