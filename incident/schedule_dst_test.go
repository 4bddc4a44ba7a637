package incident_test

import (
	"slices"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// The year tests ask who is on call throughout 2026 and compare with an
// oracle written from the wall clock alone: the shift number is the
// wall-clock time since the start divided by the shift length, as a rota
// on paper counts it. They ask at every boundary of the year and 1ns
// before it, at every minute of the two days around each DST change, and
// at every 11th minute of the rest (11 is prime to 60, so over the year that
// is every minute of the hour): who is on call changes only at boundaries,
// so that is every instant that can differ, at a cost the race detector
// can afford (every minute of every zone took a minute under -race).

type period struct{ from, to time.Time }

var year = struct{ from, to time.Time }{
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
}

// instants returns the instants asked about in loc's year, boundaries being
// the oracle's shift boundaries.
func instants(loc *time.Location, boundaries []time.Time) []time.Time {
	var out []time.Time
	for _, b := range boundaries {
		out = append(out, b.Add(-1), b)
	}
	var dense []period // two days around each change: Europe's and Adelaide's
	for _, d := range []string{"2026-03-29", "2026-10-25", "2026-04-05", "2026-10-04"} {
		day, _ := time.ParseInLocation(time.DateOnly, d, loc)
		dense = append(dense, period{day.Add(-24 * time.Hour), day.Add(48 * time.Hour)})
	}
	for at := year.from; at.Before(year.to); at = at.Add(time.Minute) {
		if at.Sub(year.from)%(11*time.Minute) == 0 || slices.ContainsFunc(dense, func(p period) bool { return !at.Before(p.from) && at.Before(p.to) }) {
			out = append(out, at)
		}
	}
	return out
}

// oracle returns who is on call at at in a rotation of participants with
// shifts of length (wall clock) from startWall, and when that shift starts
// and ends, from the wall clock: for zones whose changes never fall on a
// boundary, where wall time arithmetic has no ambiguity.
func oracle(at time.Time, loc *time.Location, startWall time.Time, length time.Duration, participants []string) (string, time.Time, time.Time) {
	l := at.In(loc)
	wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	n := int(wall.Sub(startWall) / length)
	s, e := startWall.Add(time.Duration(n)*length), startWall.Add(time.Duration(n+1)*length)
	in := func(w time.Time) time.Time {
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
	}
	return participants[n%len(participants)], in(s), in(e)
}

func TestOnCallThroughAYear(t *testing.T) {
	people := []string{uAna, uBob, uCarol}
	tests := []struct {
		name, zone, start, shift string
		length                   time.Duration
		// lengths of the shifts holding these local instants, in real time
		across map[string]time.Duration
	}{
		{"weekly Monday 09:00 in Berlin", "Europe/Berlin", "2025-12-29T09:00", "1w", 7 * 24 * time.Hour,
			map[string]time.Duration{"2026-03-29 12:00": 167 * time.Hour, "2026-10-25 12:00": 169 * time.Hour, "2026-06-01 12:00": 168 * time.Hour}},
		{"daily 09:00 in Berlin", "Europe/Berlin", "2025-12-31T09:00", "1d", 24 * time.Hour,
			map[string]time.Duration{"2026-03-29 08:00": 23 * time.Hour, "2026-10-25 08:00": 25 * time.Hour, "2026-03-29 10:00": 24 * time.Hour}},
		{"12h at 09:00 and 21:00 in Berlin", "Europe/Berlin", "2025-12-29T09:00", "12h", 12 * time.Hour,
			map[string]time.Duration{"2026-03-29 03:00": 11 * time.Hour, "2026-10-25 03:00": 13 * time.Hour, "2026-03-29 12:00": 12 * time.Hour}},
		{"daily 09:00 in Kolkata (+05:30)", "Asia/Kolkata", "2025-12-31T09:00", "1d", 24 * time.Hour,
			map[string]time.Duration{"2026-03-29 08:00": 24 * time.Hour, "2026-10-25 08:00": 24 * time.Hour}},
		// Adelaide is +10:30 in summer and +09:30 in winter: its clocks go
		// back on 2026-04-05 and forward on 2026-10-04.
		{"weekly Monday 09:00 in Adelaide", "Australia/Adelaide", "2025-12-29T09:00", "1w", 7 * 24 * time.Hour,
			map[string]time.Duration{"2026-04-05 12:00": 169 * time.Hour, "2026-10-04 12:00": 167 * time.Hour}},
		{"8h at 01:30 in Adelaide", "Australia/Adelaide", "2025-12-31T01:30", "8h", 8 * time.Hour,
			map[string]time.Duration{"2026-04-05 04:00": 9 * time.Hour, "2026-10-04 04:00": 7 * time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := schedule(t, tc.zone, rotation("r", tc.start, tc.shift, people))
			startWall, _ := time.Parse("2006-01-02T15:04", tc.start)
			var boundaries []time.Time
			for at := year.from; at.Before(year.to); {
				_, _, end := oracle(at, s.Location, startWall, tc.length, people)
				boundaries, at = append(boundaries, end), end
			}
			ats := instants(s.Location, boundaries)
			for _, at := range ats {
				sh, ok := s.OnCall(at, nil)
				who, start, end := oracle(at, s.Location, startWall, tc.length, people)
				if !ok || sh.Who != who || !sh.Start.Equal(start) || !sh.End.Equal(end) {
					t.Fatalf("OnCall(%s = %s local) = %s %s → %s, %v; want %s %s → %s", at.Format(time.RFC3339Nano), at.In(s.Location).Format(time.DateTime),
						sh.Who, sh.Start, sh.End, ok, who, start, end)
				}
			}
			for v, want := range tc.across {
				sh, _ := s.OnCall(local(t, s, v), nil)
				if got := sh.End.Sub(sh.Start); got != want {
					t.Errorf("the shift holding %s local lasts %s (%s → %s), want %s", v, got, sh.Start, sh.End, want)
				}
				if wl, sl := sh.Start.In(s.Location), startWall; wl.Hour() != sl.Hour() && tc.length >= 24*time.Hour {
					t.Errorf("the shift holding %s starts at %s local, want %02d:%02d", v, wl.Format("15:04"), sl.Hour(), sl.Minute())
				}
			}
			// Shifts over the year agree with OnCall and cover it without a gap.
			shifts := s.Shifts(year.from, year.to, nil)
			for i := 1; i < len(shifts); i++ {
				if !shifts[i].Start.Equal(shifts[i-1].End) {
					t.Fatalf("gap or overlap between shifts %d and %d: %s, %s", i-1, i, show(shifts[i-1:i]), show(shifts[i:i+1]))
				}
			}
			if len(shifts) != len(boundaries) {
				t.Errorf("%d shifts in the year, want %d", len(shifts), len(boundaries))
			}
			t.Logf("%d instants, %d shifts", len(ats), len(shifts))
		})
	}
}

// TestIssueScheduleThroughAYear: the issue's schedule (weekly, with a
// weekend layer) and a night override over the autumn change, against an
// oracle of the rota as people read it.
func TestIssueScheduleThroughAYear(t *testing.T) {
	s := issueSchedule(t)
	berlin := s.Location
	ovFrom, ovTo := time.Date(2026, 10, 24, 22, 0, 0, 0, berlin), time.Date(2026, 10, 25, 6, 0, 0, 0, berlin)
	ovs := []incident.Override{{ID: 1, Who: uCarol, From: ovFrom, To: ovTo, Created: ovFrom}}
	weekly, _ := time.Parse("2006-01-02T15:04", "2026-01-05T09:00")
	want := func(at time.Time) string {
		l := at.In(berlin)
		switch {
		case !at.Before(ovFrom) && at.Before(ovTo):
			return uCarol
		case (l.Weekday() == time.Saturday || l.Weekday() == time.Sunday) && !at.Before(time.Date(2026, 1, 3, 0, 0, 0, 0, berlin)):
			return uDave
		case at.Before(time.Date(2026, 1, 5, 9, 0, 0, 0, berlin)):
			return ""
		}
		who, _, _ := oracle(at, berlin, weekly, 7*24*time.Hour, []string{uAna, uBob, uCarol})
		return who
	}
	var boundaries []time.Time
	for _, sh := range s.Shifts(year.from, year.to, ovs) {
		boundaries = append(boundaries, sh.Start, sh.End)
	}
	for _, at := range instants(berlin, boundaries) {
		sh, ok := s.OnCall(at, ovs)
		overridden := !at.Before(ovFrom) && at.Before(ovTo)
		if w := want(at); sh.Who != w || ok != (w != "") || (sh.Override != nil) != overridden {
			t.Fatalf("OnCall(%s local) = %s (override %v), want %s", at.In(berlin).Format(time.DateTime), sh.Who, sh.Override != nil, w)
		}
	}
}

// TestBoundariesInsideDSTChanges: a boundary whose wall time the clocks
// skip falls at the jump; one they repeat means its first occurrence; a
// shift that the jump empties is nobody's.
func TestBoundariesInsideDSTChanges(t *testing.T) {
	utc := func(v string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	daily := schedule(t, "Europe/Berlin", rotation("r", "2026-03-20T02:30", "1d", []string{uAna, uBob}))
	tests := []struct {
		at, start, end string // UTC
	}{
		{"2026-03-28 12:00", "2026-03-28 01:30", "2026-03-29 01:00"}, // 02:30 CET → 03:00 CEST, the jump
		{"2026-03-29 12:00", "2026-03-29 01:00", "2026-03-30 00:30"}, // → 02:30 CEST
		{"2026-10-24 12:00", "2026-10-24 00:30", "2026-10-25 00:30"}, // → the first 02:30 (CEST)
		{"2026-10-25 12:00", "2026-10-25 00:30", "2026-10-26 01:30"}, // 25h
	}
	for _, tc := range tests {
		sh, _ := daily.OnCall(utc(tc.at), nil)
		if !sh.Start.Equal(utc(tc.start)) || !sh.End.Equal(utc(tc.end)) {
			t.Errorf("daily at 02:30: the shift at %s UTC is %s → %s, want %s → %s UTC", tc.at, sh.Start.UTC(), sh.End.UTC(), tc.start, tc.end)
		}
	}

	// Hourly shifts: on 29 March the 02:00 hour does not exist, so its
	// participant has no shift; on 25 October the 02:00 shift lasts both
	// 02:00 hours.
	hourly := schedule(t, "Europe/Berlin", rotation("r", "2026-03-29T00:00", "1h", []string{uAna, uBob, uCarol, uDave}))
	checkShifts(t, hourly.Shifts(utc("2026-03-29 00:00"), utc("2026-03-29 02:01"), nil), `
		U02BOB0002 03-29 01:00 → 03-29 03:00 r
		U04DAVE004 03-29 03:00 → 03-29 04:00 r
		U01ANA0001 03-29 04:00 → 03-29 05:00 r
	`) // Carol's 02:00 shift is empty; the times shown are local
	if sh, _ := hourly.OnCall(utc("2026-03-29 00:59"), nil); sh.Who != uBob {
		t.Errorf("01:59 CET: %s on call, want Bob", sh.Who)
	}
	if sh, _ := hourly.OnCall(utc("2026-03-29 01:00"), nil); sh.Who != uDave || !sh.End.Equal(utc("2026-03-29 02:00")) {
		t.Errorf("03:00 CEST: %+v, want Dave until 04:00", sh)
	}
	fall := schedule(t, "Europe/Berlin", rotation("r", "2026-10-25T00:00", "1h", []string{uAna, uBob, uCarol}))
	sh, _ := fall.OnCall(utc("2026-10-25 01:30"), nil) // the second 02:30
	if sh.Who != uCarol || !sh.Start.Equal(utc("2026-10-25 00:00")) || !sh.End.Equal(utc("2026-10-25 02:00")) {
		t.Errorf("the repeated 02:00 hour: %+v, want Carol for both, 00:00 → 02:00 UTC", sh)
	}
}

// BenchmarkOnCall measures one page's look-up in the issue's schedule.
func BenchmarkOnCall(b *testing.B) {
	s := issueSchedule(b)
	at := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	ovs := []incident.Override{{ID: 1, Who: uCarol, From: at.Add(-time.Hour), To: at.Add(time.Hour)}}
	for b.Loop() {
		s.OnCall(at, ovs)
	}
}
