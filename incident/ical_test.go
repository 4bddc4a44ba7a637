package incident_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/incidentbot/incidentbot/incident"
)

// vendorSchedule is a feed schedule reading testdata/schedules/vendor.ics,
// with the emails resolved as users.lookupByEmail would: all but nobody@.
func vendorSchedule(t *testing.T) (*incident.Schedule, *incident.Feed) {
	t.Helper()
	ps, err := incident.ParsePolicies([]byte("schedules:\n  - name: vendor\n    time_zone: Europe/Berlin\n    ical: testdata/schedules/vendor.ics\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &ps.Schedules[0]
	data, err := os.ReadFile(s.ICal)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := incident.ParseFeed(data, s.Location)
	if err != nil {
		t.Fatalf("ParseFeed: %v", err)
	}
	return s, feed
}

func TestParseFeed(t *testing.T) {
	s, feed := vendorSchedule(t)
	if feed.Events != 11 {
		t.Errorf("Events = %d, want 11", feed.Events)
	}
	// Not fatal, each named: the rest of the feed is used.
	wantProblems := []string{
		`event "Team offsite" (UID offsite@vendor.example.com): no person: give it an ATTENDEE with the person's email`,
		`event "On call on Mars" (UID mars@vendor.example.com): DTSTART: time zone "Mars/Olympus_Mons" is unknown`,
		`event "Now and then" (UID sometimes@vendor.example.com): RRULE "FREQ=SOMETIMES": `,
	}
	if len(feed.Problems) != len(wantProblems) {
		t.Errorf("Problems = %q, want %d", feed.Problems, len(wantProblems))
	}
	for i, w := range wantProblems {
		if i < len(feed.Problems) && !strings.HasPrefix(feed.Problems[i], w) {
			t.Errorf("problem %d = %q, want it to start %q", i+1, feed.Problems[i], w)
		}
	}
	// Emails are looked up in Slack by the caller; the cancelled event's
	// eve@ is not asked for, Dave is named by his user id.
	if got, want := feed.Unresolved(), []string{"ana@example.com", "bob@example.com", "carol@example.com", "nobody@example.com"}; !slices.Equal(got, want) {
		t.Errorf("Unresolved = %q, want %q", got, want)
	}
	unresolved := s.WithFeed(feed)
	if sh, ok := unresolved.OnCall(local(t, s, "2026-01-05 10:00"), nil); ok {
		t.Errorf("before Resolve, %s is on call: an email with no user id pages nobody", sh.Who)
	}
	feed = feed.Resolve(map[string]string{"ANA@example.com": uAna, "bob@example.com": uBob, "carol@example.com": uCarol})
	if got := feed.Unresolved(); !slices.Equal(got, []string{"nobody@example.com"}) {
		t.Errorf("after Resolve, Unresolved = %q, want nobody@ (not in Slack: reported, not fatal)", got)
	}
	if s.Feed != nil || unresolved.Feed == nil {
		t.Error("WithFeed changed the schedule it was called on")
	}
	s = s.WithFeed(feed)

	tests := []struct {
		at, who, start, end string
	}{
		{"2026-01-05 10:00", uAna, "2026-01-05 09:00", "2026-01-12 09:00"},
		{"2026-01-12 09:00", uBob, "2026-01-12 09:00", "2026-01-19 09:00"},
		{"2026-01-19 12:00", uCarol, "2026-01-19 09:00", "2026-01-26 09:00"}, // the instance moved to Carol (RECURRENCE-ID)
		{"2026-03-02 12:00", "", "", ""},                                     // Ana's instance taken out (EXDATE)
		{"2026-03-14 12:00", uDave, "2026-03-14 00:00", "2026-03-16 00:00"},  // all-day, named in the summary; the later start wins
		{"2026-03-16 00:00", uBob, "2026-03-16 00:00", "2026-03-16 09:00"},
		{"2026-03-29 12:00", uDave, "2026-03-29 00:00", "2026-03-30 00:00"}, // a recurring all-day Sunday, 23h on the DST day
		{"2026-03-30 09:00", uAna, "2026-03-30 09:00", "2026-04-05 00:00"},  // the rule keeps 09:00 local after the change; Sunday is Dave's
		{"2026-04-01 12:00", uAna, "2026-03-30 09:00", "2026-04-05 00:00"},  // nobody@'s event covers nothing
		{"2026-04-05 12:00", uDave, "2026-04-05 00:00", "2026-04-06 00:00"}, // the cancelled event is no shift
		{"2026-06-01 12:00", uAna, "2026-06-01 09:00", "2026-06-01 17:00"},  // an Outlook zone name; DURATION
		{"2026-10-05 12:00", uBob, "2026-10-05 09:00", "2026-10-12 09:00"},  // Bob's 20th and last
		{"2026-10-19 12:00", "", "", ""},                                    // Bob's rule has run out
	}
	for _, tc := range tests {
		sh, ok := s.OnCall(local(t, s, tc.at), nil)
		if ok != (tc.who != "") || sh.Who != tc.who {
			t.Errorf("OnCall(%s) = %s, %v; want %q", tc.at, sh.Who, ok, tc.who)
			continue
		}
		if ok && (!sh.Start.Equal(local(t, s, tc.start)) || !sh.End.Equal(local(t, s, tc.end)) || sh.Rotation != "" || sh.Schedule != "vendor") {
			t.Errorf("OnCall(%s) = %s → %s, want %s → %s", tc.at, sh.Start, sh.End, tc.start, tc.end)
		}
	}
	if d := func() time.Duration {
		sh, _ := s.OnCall(local(t, s, "2026-03-29 12:00"), nil)
		return sh.End.Sub(sh.Start)
	}(); d != 23*time.Hour {
		t.Errorf("the all-day event on 29 March lasts %s, want 23h", d)
	}
	// Overrides apply to a feed as to rotations.
	ovs := []incident.Override{{ID: 1, Who: uDave, From: local(t, s, "2026-01-06 00:00"), To: local(t, s, "2026-01-07 00:00")}}
	if sh, _ := s.OnCall(local(t, s, "2026-01-06 12:00"), ovs); sh.Who != uDave || sh.Override == nil {
		t.Errorf("override on a feed: %+v", sh)
	}
	// A feed schedule not fetched yet has nobody on call.
	if sh, ok := s.WithFeed(nil).OnCall(local(t, s, "2026-01-05 10:00"), nil); ok {
		t.Errorf("without a feed %s is on call", sh.Who)
	}
}

func TestParseFeedRefuses(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":         nil,
		"not a feed":    []byte("<html><body>Sign in</body></html>\n"),
		"truncated":     []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n"),
		"over the size": append([]byte("BEGIN:VCALENDAR\r\n"), make([]byte, incident.MaxFeedSize)...),
	} {
		_, err := incident.ParseFeed(data, nil)
		if err == nil || !errors.Is(err, incident.ErrInvalidInput) || !strings.HasPrefix(err.Error(), "calendar feed: ") {
			t.Errorf("%s: ParseFeed = %v, want a calendar feed error", name, err)
		}
	}
}

func TestWriteCalendar(t *testing.T) {
	s := issueSchedule(t)
	from, to := local(t, s, "2026-03-23 00:00"), local(t, s, "2026-04-06 00:00")
	ovs := []incident.Override{{ID: 7, Who: uCarol, From: local(t, s, "2026-03-25 10:00"), To: local(t, s, "2026-03-25 14:00"), By: incident.User{ID: uBob, Name: "bob"}}}
	shifts := s.Shifts(from, to, ovs)
	// Long names with accents and separators force folding inside
	// multi-byte characters and escaping.
	names := map[string]string{uAna: "Ana Lúcia Müller-Östergaard; Platform, Primary", uBob: "Bob", uCarol: "Carol \"CJ\" Jones", uDave: "Dave 🛠 " + strings.Repeat("Ünïcödé ", 8)}
	now := time.Date(2026, 3, 22, 18, 30, 0, 0, time.UTC)
	write := func(now time.Time, name func(string) string) string {
		var buf bytes.Buffer
		if err := incident.WriteCalendar(&buf, s, shifts, incident.CalendarOptions{Now: now, Name: name}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	out := write(now, func(id string) string { return names[id] })

	if !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Errorf("the calendar does not end with END:VCALENDAR CRLF")
	}
	folded := 0
	for i, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 75 {
			t.Errorf("line %d is %d octets, over 75: %q", i+1, len(line), line)
		}
		if strings.HasPrefix(line, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Error("no line was folded; the test's names should need it")
	}

	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the library cannot read back the calendar: %v", err)
	}
	events := cal.Events()
	if len(events) != len(shifts) || len(shifts) < 6 {
		t.Fatalf("%d events for %d shifts", len(events), len(shifts))
	}
	uids := map[string]bool{}
	for i, ev := range events {
		sh := shifts[i]
		start, err1 := ev.GetStartAt()
		end, err2 := ev.GetEndAt()
		stamp, err3 := ev.GetDtStampTime()
		if err := errors.Join(err1, err2, err3); err != nil || !start.Equal(sh.Start) || !end.Equal(sh.End) || !stamp.Equal(now) {
			t.Errorf("event %d: %s → %s stamped %s (%v), want %s → %s stamped %s", i, start, end, stamp, err, sh.Start, sh.End, now)
		}
		if p := ev.GetProperty(ics.ComponentPropertyDtStart); !strings.HasSuffix(p.Value, "Z") {
			t.Errorf("event %d: DTSTART %q is not UTC", i, p.Value)
		}
		want := "On call: " + names[sh.Who]
		if sh.Override != nil {
			want += " (override)"
		}
		if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != want {
			t.Errorf("event %d: SUMMARY %q, want %q", i, got, want)
		}
		if desc := ev.GetProperty(ics.ComponentPropertyDescription).Value; !strings.Contains(desc, "Slack user "+sh.Who) {
			t.Errorf("event %d: DESCRIPTION %q does not name the user id", i, desc)
		}
		if uids[ev.Id()] {
			t.Errorf("event %d: UID %s used twice", i, ev.Id())
		}
		uids[ev.Id()] = true
	}
	for _, want := range []string{"METHOD:PUBLISH", "X-WR-TIMEZONE:Europe/Berlin", "X-WR-CALNAME:On call: s", "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "TRANSP:TRANSPARENT", "Override 7\\, made by bob"} {
		if !strings.Contains(strings.ReplaceAll(out, "\r\n ", ""), want) {
			t.Errorf("the calendar has no %q", want)
		}
	}

	// The UIDs are the same in a calendar made later: clients update
	// their copies rather than duplicating them.
	again, _ := ics.ParseCalendar(strings.NewReader(write(now.Add(time.Hour), nil)))
	for i, ev := range again.Events() {
		if ev.Id() != events[i].Id() {
			t.Errorf("event %d: UID %s, earlier %s", i, ev.Id(), events[i].Id())
		}
	}

	// And the calendar is a feed the bot reads back to the same shifts.
	feed, err := incident.ParseFeed([]byte(write(now, nil)), nil)
	if err != nil || len(feed.Problems) != 0 || len(feed.Unresolved()) != 0 {
		t.Fatalf("ParseFeed of the written calendar: %v, problems %q", err, feed.Problems)
	}
	back := &incident.Schedule{Name: "s", Location: s.Location, ICal: "s.ics", Feed: feed}
	who := func(shifts []incident.Shift) (out []string) {
		for _, sh := range shifts {
			out = append(out, sh.Who+" "+sh.Start.String()+" "+sh.End.String())
		}
		return out
	}
	if got := who(back.Shifts(from, to, nil)); !slices.Equal(got, who(shifts)) {
		t.Errorf("read back:\n%s\nwritten:\n%s", strings.Join(got, "\n"), strings.Join(who(shifts), "\n"))
	}
}

// A recurring shift that ends on the wall clock it starts on keeps ending
// there across DST: no hour without anyone on call in the autumn.
func TestFeedShiftsKeepLocalEnds(t *testing.T) {
	feed := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261019T090000\r\nDTEND;TZID=Europe/Berlin:20261026T090000\r\nRRULE:FREQ=WEEKLY;INTERVAL=2\r\nATTENDEE:" + uAna + "\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261026T090000\r\nDTEND;TZID=Europe/Berlin:20261102T090000\r\nRRULE:FREQ=WEEKLY;INTERVAL=2\r\nATTENDEE:" + uBob + "\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:c\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261024T220000\r\nDTEND;TZID=Europe/Berlin:20261025T060000\r\nATTENDEE:" + uCarol + "\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	f, err := incident.ParseFeed([]byte(feed), nil)
	if err != nil || len(f.Problems) > 0 {
		t.Fatalf("ParseFeed: %v %q", err, f.Problems)
	}
	s := &incident.Schedule{Name: "f", Location: zone(t, "Europe/Berlin"), ICal: "f.ics", Feed: f}
	checkShifts(t, s.Shifts(local(t, s, "2026-10-20 00:00"), local(t, s, "2027-03-31 00:00"), nil)[:4], `
		U01ANA0001 10-19 09:00 → 10-24 22:00 
		U03CAROL03 10-24 22:00 → 10-25 06:00 
		U01ANA0001 10-25 06:00 → 10-26 09:00 
		U02BOB0002 10-26 09:00 → 11-02 09:00 
	`)
	// An 8h event across the change lasts 9h of real time: 22:00 to 06:00 local.
	if sh, _ := s.OnCall(local(t, s, "2026-10-25 02:30"), nil); sh.End.Sub(sh.Start) != 9*time.Hour {
		t.Errorf("the night shift lasts %s, want 9h (22:00-06:00 local)", sh.End.Sub(sh.Start))
	}
	if sh, _ := s.OnCall(local(t, s, "2027-03-29 08:59"), nil); sh.Who != uAna || sh.End.In(s.Location).Format("15:04") != "09:00" {
		t.Errorf("after the spring change: %+v, want Ana until 09:00", sh)
	}
}

// Schedules and feeds are read by the paging and handoff goroutines at
// once; under -race this shows nothing in them (or in rrule-go, whose
// sets sort themselves when iterated) is written by a read.
func TestSchedulesReadConcurrently(t *testing.T) {
	s, feed := vendorSchedule(t)
	s = s.WithFeed(feed.Resolve(map[string]string{"ana@example.com": uAna}))
	// A feed with bare LF line ends reads as well.
	lf, err := incident.ParseFeed([]byte("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:20260105T080000Z\nDTEND:20260105T160000Z\nRRULE:FREQ=DAILY;COUNT=30\nEXDATE:20260106T080000Z,20260107T080000Z\nSUMMARY:"+uBob+"\nEND:VEVENT\nEND:VCALENDAR\n"), nil)
	if err != nil || len(lf.Problems) > 0 {
		t.Fatalf("LF feed: %v %q", err, lf.Problems)
	}
	daily := &incident.Schedule{Name: "lf", Location: time.UTC, ICal: "lf.ics", Feed: lf}
	if sh, ok := daily.OnCall(time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC), nil); ok {
		t.Errorf("an EXDATE of a list: %s on call", sh.Who)
	}
	rot := issueSchedule(t)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			defer func() { done <- true }()
			for i := range 50 {
				at := time.Date(2026, 1, 5+g, i%24, 0, 0, 0, time.UTC)
				s.OnCall(at, nil)
				daily.Shifts(at, at.Add(48*time.Hour), nil)
				rot.Next(at, nil)
			}
		}()
	}
	for range 4 {
		<-done
	}
}
