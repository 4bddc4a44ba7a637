package incident

import (
	"strconv"
	"strings"
	"time"
)

// AlertRecord is one alert in the bot, as stored: an alert group of one
// route, its message in the route's channel, its paging, and the incident
// declared from it. A later notification of the same group (same route,
// source and group key) is merged into it while it is open; once resolved,
// a new firing of the group is a new AlertRecord, as PagerDuty opens a new
// incident for a dedup key whose last one was resolved.
type AlertRecord struct {
	ID       int64       `json:"id"`
	Route    string      `json:"route"`
	Key      string      `json:"key"` // AlertKey(route, source, group key)
	Group    AlertGroup  `json:"group"`
	Severity Severity    `json:"severity"`
	Status   AlertStatus `json:"status"` // firing until the source or someone resolves it
	// Unrouted: its token's routes all had matchers and none matched, so it
	// was posted to the first of them and pages nobody.
	Unrouted bool `json:"unrouted,omitempty"`

	Received      time.Time `json:"received"` // the first notification
	Updated       time.Time `json:"updated"`  // the last notification
	Notifications int       `json:"notifications"`
	// PageAt is when paging starts, for a route with quiet: (zero: at once).
	PageAt time.Time `json:"page_at,omitzero"`

	AckedBy    User      `json:"acked_by,omitzero"`
	AckedAt    time.Time `json:"acked_at,omitzero"`
	Resolved   time.Time `json:"resolved,omitzero"`
	ResolvedBy User      `json:"resolved_by,omitzero"` // empty when the source resolved it

	// Channel and TS locate its message; TS is empty until it is posted.
	Channel string `json:"channel"`
	TS      string `json:"ts,omitempty"`
	// Incident is the incident declared from it, 0 if none.
	Incident int64 `json:"incident,omitempty"`
	// Storm is the storm alert it was gathered into (then it has no message
	// of its own and pages nobody); 0 if none.
	Storm int64 `json:"storm,omitempty"`
	// Gathered, on a storm alert, are the alerts it holds, first ones first.
	Gathered []int64 `json:"gathered,omitempty"`

	Escalations Escalations `json:"escalations,omitempty"`
	// Version counts the changes its message shows, so that of several
	// redraws asked for only the latest calls Slack.
	Version int `json:"version,omitempty"`
}

// AlertKey is the key of an alert group within a route.
func AlertKey(route, source, groupKey string) string {
	return strings.ToLower(route) + "\x00" + source + "\x00" + groupKey
}

// AlertRef formats an alert number, e.g. "ALERT-7".
func AlertRef(id int64) string { return "ALERT-" + strconv.FormatInt(id, 10) }

// Ref is the alert's reference, e.g. "ALERT-7".
func (a *AlertRecord) Ref() string { return AlertRef(a.ID) }

// Open reports whether the alert still fires (acknowledged or not).
func (a *AlertRecord) Open() bool { return a.Status == AlertFiring }

// Acknowledged reports whether someone acknowledged it.
func (a *AlertRecord) Acknowledged() bool { return a.AckedBy.ID != "" }

// IsStorm reports whether this is a storm alert gathering others.
func (a *AlertRecord) IsStorm() bool { return a.Group.Source == SourceStorm }

// Title is the one line shown for the alert: its group's Summary.
func (a *AlertRecord) Title() string { return a.Group.Summary() }

// Acknowledge records who acknowledged the alert; false if it was already
// acknowledged or is resolved.
func (a *AlertRecord) Acknowledge(by User, now time.Time) bool {
	if !a.Open() || a.Acknowledged() {
		return false
	}
	a.AckedBy, a.AckedAt = by, now
	return true
}

// Resolve marks the alert resolved at now, by a person (by) or by its
// source (by empty); false if it was resolved already.
func (a *AlertRecord) Resolve(by User, now time.Time) bool {
	if !a.Open() {
		return false
	}
	a.Status, a.Resolved, a.ResolvedBy = AlertResolved, now, by
	if by.ID != "" {
		for i := range a.Group.Alerts {
			a.Group.Alerts[i].Status = AlertResolved
		}
		a.Group.Status = AlertResolved
	}
	return true
}

// Escalation returns escalation id of the alert.
func (a *AlertRecord) Escalation(id int) (*Escalation, error) { return a.Escalations.Get(a.Ref(), id) }

// Started is when the alert's trouble began: the earliest startsAt of its
// alerts, or when the bot first heard of it.
func (a *AlertRecord) Started() time.Time {
	if t := a.Group.EarliestStart(); !t.IsZero() && t.Before(a.Received) {
		return t
	}
	return a.Received
}

// SourceStorm is the Source of a storm alert's group.
const SourceStorm = "storm"

// DefaultStormLimit is how many new alert groups one route takes in a
// minute before the rest are gathered into one storm alert.
const DefaultStormLimit = 20

// AlertWindow counts the new alert groups of one route in the current
// minute, for the storm guard.
type AlertWindow struct {
	Start time.Time `json:"start"` // the minute it counts
	New   int       `json:"new"`   // new groups admitted in it
	Storm int64     `json:"storm,omitempty"`
}

// Admit counts a new group at now and reports whether it is over limit, so
// it belongs in the window's storm alert. A new minute starts a new count.
func (w *AlertWindow) Admit(now time.Time, limit int) (over bool) {
	if limit <= 0 {
		limit = DefaultStormLimit
	}
	if w.Start.IsZero() || now.Sub(w.Start) >= time.Minute || now.Before(w.Start) {
		*w = AlertWindow{Start: now, Storm: w.Storm} // a storm still open gathers on
	}
	w.New++
	return w.New > limit
}
