package incident_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// issueFile is the example of issue 15, with a policy paging both schedules.
const issueFile = `
policies:
  - name: platform
    levels:
      - targets: ["schedule:platform-primary", U0123ABCD]
        timeout: 5m
      - targets: ["schedule:Vendor"]
        timeout: 10m
schedules:
  - name: platform-primary
    description: Platform primary on-call
    time_zone: Europe/Berlin
    usergroup: S0PLATONCALL
    handoff_channel: C0PLATFORM
    rotations:
      - name: weekly
        start: 2026-01-05T09:00
        shift: 1w
        participants: [U01ANA0001, U02BOB0002, U03CAROL03]
      - name: weekend
        start: 2026-01-03T00:00
        shift: 1w
        participants: [U04DAVE004]
        only: ["sat 00:00-24:00", "sun 00:00-24:00"]
  - name: vendor
    ical: /etc/incidentbot/vendor.ics
`

func TestParseSchedules(t *testing.T) {
	ps, err := incident.ParsePolicies([]byte(issueFile), env)
	if err != nil {
		t.Fatalf("ParsePolicies: %v", err)
	}
	if len(ps.Schedules) != 2 {
		t.Fatalf("got %d schedules, want 2", len(ps.Schedules))
	}
	berlin := zone(t, "Europe/Berlin")
	s, ok := ps.Schedule(" PLATFORM-primary ")
	if !ok || s != &ps.Schedules[0] {
		t.Fatalf("Schedule(PLATFORM-primary) = %v, %v; want a pointer to the first", s, ok)
	}
	if s.Description != "Platform primary on-call" || s.Location.String() != "Europe/Berlin" || s.Usergroup != "S0PLATONCALL" || s.HandoffChannel != "C0PLATFORM" || s.ICal != "" {
		t.Errorf("schedule fields = %+v", s)
	}
	weekly, weekend := s.Rotations[0], s.Rotations[1]
	if !weekly.Start.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, berlin)) || weekly.Length != 7*24*time.Hour || len(weekly.Participants) != 3 || weekly.Name != "weekly" {
		t.Errorf("weekly = %+v", weekly)
	}
	if len(weekend.Only) != 2 || weekend.Only[0].String() != "sat 00:00-24:00" || !weekend.Only[1].Days[time.Sunday] || weekend.Only[1].Days[time.Monday] {
		t.Errorf("weekend.Only = %+v", weekend.Only)
	}
	vendor, _ := ps.Schedule("vendor")
	if vendor.ICal != "/etc/incidentbot/vendor.ics" || vendor.Location != time.UTC || len(vendor.Rotations) != 0 {
		t.Errorf("vendor = %+v", vendor)
	}
	p, _ := ps.Get("platform")
	want := [][]incident.Target{{"schedule:platform-primary", "U0123ABCD"}, {"schedule:vendor"}} // the name as defined
	for i, l := range p.Levels {
		if strings.Join(targets(l.Targets), " ") != strings.Join(targets(want[i]), " ") {
			t.Errorf("level %d targets = %v, want %v", i+1, l.Targets, want[i])
		}
	}
	tg := p.Levels[0].Targets[0]
	if tg.Kind() != incident.TargetSchedule || tg.Value() != "platform-primary" || tg.Provider() || tg.Redacted() != "schedule:platform-primary" {
		t.Errorf("schedule target: kind %v value %q provider %v redacted %q", tg.Kind(), tg.Value(), tg.Provider(), tg.Redacted())
	}
}

func targets(ts []incident.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, string(t))
	}
	return out
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestParseSchedulesReportsEveryProblem: one file with a mistake in every
// schedule field is rejected with all of them, in file order, each naming
// schedule, rotation and field, with an example.
func TestParseSchedulesReportsEveryProblem(t *testing.T) {
	file := `
policies:
  - name: platform
    levels:
      - targets: ["schedule:nope", "schedule:platform-primary"]
        timeout: 5m
schedules:
  - name: platform-primary
    time_zone: Europe/Berlln
    usergroup: platform-oncall
    handoff_channel: "#platform"
    rotations:
      - name: weekly
        start: 2026-01-05 09:00
        shift: 1 week
        participants: [ana, U02BOB0002]
        only: ["weekends", "sat 25:00-26:00", "fri 09:00-09:00", "mon-xyz 09:00-17:00"]
      - start: 2026-03-29T02:30
        shift: 5w
      - name: weekly
        start: 2026-01-05T09:00
        shift: 30m
        participants: [U01ANA0001]
  - name: Platform-Primary
    rotations: []
  - name: platform
    time_zone: UTC
    usergroup: S0PLATONCALL
    ical: http://calendar.example.com/private-XXXXSECRET/basic.ics
    rotations:
      - name: r
        start: 2026-01-05T09:00
        shift: 1d
        participants: [U01ANA0001]
  - time_zone: Local
    usergroup: S0PLATONCALL
`
	_, err := incident.ParsePolicies([]byte(file), env)
	if err == nil {
		t.Fatal("ParsePolicies succeeded, want an error")
	}
	checkFileError(t, err)
	want := []string{
		`policy "platform" level 1 target 1 ("schedule:nope"): no schedule of that name is defined under schedules: (defined: platform-primary, platform)`,
		`schedule "platform-primary": time_zone "Europe/Berlln" is not an IANA time zone: write e.g. time_zone: Europe/Berlin`,
		`schedule "platform-primary": usergroup "platform-oncall" is not a user group id: write the id (S…), not the @handle, e.g. usergroup: S0PLATONCALL`,
		`schedule "platform-primary": handoff_channel "#platform" is not a channel id: write the id (C…`,
		`schedule "platform-primary" rotation "weekly": start "2026-01-05 09:00" is not a local date and time: write e.g. start: 2026-01-05T09:00`,
		`schedule "platform-primary" rotation "weekly": shift "1 week" is not a length: write a whole number of hours, days or weeks, e.g. shift: 12h, 1d or 1w`,
		`schedule "platform-primary" rotation "weekly" participant 1 ("ana"): not a user id: use the id such as U0123ABCD`,
		`schedule "platform-primary" rotation "weekly" only 1 ("weekends"): not a window of days and hours: write e.g. "mon-fri 09:00-17:00"`,
		`schedule "platform-primary" rotation "weekly" only 2 ("sat 25:00-26:00"): 25:00 is not a time of day`,
		`schedule "platform-primary" rotation "weekly" only 3 ("fri 09:00-09:00"): starts and ends at 09:00: write 00:00-24:00 for a whole day`,
		`schedule "platform-primary" rotation "weekly" only 4 ("mon-xyz 09:00-17:00"): "xyz" is not a day: use mon, tue, wed, thu, fri, sat or sun`,
		`schedule "platform-primary" rotation 2: name is missing: write e.g. name: weekly`,
		`schedule "platform-primary" rotation 2: start 2026-03-29T02:30 does not exist in UTC`, // the zone was wrong, so UTC: no gap
		`schedule "platform-primary" rotation 2: shift 5w must be between 1h and 4w`,
		`schedule "platform-primary" rotation 2: participants are missing: list user ids in the order they take shifts, e.g. participants: [U01ANA0001, U02BOB0002]`,
		`schedule "platform-primary" rotation "weekly": defined twice in this schedule`,
		`schedule "platform-primary" rotation "weekly": shift "30m" is not a length`,
		`schedule "Platform-Primary": name must be lowercase letters`,
		`schedule "Platform-Primary": defined twice (names are case-insensitive)`,
		`schedule "Platform-Primary": time_zone is missing: write the IANA zone the rota keeps its local times in, e.g. time_zone: Europe/Berlin (or UTC)`,
		`schedule "Platform-Primary": rotations are missing: add at least one rotation (name, start, shift, participants), or give ical: a feed's path or https URL`,
		`schedule "platform": a policy has the same name, and both are typed after /incident oncall: give the schedule another, e.g. name: platform-oncall`,
		`schedule "platform": has both rotations and ical: keep one`,
		`schedule 4: name is missing: write e.g. name: platform-primary`,
		`schedule 4: time_zone "Local" is not an IANA time zone`,
		`schedule 4: usergroup S0PLATONCALL is also schedule "platform"'s`,
		`schedule 4: rotations are missing`,
	}
	lines := strings.Split(err.Error(), "\n")
	// The start in a DST gap is reported only in a zone that has one: the
	// wrong zone above fell back to UTC, so that line is not there.
	want = append(want[:12], want[13:]...)
	if len(lines) != len(want) {
		t.Errorf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && !strings.Contains(lines[i], w) {
			t.Errorf("line %d is\n\t%q\nwant it to contain\n\t%q", i+1, lines[i], w)
		}
	}
}

func TestParseSchedulesErrors(t *testing.T) {
	rotation := func(extra string) string {
		return "schedules:\n  - name: s\n    time_zone: Europe/Berlin\n    rotations:\n      - name: r\n        start: 2026-01-05T09:00\n        shift: 1w\n        participants: [U01ANA0001]\n" + extra
	}
	tests := []struct{ name, file, want string }{
		{"start in the spring gap", strings.Replace(rotation(""), "2026-01-05T09:00", "2026-03-29T02:30", 1),
			`schedule "s" rotation "r": start 2026-03-29T02:30 does not exist in Europe/Berlin (the clocks skip it)`},
		{"start with seconds", strings.Replace(rotation(""), "2026-01-05T09:00", "2026-01-05T09:00:00", 1), `start "2026-01-05T09:00:00" is not a local date and time`},
		{"start with an offset", strings.Replace(rotation(""), "2026-01-05T09:00", "2026-01-05T09:00+01:00", 1), `no offset: the time is in time_zone`},
		{"shift without unit", strings.Replace(rotation(""), "1w", "7", 1), `shift "7" is not a length`},
		{"shift in minutes", strings.Replace(rotation(""), "1w", "90m", 1), `shift "90m" is not a length`},
		{"shift too long", strings.Replace(rotation(""), "1w", "29d", 1), `shift 29d must be between 1h and 4w`},
		{"misspelt rotation field", rotation("        particpants: []\n"), "field particpants is unknown in a rotation (fields: name, start, shift, participants, only)"},
		{"misspelt schedule field", rotation("    timezone: UTC\n"), "field timezone is unknown in a schedule (fields: name, description, time_zone, usergroup, handoff_channel, rotations, ical)"},
		{"participants not a list", strings.Replace(rotation(""), "[U01ANA0001]", "U01ANA0001", 1), "into a list: write e.g. participants: [U01ANA0001, U02BOB0002]"},
		{"schedules not a list", "schedules:\n  name: s\n", "into schedules: it must be a list of schedules"},
		{"rotations not a list", "schedules:\n  - name: s\n    rotations:\n      name: r\n", "into rotations: it must be a list of rotations"},
		{"ical over ftp", "schedules:\n  - name: s\n    ical: ftp://files.example.com/XXXXSECRET.ics\n", `schedule "s": ical "ftp://files.example.com/…": not a file path or an https URL`},
		{"unknown schedule, none defined", "policies:\n  - name: p\n    levels:\n      - targets: [\"schedule:s\"]\n        timeout: 5m\n",
			`target 1 ("schedule:s"): no schedule of that name is defined under schedules: (defined: none)`},
		{"schedule target that is not a name", "policies:\n  - name: p\n    levels:\n      - targets: [\"schedule:R0UTINGKEY\"]\n        timeout: 5m\n", `target 1 ("schedule:R0U…")`},
		{"same schedule twice in a level", rotation("policies:\n  - name: p\n    levels:\n      - targets: [\"schedule:s\", \"schedule:S\"]\n        timeout: 5m\n"),
			`target 2 ("schedule:s"): listed twice in this level`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := incident.ParsePolicies([]byte(tc.file), env)
			if err == nil {
				t.Fatal("ParsePolicies succeeded, want an error")
			}
			checkFileError(t, err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not contain %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	days := func(ds ...time.Weekday) [7]bool {
		var out [7]bool
		for _, d := range ds {
			out[d] = true
		}
		return out
	}
	all := days(0, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		in       string
		days     [7]bool
		from, to time.Duration
	}{
		{"sat 00:00-24:00", days(time.Saturday), 0, 24 * time.Hour},
		{"mon-fri 09:00-17:00", days(1, 2, 3, 4, 5), 9 * time.Hour, 17 * time.Hour},
		{"Sat,SUN 00:00 - 24:00", days(0, 6), 0, 24 * time.Hour},
		{"fri-mon 22:00-06:00", days(5, 6, 0, 1), 22 * time.Hour, 6 * time.Hour},
		{"mon, wed-fri  9:30-17:45", days(1, 3, 4, 5), 9*time.Hour + 30*time.Minute, 17*time.Hour + 45*time.Minute},
		{"18:00-09:00", all, 18 * time.Hour, 9 * time.Hour},
	}
	for _, tc := range tests {
		w, err := incident.ParseWindow(tc.in)
		if err != nil || w.Days != tc.days || w.From != tc.from || w.To != tc.to {
			t.Errorf("ParseWindow(%q) = %+v, %v; want days %v %v-%v", tc.in, w, err, tc.days, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"", "weekends", "sat", "sat 00:00", "sat 24:00-01:00", "sat 09:60-10:00", "sa 09:00-10:00", "mon-fri09:00-17:00", "mon 10:00-10:00"} {
		if _, err := incident.ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) succeeded, want an error", bad)
		}
	}
}

// A relative ical: path is read next to the escalation file.
func TestLoadPoliciesResolvesFeedPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "escalation.yaml")
	file := "schedules:\n  - name: rel\n    ical: feeds/vendor.ics\n  - name: abs\n    ical: /srv/vendor.ics\n  - name: url\n    ical: https://example.com/x.ics\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := incident.LoadPolicies(path, env)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"rel": filepath.Join(dir, "feeds/vendor.ics"), "abs": "/srv/vendor.ics", "url": "https://example.com/x.ics"} {
		if s, _ := ps.Schedule(name); s.ICal != want {
			t.Errorf("%s: ICal = %q, want %q", name, s.ICal, want)
		}
	}
	if s, _ := ps.Schedule("url"); s.ICalRedacted() != "https://example.com/…" {
		t.Errorf("ICalRedacted = %q", s.ICalRedacted())
	}
}

// The example documents schedules: one of rotations with a restricted
// layer, one of a feed, and a policy paging them.
func TestExampleFileSchedules(t *testing.T) {
	data, err := os.ReadFile("../deploy/escalation.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := incident.ParsePolicies(data, anyEnv)
	if err != nil {
		t.Fatalf("deploy/escalation.example.yaml: %v", err)
	}
	primary, ok1 := ps.Schedule("platform-primary")
	vendor, ok2 := ps.Schedule("vendor")
	if !ok1 || !ok2 || len(primary.Rotations) != 2 || len(primary.Rotations[1].Only) == 0 || primary.Usergroup == "" || primary.HandoffChannel == "" || vendor.ICal == "" {
		t.Fatalf("the example's schedules: %+v", ps.Schedules)
	}
	p, ok := ps.Get("platform-oncall")
	if !ok || p.Levels[0].Targets[0].Kind() != incident.TargetSchedule {
		t.Errorf("the example has no policy paging a schedule")
	}
	// Every field of a schedule and a rotation is documented.
	for _, field := range []string{"name", "description", "time_zone", "usergroup", "handoff_channel", "rotations", "ical", "start", "shift", "participants", "only"} {
		if !strings.Contains(string(data), "# "+field+" (") && !strings.Contains(string(data), "# "+field+":") {
			t.Errorf("the example does not document %s", field)
		}
	}
}
