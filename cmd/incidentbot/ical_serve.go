package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/metrics"
	"github.com/incidentbot/incidentbot/store"
)

// The calendar feeds, GET /oncall/<schedule>.ics?token=…, and the on-call
// gauge of /metrics. Both read the schedules from the escalation file and
// the overrides from the database, at request time.

// How much of a schedule a feed holds: the past week (so a calendar shows
// who had the last shift) and the weeks ahead.
const (
	feedPast  = 7 * 24 * time.Hour
	feedAhead = 35 * 24 * time.Hour
)

// maxFeedFile caps a schedule's local ical: file.
const maxFeedFile = 4 << 20

// onCallFeeds serves the calendar feeds and reads who is on call.
type onCallFeeds struct {
	token    string // INCIDENTBOT_ICAL_TOKEN; "" turns the feeds off
	policies *incident.Policies
	db       *store.DB
	now      func() time.Time
	log      zerolog.Logger
	feeds    feedCache
}

// newOnCallFeeds loads the schedules as the bot does. Called once, when
// the health endpoint is built, after newApp loaded the same file.
func (a *app) newOnCallFeeds() *onCallFeeds {
	f := &onCallFeeds{token: a.cfg.ICalToken, db: a.db, now: time.Now, log: a.log}
	p, _, err := loadPolicies(a.cfg.EscalationFile, os.Getenv)
	if err != nil && p == nil {
		a.log.Warn().Err(err).Msg("calendar feeds and the on-call gauge are off: the escalation file did not load")
		p = &incident.Policies{}
	}
	f.policies = p
	return f
}

// ServeHTTP serves GET /oncall/{file}. The token is checked before
// anything else, so a request without the right one learns nothing about
// which schedules exist; the token is never logged (nor the URL, which
// holds it).
func (f *onCallFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.token == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	got := r.URL.Query().Get("token")
	if got == "" {
		http.Error(w, "a calendar feed needs its token: /oncall/<schedule>.ics?token=…", http.StatusUnauthorized)
		return
	}
	if !sameToken(got, f.token) {
		http.Error(w, "wrong token", http.StatusForbidden)
		return
	}
	name, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	sched, found := f.policies.Schedule(name)
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	now := f.now()
	sched = f.feeds.load(sched, f.log)
	var overrides []incident.Override
	err := f.db.View(func(tx *store.Tx) error {
		var err error
		overrides, err = tx.Overrides(sched.Name, now.Add(-feedPast-incident.MaxOverride))
		return err
	})
	if err != nil {
		f.log.Error().Err(err).Str("schedule", sched.Name).Msg("calendar feed: cannot read the overrides")
		http.Error(w, "cannot read the overrides", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.ics"`, sched.Name))
	w.Header().Set("Cache-Control", "private, max-age=300")
	if err := writeSchedule(w, sched, now.Add(-feedPast), now.Add(feedAhead), overrides, now); err != nil {
		f.log.Warn().Err(err).Str("schedule", sched.Name).Msg("calendar feed: write failed")
	}
}

// sameToken compares in constant time, also in the length: both sides are
// hashed first.
func sameToken(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// onCallNow is who is on call on each schedule now, for /metrics: one read
// of the overrides per schedule.
func (f *onCallFeeds) onCallNow() []metrics.OnCall {
	now := f.now()
	var out []metrics.OnCall
	for i := range f.policies.Schedules {
		s := f.feeds.load(&f.policies.Schedules[i], f.log)
		var overrides []incident.Override
		if err := f.db.View(func(tx *store.Tx) error {
			var err error
			overrides, err = tx.Overrides(s.Name, now)
			return err
		}); err != nil {
			continue
		}
		if sh, ok := s.OnCall(now, overrides); ok {
			out = append(out, metrics.OnCall{Schedule: s.Name, Person: sh.Who})
		}
	}
	return out
}

// writeSchedule writes the shifts of s overlapping [from, to) as an RFC
// 5545 calendar, with the domain's writer (golang-ical), for the feed and
// incidentbot oncall --ical.
func writeSchedule(w io.Writer, s *incident.Schedule, from, to time.Time, overrides []incident.Override, now time.Time) error {
	return incident.WriteCalendar(w, s, s.Shifts(from, to, overrides), incident.CalendarOptions{Now: now})
}

// feedCache holds the parsed local ical: files of feed schedules, read
// again when the file changes. A feed at an https URL is fetched by the
// bot's on-call module, not here: such a schedule shows nobody on call.
type feedCache struct {
	mu      sync.Mutex
	entries map[string]feedEntry
}

type feedEntry struct {
	mod  time.Time
	size int64
	feed *incident.Feed
}

// load returns s with its local feed installed (s itself for a rotation
// schedule, or when the feed cannot be read: then nobody is on call).
func (c *feedCache) load(s *incident.Schedule, log zerolog.Logger) *incident.Schedule {
	if s.ICal == "" || strings.Contains(s.ICal, "://") {
		return s
	}
	st, err := os.Stat(s.ICal)
	if err != nil {
		log.Warn().Err(err).Str("schedule", s.Name).Msg("cannot read the schedule's ical file")
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[s.ICal]; ok && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return s.WithFeed(e.feed)
	}
	feed, err := readFeedFile(s)
	if err != nil {
		log.Warn().Err(err).Str("schedule", s.Name).Msg("cannot read the schedule's ical file")
		return s
	}
	if c.entries == nil {
		c.entries = map[string]feedEntry{}
	}
	c.entries[s.ICal] = feedEntry{mod: st.ModTime(), size: st.Size(), feed: feed}
	return s.WithFeed(feed)
}

// readFeedFile reads and parses a schedule's local ical: file.
func readFeedFile(s *incident.Schedule) (*incident.Feed, error) {
	fh, err := os.Open(s.ICal)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFeedFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFeedFile {
		return nil, fmt.Errorf("%s is over %d MiB", s.ICal, maxFeedFile>>20)
	}
	return incident.ParseFeed(data, s.Location)
}
