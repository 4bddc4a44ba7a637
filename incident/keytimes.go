package incident

import (
	"fmt"
	"strings"
	"time"
)

// KeyTimes are the moments an incident review measures. A zero time means
// "not recorded": it is shown as missing, never guessed.
type KeyTimes struct {
	Started      time.Time `json:"started,omitzero"`      // impact began
	Detected     time.Time `json:"detected,omitzero"`     // someone or something noticed
	Declared     time.Time `json:"declared,omitzero"`     // the incident was opened
	Acknowledged time.Time `json:"acknowledged,omitzero"` // a paged responder acknowledged
	Identified   time.Time `json:"identified,omitzero"`   // the cause was found
	Mitigated    time.Time `json:"mitigated,omitzero"`    // impact stopped (monitoring)
	Resolved     time.Time `json:"resolved,omitzero"`     // the incident was closed
}

// Span is a measured interval between two key times. OK is false when either
// end was not recorded.
type Span struct {
	D  time.Duration
	OK bool
	// From names the key time the span starts at, e.g. "started".
	From string
}

// String formats the span like "1h 05m", or "not recorded".
func (s Span) String() string {
	if !s.OK {
		return "not recorded"
	}
	return FormatDuration(s.D)
}

func span(from time.Time, fromName string, to time.Time) Span {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return Span{From: fromName}
	}
	return Span{D: to.Sub(from), OK: true, From: fromName}
}

// ImpactStart returns the earliest recorded of started, detected and
// declared, and which one it is, for durations when "started" was never set.
func (k KeyTimes) ImpactStart() (time.Time, string) {
	for _, c := range []struct {
		t    time.Time
		name string
	}{{k.Started, "started"}, {k.Detected, "detected"}, {k.Declared, "declared"}} {
		if !c.t.IsZero() {
			return c.t, c.name
		}
	}
	return time.Time{}, ""
}

// TimeToDetect is detected − started.
func (k KeyTimes) TimeToDetect() Span { return span(k.Started, "started", k.Detected) }

// TimeToAcknowledge is acknowledged − declared: how long paging took to reach
// someone. When an alert paged someone before anyone declared (the ack comes
// first), it is measured from detection, as PagerDuty's alert-to-ack is.
func (k KeyTimes) TimeToAcknowledge() Span {
	if !k.Acknowledged.IsZero() && k.Acknowledged.Before(k.Declared) && !k.Detected.IsZero() {
		return span(k.Detected, "detected", k.Acknowledged)
	}
	return span(k.Declared, "declared", k.Acknowledged)
}

// TimeToMitigate is mitigated − impact start.
func (k KeyTimes) TimeToMitigate() Span {
	start, name := k.ImpactStart()
	return span(start, name, k.Mitigated)
}

// TimeToResolve is resolved − impact start.
func (k KeyTimes) TimeToResolve() Span {
	start, name := k.ImpactStart()
	return span(start, name, k.Resolved)
}

// Duration is the impact's length: resolved (or now, while open) − impact start.
func (k KeyTimes) Duration(now time.Time) Span {
	start, name := k.ImpactStart()
	end := k.Resolved
	if end.IsZero() {
		end = now
	}
	return span(start, name, end)
}

// KeyTime names one of the key times, for commands that set them.
type KeyTime string

// The key times a user can set by hand.
const (
	KeyStarted  KeyTime = "started"
	KeyDetected KeyTime = "detected"
)

// Set records a key time a user gave after the fact, refusing times that
// would make the sequence impossible (detected before started, in the future).
func (k *KeyTimes) Set(which KeyTime, at, now time.Time) error {
	if at.After(now.Add(5 * time.Minute)) { // the same tolerance as ParseWhen: clocks drift
		return Invalid(fmt.Sprintf("%s is in the future.", at.UTC().Format("2006-01-02 15:04 UTC")),
			"Give a time that has passed, e.g. /incident "+string(which)+" 10:18")
	}
	switch which {
	case KeyStarted:
		if !k.Detected.IsZero() && at.After(k.Detected) {
			return Invalid("Impact cannot start after it was detected ("+FormatTime(k.Detected)+").",
				"Give an earlier time, or correct detected first.")
		}
		k.Started = at
	case KeyDetected:
		if !k.Started.IsZero() && at.Before(k.Started) {
			return Invalid("Detection cannot come before impact started ("+FormatTime(k.Started)+").",
				"Give a later time, or correct started first.")
		}
		k.Detected = at
	default:
		return fmt.Errorf("set key time %q: %w", which, ErrInvalidInput)
	}
	return nil
}

// FormatTime formats a time in UTC with its date, as incident timelines do:
// "2023-08-17 10:46 UTC". A zero time is "not recorded".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "not recorded"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// FormatDuration formats a duration for people: "45s", "26m", "1h 05m", "2d 3h 10m".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	d = d.Round(time.Minute)
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h := int(d / time.Hour)
	m := int((d - time.Duration(h)*time.Hour) / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	switch {
	case days > 0 || h > 0:
		parts = append(parts, fmt.Sprintf("%dh", h), fmt.Sprintf("%02dm", m))
	default:
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	return strings.Join(parts, " ")
}
