package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/store"
)

const oncallUsage = `Usage: incidentbot oncall [--at TIME] [SCHEDULE]
       incidentbot oncall --ical SCHEDULE [--at TIME] [--days N]

Who is on call, from INCIDENTBOT_ESCALATION_FILE's schedules and the overrides
in INCIDENTBOT_DB (read-only; works while Slack is down). Without SCHEDULE:
each schedule, who is on call and who is next. With SCHEDULE: its shifts
over the next --days days (7), overrides marked. With --ical: those shifts
(from --at, default now, over --days days, default 28) as an RFC 5545
calendar on stdout.

TIME is RFC 3339 (2026-03-29T10:00:00+02:00), a UTC date and time
(2026-03-29 08:00) or what /incident note --at reads (10:28, 15m ago).
`

// cmdOncall prints who is on call, or a schedule's shifts, or its calendar.
func cmdOncall(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	fset := flag.NewFlagSet("oncall", flag.ContinueOnError)
	fset.SetOutput(stderr)
	atFlag := fset.String("at", "", "the instant to show (default now)")
	ical := fset.Bool("ical", false, "write SCHEDULE's shifts as an iCalendar (RFC 5545) file on stdout")
	days := fset.Int("days", 0, "how many days of shifts to show (7; 28 with --ical)")
	fset.Usage = func() {
		fmt.Fprint(stderr, oncallUsage+"\n")
		fset.PrintDefaults()
	}
	pos, code := parseFlags(fset, args, -1)
	if code >= 0 {
		return code
	}
	if len(pos) > 1 || (*ical && len(pos) == 0) {
		fmt.Fprint(stderr, "incidentbot oncall: give one SCHEDULE at most (and one with --ical)\n\n"+oncallUsage)
		return 2
	}
	if *days < 0 || *days > 366 {
		fmt.Fprintf(stderr, "incidentbot oncall: --days must be between 1 and 366 (got %d)\n", *days)
		return 2
	}
	now := time.Now()
	at := now
	if *atFlag != "" {
		t, err := parseAt(*atFlag, now)
		if err != nil {
			fmt.Fprintf(stderr, "incidentbot oncall: --at: %v\n", err)
			return 2
		}
		at = t
	}
	cfg, code := configFrom(env, stderr, false)
	if code >= 0 {
		return code
	}
	policies, _, err := loadPolicies(cfg.EscalationFile, env.Getenv)
	if policies == nil {
		fmt.Fprintf(stderr, "incidentbot: INCIDENTBOT_ESCALATION_FILE: %v\n", err)
		return 1
	}
	if len(policies.Schedules) == 0 {
		fmt.Fprintf(stderr, "incidentbot oncall: no schedules in %s: add a schedules: list (see deploy/escalation.example.yaml)\n", orNone(cfg.EscalationFile))
		return 1
	}
	var schedules []*incident.Schedule
	if len(pos) == 1 {
		s, ok := policies.Schedule(pos[0])
		if !ok {
			fmt.Fprintf(stderr, "incidentbot oncall: no schedule %q in %s (schedules: %s)\n", pos[0], cfg.EscalationFile, scheduleNames(policies))
			return 1
		}
		schedules = append(schedules, s)
	} else {
		for i := range policies.Schedules {
			schedules = append(schedules, &policies.Schedules[i])
		}
	}
	for i, s := range schedules {
		schedules[i] = offlineFeed(s, stderr)
	}
	overrides, err := readOverrides(cfg, at.Add(-incident.MaxOverride))
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot oncall: %v\n", err)
		return 1
	}
	switch {
	case *ical:
		n := *days
		if n == 0 {
			n = 28
		}
		err = writeSchedule(stdout, schedules[0], at, at.Add(time.Duration(n)*24*time.Hour), overrides, now)
	case len(pos) == 1:
		n := *days
		if n == 0 {
			n = 7
		}
		err = printShifts(stdout, schedules[0], at, n, overrides)
	default:
		err = printOnCall(stdout, cfg.EscalationFile, schedules, at, overrides)
	}
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot oncall: %v\n", err)
		return 1
	}
	return 0
}

// parseAt reads --at: RFC 3339, a UTC date and time at any distance, or
// what incident.ParseWhen reads (the recent past).
func parseAt(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return incident.ParseWhen(s, now)
}

// offlineFeed installs a feed schedule's local file; a feed at a URL is
// not fetched by this command, which says so.
func offlineFeed(s *incident.Schedule, stderr io.Writer) *incident.Schedule {
	if s.ICal == "" {
		return s
	}
	if strings.Contains(s.ICal, "://") {
		fmt.Fprintf(stderr, "incidentbot oncall: schedule %s reads its feed from %s, which this command does not fetch: it shows nobody on call\n", s.Name, s.ICalRedacted())
		return s
	}
	feed, err := readFeedFile(s)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot oncall: schedule %s: %v: it shows nobody on call\n", s.Name, err)
		return s
	}
	if emails := feed.Unresolved(); len(emails) > 0 {
		fmt.Fprintf(stderr, "incidentbot oncall: schedule %s: the feed names %d people by email, whose shifts only the bot can match to Slack users; they are left out here\n", s.Name, len(emails))
	}
	return s.WithFeed(feed)
}

// readOverrides reads every override ending after since from the database,
// read-only as list and export do; a database that does not exist yet has
// none.
func readOverrides(cfg Config, since time.Time) ([]incident.Override, error) {
	if _, err := os.Stat(cfg.DB); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var out []incident.Override
	err := readDB(cfg, func(tx *store.Tx) error {
		var err error
		out, err = tx.Overrides("", since)
		return err
	})
	return out, err
}

// printOnCall writes, for each schedule, who is on call at at and who is next.
func printOnCall(w io.Writer, file string, schedules []*incident.Schedule, at time.Time, overrides []incident.Override) error {
	fmt.Fprintf(w, "On call at %s, from %s:\n", incident.FormatTime(at), file)
	for _, s := range schedules {
		fmt.Fprintf(w, "\n%s", s.Name)
		if s.Description != "" {
			fmt.Fprintf(w, " — %s", s.Description)
		}
		fmt.Fprintf(w, " (%s)\n", s.Location)
		if sh, ok := s.OnCall(at, overrides); ok {
			fmt.Fprintf(w, "  on call: %s until %s%s\n", sh.Who, bothZones(sh.End, s.Location), shiftSource(sh))
		} else {
			fmt.Fprintln(w, "  on call: nobody")
		}
		if next, ok := s.Next(at, overrides); ok {
			fmt.Fprintf(w, "  next:    %s from %s%s\n", next.Who, bothZones(next.Start, s.Location), shiftSource(next))
		} else {
			fmt.Fprintln(w, "  next:    nobody within a year")
		}
	}
	return nil
}

// printShifts writes a schedule's shifts over days days from at.
func printShifts(w io.Writer, s *incident.Schedule, at time.Time, days int, overrides []incident.Override) error {
	to := at.Add(time.Duration(days) * 24 * time.Hour)
	shifts := s.Shifts(at, to, overrides)
	fmt.Fprintf(w, "%s: shifts from %s to %s (times in UTC and %s)\n\n", s.Name, incident.FormatTime(at), incident.FormatTime(to), s.Location)
	if len(shifts) == 0 {
		fmt.Fprintln(w, "Nobody is on call in this time.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tFROM (UTC)\tUNTIL (UTC)\tFROM (%s)\tUNTIL (%s)\tWHO\tSOURCE\n", s.Location, s.Location)
	const layout = "Mon 2006-01-02 15:04"
	for _, sh := range shifts {
		mark := ""
		if !at.Before(sh.Start) && at.Before(sh.End) {
			mark = "now"
		}
		src := "rotation " + sh.Rotation
		switch {
		case sh.Override != nil:
			src = fmt.Sprintf("OVERRIDE %d", sh.Override.ID)
			if by := sh.Override.By.Name; by != "" {
				src += " by " + by
			} else if sh.Override.By.ID != "" {
				src += " by " + sh.Override.By.ID
			}
		case sh.Rotation == "":
			src = "feed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, sh.Start.UTC().Format(layout), sh.End.UTC().Format(layout),
			sh.Start.In(s.Location).Format(layout+" MST"), sh.End.In(s.Location).Format(layout+" MST"), sh.Who, src)
	}
	return tw.Flush()
}

// bothZones shows an instant in UTC and in the schedule's zone.
func bothZones(t time.Time, loc *time.Location) string {
	return fmt.Sprintf("%s (%s)", incident.FormatTime(t), t.In(loc).Format("2006-01-02 15:04 MST"))
}

// shiftSource marks a shift that an override makes.
func shiftSource(sh incident.Shift) string {
	if sh.Override != nil {
		return fmt.Sprintf("  [override %d]", sh.Override.ID)
	}
	return ""
}

func scheduleNames(p *incident.Policies) string {
	var names []string
	for _, s := range p.Schedules {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func orNone(file string) string {
	if file == "" {
		return "INCIDENTBOT_ESCALATION_FILE (not set)"
	}
	return file
}
