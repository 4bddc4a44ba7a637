package incident_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

const (
	uAna   = "U01ANA0001"
	uBob   = "U02BOB0002"
	uCarol = "U03CAROL03"
	uDave  = "U04DAVE004"
)

// schedule parses one schedule, given as the YAML of its rotations, in zone.
func schedule(t testing.TB, zone, rotations string) *incident.Schedule {
	t.Helper()
	file := "schedules:\n  - name: s\n    time_zone: " + zone + "\n    rotations:\n" + rotations
	ps, err := incident.ParsePolicies([]byte(file), nil)
	if err != nil {
		t.Fatalf("ParsePolicies: %v\n%s", err, file)
	}
	return &ps.Schedules[0]
}

// rotation is the YAML of one rotation.
func rotation(name, start, shift string, participants []string, only ...string) string {
	y := fmt.Sprintf("      - name: %s\n        start: %s\n        shift: %s\n        participants: [%s]\n", name, start, shift, strings.Join(participants, ", "))
	if len(only) > 0 {
		y += `        only: ["` + strings.Join(only, `", "`) + "\"]\n"
	}
	return y
}

// local reads "2006-01-02 15:04" in the schedule's zone.
func local(t testing.TB, s *incident.Schedule, v string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", v, s.Location)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// show writes shifts one a line: who, local start and end, rotation, override.
func show(shifts []incident.Shift) string {
	var b strings.Builder
	for _, sh := range shifts {
		fmt.Fprintf(&b, "%s %s → %s %s", sh.Who, sh.Start.Format("01-02 15:04"), sh.End.Format("01-02 15:04"), sh.Rotation)
		if sh.Override != nil {
			fmt.Fprintf(&b, "override %d", sh.Override.ID)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkShifts(t *testing.T, got []incident.Shift, want string) {
	t.Helper()
	want = strings.TrimLeft(strings.ReplaceAll(want, "\t", ""), "\n")
	if show(got) != want {
		t.Errorf("shifts:\n%s\nwant:\n%s", show(got), want)
	}
}

// issueSchedule is the issue's platform-primary: a weekly rotation with a
// weekend layer on top.
func issueSchedule(t testing.TB) *incident.Schedule {
	return schedule(t, "Europe/Berlin",
		rotation("weekly", "2026-01-05T09:00", "1w", []string{uAna, uBob, uCarol})+
			rotation("weekend", "2026-01-03T00:00", "1w", []string{uDave}, "sat 00:00-24:00", "sun 00:00-24:00"))
}

func TestShiftsLayersAndRestrictions(t *testing.T) {
	s := issueSchedule(t)
	// The weekend layer starts on Saturday 3 January, the weekly on Monday
	// 5 January at 09:00: between them nobody is on call. The weekend's
	// Saturday and Sunday windows are one shift; the weekly's shift goes on
	// under it and shows again on Monday until its handoff at 09:00.
	checkShifts(t, s.Shifts(local(t, s, "2026-01-01 00:00"), local(t, s, "2026-01-19 00:00"), nil), `
		U04DAVE004 01-03 00:00 → 01-05 00:00 weekend
		U01ANA0001 01-05 09:00 → 01-10 00:00 weekly
		U04DAVE004 01-10 00:00 → 01-12 00:00 weekend
		U01ANA0001 01-12 00:00 → 01-12 09:00 weekly
		U02BOB0002 01-12 09:00 → 01-17 00:00 weekly
		U04DAVE004 01-17 00:00 → 01-19 00:00 weekend
	`)
	tests := []struct {
		at, who, start, end string // "" who: nobody
	}{
		{"2026-01-02 12:00", "", "", ""},
		{"2026-01-03 00:00", uDave, "2026-01-03 00:00", "2026-01-05 00:00"},
		{"2026-01-05 08:59", "", "", ""}, // a rotation that has not started covers nothing
		{"2026-01-05 09:00", uAna, "2026-01-05 09:00", "2026-01-10 00:00"},
		{"2026-01-09 23:59", uAna, "2026-01-05 09:00", "2026-01-10 00:00"},
		{"2026-01-11 23:59", uDave, "2026-01-10 00:00", "2026-01-12 00:00"},
		{"2026-01-12 08:59", uAna, "2026-01-12 00:00", "2026-01-12 09:00"},
		{"2026-01-12 09:00", uBob, "2026-01-12 09:00", "2026-01-17 00:00"},
		{"2026-01-19 09:00", uCarol, "2026-01-19 09:00", "2026-01-24 00:00"},
		{"2026-01-26 09:00", uAna, "2026-01-26 09:00", "2026-01-31 00:00"},
	}
	for _, tc := range tests {
		sh, ok := s.OnCall(local(t, s, tc.at), nil)
		if ok != (tc.who != "") || sh.Who != tc.who {
			t.Errorf("OnCall(%s) = %s, %v; want %q", tc.at, sh.Who, ok, tc.who)
			continue
		}
		if ok && (!sh.Start.Equal(local(t, s, tc.start)) || !sh.End.Equal(local(t, s, tc.end)) || sh.Schedule != "s" || sh.Override != nil) {
			t.Errorf("OnCall(%s) = %+v; want %s → %s", tc.at, sh, tc.start, tc.end)
		}
	}
}

func TestWindowsInLocalTime(t *testing.T) {
	// Office hours on top of a daily rotation, and a night window that wraps
	// past midnight; across the spring change both keep their local hours.
	s := schedule(t, "Europe/Berlin",
		rotation("daily", "2026-03-23T00:00", "1d", []string{uAna})+
			rotation("office", "2026-03-23T00:00", "1w", []string{uBob}, "mon-fri 09:00-17:00")+
			rotation("nights", "2026-03-23T00:00", "1w", []string{uCarol}, "fri 22:00-06:00"))
	checkShifts(t, s.Shifts(local(t, s, "2026-03-27 12:00"), local(t, s, "2026-03-30 12:00"), nil), `
		U02BOB0002 03-27 09:00 → 03-27 17:00 office
		U01ANA0001 03-27 17:00 → 03-27 22:00 daily
		U03CAROL03 03-27 22:00 → 03-28 06:00 nights
		U01ANA0001 03-28 06:00 → 03-29 00:00 daily
		U01ANA0001 03-29 00:00 → 03-30 00:00 daily
		U01ANA0001 03-30 00:00 → 03-30 09:00 daily
		U02BOB0002 03-30 09:00 → 03-30 17:00 office
	`)
	sh, _ := s.OnCall(local(t, s, "2026-03-30 09:00"), nil)
	if sh.Who != uBob || sh.Start.UTC().Hour() != 7 {
		t.Errorf("Monday after the change at 09:00 CEST: %+v, want Bob from 07:00 UTC", sh)
	}
}

func TestOverrides(t *testing.T) {
	s := schedule(t, "Europe/Berlin", rotation("weekly", "2026-01-05T09:00", "1w", []string{uAna, uBob}))
	at := func(v string) time.Time { return local(t, s, v) }
	created := at("2026-01-01 00:00")
	ov := func(id int, who, from, to string, created time.Time) incident.Override {
		return incident.Override{ID: id, Who: who, From: at(from), To: at(to), Created: created, By: incident.User{ID: uCarol}}
	}

	t.Run("a partial override splits the shift", func(t *testing.T) {
		ovs := []incident.Override{ov(1, uCarol, "2026-01-07 10:00", "2026-01-07 14:00", created)}
		checkShifts(t, s.Shifts(at("2026-01-05 09:00"), at("2026-01-12 09:00"), ovs), `
			U01ANA0001 01-05 09:00 → 01-07 10:00 weekly
			U03CAROL03 01-07 10:00 → 01-07 14:00 override 1
			U01ANA0001 01-07 14:00 → 01-12 09:00 weekly
		`)
		sh, ok := s.OnCall(at("2026-01-07 12:00"), ovs)
		if !ok || sh.Who != uCarol || sh.Override == nil || sh.Override.ID != 1 || sh.Override.By.ID != uCarol {
			t.Errorf("OnCall during the override = %+v, %v", sh, ok)
		}
		if sh, _ := s.OnCall(at("2026-01-06 12:00"), ovs); sh.Who != uAna || !sh.End.Equal(at("2026-01-07 10:00")) || sh.Override != nil {
			t.Errorf("OnCall before the override = %+v: want Ana until it starts", sh)
		}
		// Asked from inside the second part, the shift still ends at the
		// handoff and starts where the override ended.
		if sh, _ := s.OnCall(at("2026-01-09 12:00"), ovs); !sh.Start.Equal(at("2026-01-07 14:00")) || !sh.End.Equal(at("2026-01-12 09:00")) {
			t.Errorf("OnCall after the override = %+v", sh)
		}
	})
	t.Run("overlapping overrides: the newest wins", func(t *testing.T) {
		older := ov(1, uCarol, "2026-01-07 10:00", "2026-01-07 18:00", created)
		newer := ov(2, uDave, "2026-01-07 12:00", "2026-01-07 14:00", created.Add(time.Hour))
		want := `
			U01ANA0001 01-05 09:00 → 01-07 10:00 weekly
			U03CAROL03 01-07 10:00 → 01-07 12:00 override 1
			U04DAVE004 01-07 12:00 → 01-07 14:00 override 2
			U03CAROL03 01-07 14:00 → 01-07 18:00 override 1
			U01ANA0001 01-07 18:00 → 01-12 09:00 weekly
		`
		checkShifts(t, s.Shifts(at("2026-01-06 00:00"), at("2026-01-08 00:00"), []incident.Override{older, newer}), want)
		checkShifts(t, s.Shifts(at("2026-01-06 00:00"), at("2026-01-08 00:00"), []incident.Override{newer, older}), want) // order given does not matter
		// Made later, the long one hides the short one.
		older.Created = created.Add(2 * time.Hour)
		checkShifts(t, s.Shifts(at("2026-01-06 00:00"), at("2026-01-08 00:00"), []incident.Override{older, newer}), `
			U01ANA0001 01-05 09:00 → 01-07 10:00 weekly
			U03CAROL03 01-07 10:00 → 01-07 18:00 override 1
			U01ANA0001 01-07 18:00 → 01-12 09:00 weekly
		`)
		// Made at the same instant, the higher id (made last) wins.
		older.Created, newer.Created = created, created
		if sh, _ := s.OnCall(at("2026-01-07 13:00"), []incident.Override{newer, older}); sh.Who != uDave {
			t.Errorf("equal Created: %s on call, want override 2's %s", sh.Who, uDave)
		}
	})
	t.Run("an override across a handoff and in a gap", func(t *testing.T) {
		ovs := []incident.Override{ov(1, uCarol, "2026-01-04 20:00", "2026-01-05 12:00", created)}
		checkShifts(t, s.Shifts(at("2026-01-04 00:00"), at("2026-01-06 00:00"), ovs), `
			U03CAROL03 01-04 20:00 → 01-05 12:00 override 1
			U01ANA0001 01-05 12:00 → 01-12 09:00 weekly
		`)
	})
	t.Run("another schedule's override is ignored", func(t *testing.T) {
		o := ov(1, uCarol, "2026-01-07 10:00", "2026-01-07 14:00", created)
		o.Schedule = "other"
		if sh, _ := s.OnCall(at("2026-01-07 12:00"), []incident.Override{o}); sh.Who != uAna {
			t.Errorf("OnCall = %s, want Ana: the override is for another schedule", sh.Who)
		}
		o.Schedule = "S" // names are case-insensitive
		if sh, _ := s.OnCall(at("2026-01-07 12:00"), []incident.Override{o}); sh.Who != uCarol {
			t.Errorf("OnCall = %s, want Carol", sh.Who)
		}
	})
}

func TestCheckOverride(t *testing.T) {
	s := schedule(t, "UTC", rotation("weekly", "2026-01-05T09:00", "1w", []string{uAna}))
	now := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	ok := incident.Override{Schedule: "s", Who: uBob, From: now, To: now.Add(4 * time.Hour)}
	if err := s.CheckOverride(ok, now); err != nil {
		t.Errorf("CheckOverride(valid) = %v", err)
	}
	for name, change := range map[string]func(*incident.Override){
		"no person":        func(o *incident.Override) { o.Who = "" },
		"a name":           func(o *incident.Override) { o.Who = "uBob" },
		"ends before":      func(o *incident.Override) { o.To = o.From.Add(-time.Hour) },
		"empty":            func(o *incident.Override) { o.To = o.From },
		"in the past":      func(o *incident.Override) { o.From, o.To = now.Add(-5*time.Hour), now.Add(-time.Hour) },
		"too long":         func(o *incident.Override) { o.To = o.From.Add(incident.MaxOverride + time.Hour) },
		"another schedule": func(o *incident.Override) { o.Schedule = "other" },
	} {
		o := ok
		change(&o)
		if err := s.CheckOverride(o, now); err == nil || !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("%s: CheckOverride = %v, want an invalid-input error", name, err)
		}
	}
}

func TestRemovedParticipantAndFutureStart(t *testing.T) {
	start := "2026-01-05T09:00"
	before := schedule(t, "UTC", rotation("weekly", start, "1w", []string{uAna, uBob, uCarol}))
	after := schedule(t, "UTC", rotation("weekly", start, "1w", []string{uAna, uCarol}))
	from, to := local(t, after, "2026-01-05 09:00"), local(t, after, "2026-03-16 09:00")
	// Without Bob, the turns are counted again from the start: Ana, Carol, Ana…
	for i, sh := range after.Shifts(from, to, nil) {
		if want := []string{uAna, uCarol}[i%2]; sh.Who != want {
			t.Errorf("shift %d (%s) is %s's, want %s's", i, sh.Start.Format(time.DateOnly), sh.Who, want)
		}
	}
	if got := len(after.Shifts(from, to, nil)); got != 10 {
		t.Errorf("%d shifts in 10 weeks, want 10", got)
	}
	if sh, _ := before.OnCall(local(t, before, "2026-01-12 09:00"), nil); sh.Who != uBob {
		t.Errorf("before the change week 2 is %s's, want Bob's", sh.Who)
	}

	future := schedule(t, "UTC", rotation("weekly", "2026-06-01T09:00", "1w", []string{uAna, uBob}))
	if sh, ok := future.OnCall(local(t, future, "2026-06-01 08:59"), nil); ok {
		t.Errorf("before the start %s is on call, want nobody", sh.Who)
	}
	if got := future.Shifts(local(t, future, "2026-01-01 00:00"), local(t, future, "2026-06-01 09:00"), nil); len(got) != 0 {
		t.Errorf("before the start: shifts %s", show(got))
	}
	next, ok := future.Next(local(t, future, "2026-05-01 00:00"), nil)
	if !ok || next.Who != uAna || !next.Start.Equal(local(t, future, "2026-06-01 09:00")) {
		t.Errorf("Next before the start = %+v, %v; want Ana at the start", next, ok)
	}
}

func TestNext(t *testing.T) {
	s := issueSchedule(t)
	tests := []struct {
		at, who, start string
	}{
		{"2026-01-07 12:00", uDave, "2026-01-10 00:00"}, // Ana now, Dave at the weekend
		{"2026-01-10 12:00", uAna, "2026-01-12 00:00"},  // Dave now, Ana for her last hours
		{"2026-01-12 08:00", uBob, "2026-01-12 09:00"},  // Ana now, Bob at 09:00
		{"2026-01-02 12:00", uDave, "2026-01-03 00:00"}, // nobody now
		{"2026-01-12 09:00", uDave, "2026-01-17 00:00"}, // at a handoff: Bob now, so Dave next
		{"2026-01-09 23:59", uDave, "2026-01-10 00:00"},
	}
	for _, tc := range tests {
		next, ok := s.Next(local(t, s, tc.at), nil)
		if !ok || next.Who != tc.who || !next.Start.Equal(local(t, s, tc.start)) {
			t.Errorf("Next(%s) = %s at %s, %v; want %s at %s", tc.at, next.Who, next.Start, ok, tc.who, tc.start)
		}
	}
	alone := schedule(t, "UTC", rotation("weekly", "2026-01-05T09:00", "1w", []string{uAna}))
	if next, ok := alone.Next(local(t, alone, "2026-02-01 00:00"), nil); ok {
		t.Errorf("Next with one participant = %+v: want none, nobody else is ever on call", next)
	}
	ovs := []incident.Override{{ID: 1, Who: uBob, From: local(t, alone, "2026-03-01 00:00"), To: local(t, alone, "2026-03-02 00:00")}}
	if next, ok := alone.Next(local(t, alone, "2026-02-01 00:00"), ovs); !ok || next.Who != uBob || next.Override == nil {
		t.Errorf("Next with an override ahead = %+v, %v; want Bob's override", next, ok)
	}
}

func TestHandoffs(t *testing.T) {
	s := issueSchedule(t)
	got := s.Handoffs(local(t, s, "2026-01-05 09:00"), local(t, s, "2026-01-17 00:00"), nil)
	// (from, to]: Ana's start at from is not in it, Dave's at to is.
	checkShifts(t, got, `
		U04DAVE004 01-10 00:00 → 01-12 00:00 weekend
		U01ANA0001 01-12 00:00 → 01-12 09:00 weekly
		U02BOB0002 01-12 09:00 → 01-17 00:00 weekly
		U04DAVE004 01-17 00:00 → 01-19 00:00 weekend
	`)
	// Handoffs over consecutive ranges are each handoff once: a restart
	// that resumes from where it stopped neither repeats nor misses any.
	var joined []incident.Shift
	for d := local(t, s, "2026-01-05 09:00"); d.Before(local(t, s, "2026-01-17 00:00")); d = d.Add(7 * time.Hour) {
		joined = append(joined, s.Handoffs(d, d.Add(7*time.Hour), nil)...)
	}
	if show(joined) != show(got) {
		t.Errorf("handoffs in steps:\n%s\nwant:\n%s", show(joined), show(got))
	}
	// Someone alone in a rotation is handed nothing at each of their shifts.
	alone := schedule(t, "UTC", rotation("weekly", "2026-01-05T09:00", "1w", []string{uAna}))
	checkShifts(t, alone.Handoffs(local(t, alone, "2026-01-01 00:00"), local(t, alone, "2026-02-01 00:00"), nil), `
		U01ANA0001 01-05 09:00 → 01-12 09:00 weekly
	`)
}

// An instant asked by mistake (the zero time, the far future) is answered
// at once, not after stepping through centuries of shifts.
func TestOnCallAtOddInstants(t *testing.T) {
	s := issueSchedule(t)
	if sh, ok := s.OnCall(time.Time{}, nil); ok {
		t.Errorf("OnCall(zero time) = %s, want nobody", sh.Who)
	}
	far := time.Date(9999, 1, 4, 12, 0, 0, 0, time.UTC) // a Monday
	if sh, ok := s.OnCall(far, nil); !ok || sh.Rotation != "weekly" {
		t.Errorf("OnCall(9999) = %+v, %v; want the weekly rotation's", sh, ok)
	}
	if got := s.Shifts(time.Time{}, time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), nil); len(got) != 1 || got[0].Who != uDave {
		t.Errorf("Shifts from the zero time = %s", show(got))
	}
}
