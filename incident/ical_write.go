package incident

import (
	"fmt"
	"io"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// CalendarOptions says how WriteCalendar shows a schedule.
type CalendarOptions struct {
	// Now is the calendar's DTSTAMP: when it was made.
	Now time.Time
	// Name shows a person (a user id) in the events' summaries; nil shows
	// the id. The id is in the description either way.
	Name func(userID string) string
}

// CalendarRefresh is how often a subscribed calendar asks for the feed
// again (REFRESH-INTERVAL and X-PUBLISHED-TTL): overrides made in Slack
// should reach people's calendars within the hour.
const CalendarRefresh = "PT1H"

// WriteCalendar writes shifts of schedule s (from s.Shifts) as an RFC 5545
// calendar, for incidentbot oncall --ical and the .ics endpoint.
//
// Times are written in UTC (DTSTART:20260105T080000Z). RFC 5545 allows it,
// every client shows them in its user's zone, and it needs no VTIMEZONE: a
// TZID without one is not valid, and writing the zone's rules out of the
// zone database is a second place for DST to go wrong. The schedule's zone
// is named in X-WR-TIMEZONE for clients that show it.
//
// Each shift's UID is made of the schedule, the shift's start and its
// person, so it is the same every time the calendar is made, and a shift
// that an override shortens is updated in place rather than duplicated.
// golang-ical writes CRLF line ends and folds lines at 75 octets.
func WriteCalendar(w io.Writer, s *Schedule, shifts []Shift, o CalendarOptions) error {
	name := o.Name
	if name == nil {
		name = func(id string) string { return id }
	}
	cal := ics.NewCalendarFor("incidentbot")
	cal.SetProductId("-//incidentbot//On-call schedules//EN")
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName("On call: " + s.Name)
	if s.Description != "" {
		cal.SetXWRCalDesc(s.Description)
	}
	cal.SetXWRTimezone(s.loc().String())
	cal.SetRefreshInterval(CalendarRefresh)
	cal.SetXPublishedTTL(CalendarRefresh)
	for _, sh := range shifts {
		ev := cal.AddEvent(shiftUID(s.Name, sh))
		ev.SetDtStampTime(o.Now)
		ev.SetStartAt(sh.Start)
		ev.SetEndAt(sh.End)
		who := name(sh.Who)
		summary := "On call: " + who
		desc := []string{fmt.Sprintf("%s is on call for %s", who, s.Name)}
		if s.Description != "" {
			desc[0] += " (" + s.Description + ")"
		}
		desc = append(desc, "Slack user "+sh.Who)
		switch {
		case sh.Override != nil:
			summary += " (override)"
			by := sh.Override.By.Name
			if by == "" {
				by = name(sh.Override.By.ID)
			}
			desc = append(desc, fmt.Sprintf("Override %d, made by %s", sh.Override.ID, by))
		case sh.Rotation != "":
			desc = append(desc, "Rotation "+sh.Rotation)
		}
		ev.SetSummary(summary)
		ev.SetDescription(strings.Join(desc, "\n"))
		// Being on call is not being busy: the shift must not block
		// meetings in free/busy lookups.
		ev.SetTimeTransparency(ics.TransparencyTransparent)
	}
	return cal.SerializeTo(w, ics.WithNewLine("\r\n"))
}

// shiftUID identifies a shift across calendars made at different times.
func shiftUID(schedule string, sh Shift) string {
	return fmt.Sprintf("%s-%s-%s@incidentbot", schedule, sh.Start.UTC().Format("20060102T150405Z"), sh.Who)
}
