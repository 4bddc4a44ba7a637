package incident

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the times ParseWhen accepts.
const (
	// whenFutureTolerance is how far ahead of now a time may be: clocks
	// differ, and a responder reading 10:29 off a wall clock at 10:28:40
	// means now, not yesterday.
	whenFutureTolerance = 5 * time.Minute
	// whenMaxAge is how far back a time may be.
	whenMaxAge = 30 * 24 * time.Hour
	// whenMaxRelative is the longest "… ago"; older times are given with a date.
	whenMaxRelative = 7 * 24 * time.Hour
	// whenMaxEcho is how many characters of the user's text an error repeats.
	whenMaxEcho = 40
)

// whenHint is shown with every time that could not be read.
const whenHint = "Use 24-hour UTC like 10:28, 2023-08-17 10:28 or 15m ago."

var (
	// whenZone splits a trailing zone off: "10:28 utc", "10:28z", "…+02:00", "… -0500".
	whenZone = regexp.MustCompile(`^(.+?) ?(z|utc|gmt|[+-][0-9]{2}:?[0-9]{2})$`)
	// whenClock is a time of day: "10:28", "9:05", "10:28:30".
	whenClock = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$`)
	// whenDated is a date and time: "2023-08-17 10:28", "2023-08-17t10:28:00.5".
	whenDated = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})[t ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?$`)
	// whenDuration is Go duration syntax restricted to hours, minutes and seconds.
	whenDuration = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]+)?[hms])+$`)
)

// ParseWhen reads a time a responder typed for a backdated note or a key time ("/incident note --at 10:28 …",
// "/incident started 10:18"). now is the current time. It returns the time in UTC.
//
// It accepts, in any case and with any surrounding space:
//
//   - a time of day, "10:28", "9:05" or "10:28:30": the most recent such
//     moment, today or (when today's is still ahead) yesterday, since
//     incidents cross midnight. "Ahead" allows the 5 minutes' tolerance:
//     "10:30" typed at 10:28 is today, and "00:02" typed at 23:59 is
//     tomorrow, not a day earlier;
//   - "yesterday 23:50";
//   - a date and time, "2023-08-17 10:28", "2023-08-17T10:28:00" or RFC 3339;
//   - how long ago, "15m ago", "1h30m ago" or "-15m" (at most 7 days).
//
// Times are UTC unless they end in a zone: "UTC", "GMT", "Z" or an offset
// like "+02:00", "+0200" or "-05:00". A time more than 5 minutes ahead of
// now or more than 30 days before it is refused. Every error is an
// *InputError saying what to type instead.
func ParseWhen(s string, now time.Time) (time.Time, error) {
	now = now.UTC()
	text := strings.Join(strings.Fields(s), " ")
	if text == "" {
		return time.Time{}, Invalid("No time was given.", whenHint)
	}
	lower := strings.ToLower(text)

	if t, ok, err := parseAgo(text, lower, now); ok || err != nil {
		return t, err
	}

	loc := time.UTC
	body := lower
	if m := whenZone.FindStringSubmatch(lower); m != nil {
		l, err := whenLocation(m[2])
		if err != nil {
			return time.Time{}, err
		}
		body, loc = m[1], l
	}

	var t time.Time
	switch rest, yesterday := strings.CutPrefix(body, "yesterday "); {
	case whenClock.MatchString(rest):
		m := whenClock.FindStringSubmatch(rest)
		h, mi, sec, err := clockParts(m[1], m[2], m[3])
		if err != nil {
			return time.Time{}, err
		}
		local := now.In(loc)
		if yesterday {
			t = time.Date(local.Year(), local.Month(), local.Day()-1, h, mi, sec, 0, loc)
			break
		}
		// The latest such moment not after now (give or take the
		// tolerance): tomorrow's when now is just before midnight, else
		// today's, else yesterday's.
		t = time.Date(local.Year(), local.Month(), local.Day()+1, h, mi, sec, 0, loc)
		for t.After(now.Add(whenFutureTolerance)) {
			t = t.AddDate(0, 0, -1)
		}
	case !yesterday && whenDated.MatchString(rest):
		m := whenDated.FindStringSubmatch(rest)
		h, mi, sec, err := clockParts(m[4], m[5], m[6])
		if err != nil {
			return time.Time{}, err
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		ns := 0
		if m[7] != "" {
			ns, _ = strconv.Atoi((m[7] + "00000000")[:9])
		}
		t = time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc)
		if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
			return time.Time{}, Invalid(fmt.Sprintf("There is no date %s-%s-%s.", m[1], m[2], m[3]), whenHint)
		}
	default:
		return time.Time{}, Invalid(quoteInput(text)+" is not a time.", whenHint)
	}
	return checkWhen(t, now)
}

// parseAgo reads "15m ago", "1h 30m ago" and "-15m". ok is false when the
// text is not of that shape.
func parseAgo(text, lower string, now time.Time) (t time.Time, ok bool, err error) {
	var d string
	if rest, found := strings.CutSuffix(lower, "ago"); found {
		d = rest
	} else if rest, found := strings.CutPrefix(lower, "-"); found {
		d = rest
	} else {
		return time.Time{}, false, nil
	}
	d = strings.ReplaceAll(d, " ", "")
	if !whenDuration.MatchString(d) {
		return time.Time{}, false, nil
	}
	dur, perr := time.ParseDuration(d)
	switch {
	case perr != nil || dur > whenMaxRelative: // ParseDuration fails here only on overflow
		return time.Time{}, true, Invalid(quoteInput(text)+" is more than 7 days ago.",
			"For older times give the date and time, like 2023-08-10 10:28 UTC.")
	case dur <= 0:
		return time.Time{}, true, Invalid(quoteInput(text)+" is not in the past.",
			"Say how long ago, like 15m ago or 1h30m ago.")
	}
	return now.Add(-dur), true, nil
}

// whenLocation turns a zone suffix ("utc", "z", "+02:00", "-0500") into a location.
func whenLocation(zone string) (*time.Location, error) {
	switch zone {
	case "z", "utc", "gmt":
		return time.UTC, nil
	}
	digits := strings.ReplaceAll(zone[1:], ":", "")
	h, _ := strconv.Atoi(digits[:2])
	m, _ := strconv.Atoi(digits[2:])
	if h > 14 || m > 59 {
		return nil, Invalid(fmt.Sprintf("%s is not a UTC offset.", zone),
			"Use an offset like +02:00 or -0500, or leave it out for UTC.")
	}
	offset := (h*60 + m) * 60
	if zone[0] == '-' {
		offset = -offset
	}
	if offset == 0 {
		return time.UTC, nil
	}
	return time.FixedZone("UTC"+zone[:3]+":"+digits[2:], offset), nil
}

// clockParts reads hours, minutes and (possibly empty) seconds, refusing
// values a 24-hour clock does not have.
func clockParts(hh, mm, ss string) (h, m, s int, err error) {
	h, _ = strconv.Atoi(hh)
	m, _ = strconv.Atoi(mm)
	if ss != "" {
		s, _ = strconv.Atoi(ss)
	}
	switch {
	case h > 23:
		return 0, 0, 0, Invalid(fmt.Sprintf("There is no hour %d: hours run from 00 to 23.", h), whenHint)
	case m > 59:
		return 0, 0, 0, Invalid(fmt.Sprintf("There is no minute %d: minutes run from 00 to 59.", m), whenHint)
	case s > 59:
		return 0, 0, 0, Invalid(fmt.Sprintf("There is no second %d: seconds run from 00 to 59.", s), whenHint)
	}
	return h, m, s, nil
}

// checkWhen refuses times too far ahead of or behind now.
func checkWhen(t, now time.Time) (time.Time, error) {
	t = t.UTC()
	if t.After(now.Add(whenFutureTolerance)) {
		return time.Time{}, Invalid(FormatTime(t)+" is in the future.",
			"Times are UTC unless you add a zone like +02:00, and it is now "+FormatTime(now)+".")
	}
	if t.Before(now.Add(-whenMaxAge)) {
		return time.Time{}, Invalid(FormatTime(t)+" is more than 30 days ago.",
			"Give a time within the last 30 days, like 2023-08-17 10:28 or 2h ago.")
	}
	return t, nil
}

// quoteInput quotes at most whenMaxEcho characters of the user's text for
// an error message, showing unprintable characters and bytes that are not
// UTF-8 as "?".
func quoteInput(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for _, r := range s {
		if n == whenMaxEcho {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	b.WriteByte('"')
	return b.String()
}

// SplitWhen splits a leading time off text: "10:28 DNS changed" → (10:28, "DNS changed"); "2023-08-17 10:28 UTC x" → ...; it tries the longest prefix of up to 4 words that ParseWhen accepts. ok is false when no prefix is a time.
//
// The rest keeps its inner spacing and new lines, trimmed at both ends.
// When ok is false, rest is text unchanged.
func SplitWhen(text string, now time.Time) (at time.Time, rest string, ok bool) {
	s := strings.TrimLeftFunc(text, unicode.IsSpace)
	var ends []int // byte offsets in s where the first words end
	for pos := 0; len(ends) < 4; {
		tail := strings.TrimLeftFunc(s[pos:], unicode.IsSpace)
		if tail == "" {
			break
		}
		start := len(s) - len(tail)
		end := strings.IndexFunc(tail, unicode.IsSpace)
		if end < 0 {
			end = len(tail)
		}
		pos = start + end
		ends = append(ends, pos)
	}
	for i := len(ends) - 1; i >= 0; i-- {
		if t, err := ParseWhen(s[:ends[i]], now); err == nil {
			return t, strings.TrimSpace(s[ends[i]:]), true
		}
	}
	return time.Time{}, text, false
}
