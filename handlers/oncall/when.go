package oncall

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// Times of overrides and cover are typed as /incident note --at reads them
// (incident.ParseWhen: 18:00, 2023-08-17 18:00, with a zone or UTC), but
// looking ahead: a time of day is its next occurrence. Or "for 4h", or
// "now".

const spanHint = "Give a start and an end, e.g. 18:00 08:00, 2023-08-18 09:00 2023-08-18 17:00 (UTC unless you add a zone such as +02:00), now for 4h, or for 2d."

// whenSlack is how far back a start given as a time of day may be: 10:00
// typed at 10:03 means now, not tomorrow.
const whenSlack = 5 * time.Minute

var (
	datedRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	forRE   = regexp.MustCompile(`^([0-9]+)(m|h|d|w)$`)
)

// parseSpan reads "<from> <until>", "<from> until <until>", "[<from>] for
// 4h" or "until <until>" (from now).
func parseSpan(text string, now time.Time) (from, to time.Time, err error) {
	text = strings.Join(strings.Fields(strings.ToLower(text)), " ")
	if text == "" {
		return from, to, incident.Invalid("When?", spanHint)
	}
	if a, b, ok := strings.Cut(" "+text, " for "); ok {
		from = now
		if a = strings.TrimSpace(a); a != "" {
			if from, err = parseAhead(a, now, now.Add(-whenSlack)); err != nil {
				return from, to, err
			}
		}
		d, err := parseFor(b)
		return from, from.Add(d), err
	}
	if a, b, ok := strings.Cut(" "+text, " until "); ok {
		from = now
		if a = strings.TrimSpace(a); a != "" {
			if from, err = parseAhead(a, now, now.Add(-whenSlack)); err != nil {
				return from, to, err
			}
		}
		to, err = parseAhead(b, now, from)
		return from, to, err
	}
	words := strings.Fields(text)
	for k := 1; k < len(words); k++ {
		f, err1 := parseAhead(strings.Join(words[:k], " "), now, now.Add(-whenSlack))
		t, err2 := parseAhead(strings.Join(words[k:], " "), now, f)
		if err1 == nil && err2 == nil {
			return f, t, nil
		}
	}
	return from, to, incident.Invalid("I could not read a start and an end in "+strconvQuote(text)+".", spanHint)
}

// parseFor reads a length: 30m, 4h, 2d, 1w (or Go's 1h30m).
func parseFor(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := forRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		if n > 0 {
			return time.Duration(n) * unit, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, incident.Invalid(strconvQuote(s)+" is not a length of time.", "Write e.g. for 4h, for 90m, for 2d or for 1w.")
}

// parseAhead reads a time: "now", a time of day (its first occurrence
// after after), or a date and time (which may be in the future,
// up to the longest override).
func parseAhead(s string, now, after time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	t, err := incident.ParseWhen(s, now)
	if err != nil && datedRE.MatchString(s) {
		// ParseWhen refuses the future: read it as if it were later.
		for _, ahead := range []time.Duration{24 * time.Hour, incident.MaxOverride} {
			if t, err = incident.ParseWhen(s, now.Add(ahead)); err == nil {
				break
			}
		}
	}
	if err != nil {
		return t, err
	}
	if !datedRE.MatchString(s) && !strings.Contains(s, "ago") && !strings.HasPrefix(s, "yesterday") && !strings.HasPrefix(s, "-") {
		for !t.After(after) {
			t = t.Add(24 * time.Hour)
		}
	}
	return t, nil
}

func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}
