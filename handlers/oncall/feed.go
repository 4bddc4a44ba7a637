package oncall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Calendar feeds. A schedule with ical: has nobody on call until its feed
// is read: each such schedule has a persisted timer job, oncall_feed, in a
// lane of its own, like the handoff timer. It runs on the outbox like every
// other job (so it is paced, retried and survives restarts, and tests drive
// it with the simulated clock): it reads the feed (a file, or an https URL),
// parses it, looks its emails up in Slack (users.lookupByEmail), installs
// it, checks the handoff with it, and sets itself again in FeedEvery. The
// feeds live in memory only, so Start also loads every feed at once. A feed
// that fails to load keeps the last good one (logged, with the URL cut to
// its host: its path is often the secret); until a first one loads it is
// tried again every minute. Schedule returns the schedule with its feed:
// the module, the paging of schedule: targets (wired in the app) and the
// handoffs all read schedules through it.

const jobFeed = "oncall_feed"

// FeedEvery is how often a calendar feed is read again.
const FeedEvery = 15 * time.Minute

// feedRetry is how soon a feed that never loaded is tried again.
const feedRetry = time.Minute

// feedTimeout bounds reading a feed over https.
const feedTimeout = 10 * time.Second

// feedJob reads a schedule's feed; Chain jobs set the next one.
type feedJob struct {
	Schedule string `json:"schedule"`
	Chain    bool   `json:"chain,omitempty"`
}

// feeds are the loaded feeds by lower-case schedule name, swapped whole.
type feeds = map[string]*incident.Feed

// feedState is the module's loaded feeds and the emails found in Slack.
type feedState struct {
	loaded atomic.Pointer[feeds]
	mu     sync.Mutex
	ids    map[string]string // lower-case email → user id, found before
	client *http.Client
}

func feedLane(name string, ids ...int64) string {
	return bot.TimerLane(jobFeed+":"+strings.ToLower(name), ids...)
}

// Schedule returns the schedule named (any case) with its calendar feed, if
// it has one and it has loaded. It may be called from any goroutine.
func (m *Module) Schedule(name string) (*incident.Schedule, bool) {
	s, ok := m.cfg.Policies.Schedule(name)
	if !ok || s.ICal == "" {
		return s, ok
	}
	if cur := m.feeds.loaded.Load(); cur != nil {
		if f := (*cur)[strings.ToLower(s.Name)]; f != nil {
			return s.WithFeed(f), true
		}
	}
	return s, true
}

// schedulesNow returns every schedule, with its feed.
func (m *Module) schedulesNow() []*incident.Schedule {
	if m.cfg.Policies == nil {
		return nil
	}
	out := make([]*incident.Schedule, 0, len(m.cfg.Policies.Schedules))
	for i := range m.cfg.Policies.Schedules {
		if s, ok := m.Schedule(m.cfg.Policies.Schedules[i].Name); ok {
			out = append(out, s)
		}
	}
	return out
}

// install swaps in a schedule's new feed.
func (m *Module) install(name string, f *incident.Feed) {
	for {
		old := m.feeds.loaded.Load()
		next := feeds{}
		if old != nil {
			for k, v := range *old {
				next[k] = v
			}
		}
		next[strings.ToLower(name)] = f
		if m.feeds.loaded.CompareAndSwap(old, &next) {
			return
		}
	}
}

// startFeeds enqueues, in tx, a load now of every feed, and the chain of a
// feed that has none.
func (m *Module) startFeeds(tx *store.Tx, jobs []store.Job, now time.Time) error {
	pending := map[string]bool{}
	for _, j := range jobs {
		var p feedJob
		if j.Kind == jobFeed && json.Unmarshal(j.Payload, &p) == nil && p.Chain {
			pending[strings.ToLower(p.Schedule)] = true
		}
	}
	for i := range m.cfg.Policies.Schedules {
		s := &m.cfg.Policies.Schedules[i]
		if s.ICal == "" {
			continue
		}
		p := feedJob{Schedule: s.Name, Chain: !pending[strings.ToLower(s.Name)]}
		lane := feedLane(s.Name)
		if !p.Chain {
			lane = feedLane(s.Name, now.UnixNano())
		}
		if err := tx.EnqueueJSON(lane, jobFeed, p, now, now); err != nil {
			return err
		}
	}
	return nil
}

// runFeed reads the feed and resolves its emails outside the transaction;
// the commit installs it, checks the handoff and sets the next read.
func (m *Module) runFeed(ctx context.Context, p feedJob) (func(*store.Tx) error, error) {
	s, ok := m.cfg.Policies.Schedule(p.Schedule)
	if !ok || s.ICal == "" {
		return nil, nil // gone from the file
	}
	feed, err := m.loadFeed(ctx, s)
	log := m.h.Log()
	if err != nil {
		log.Warn().Err(err).Str("schedule", s.Name).Str("ical", s.ICalRedacted()).Msg("could not read the calendar feed; keeping the last one read")
	} else {
		m.install(s.Name, feed)
		log.Info().Str("schedule", s.Name).Str("ical", s.ICalRedacted()).Int("events", feed.Events).Int("problems", len(feed.Problems)).Msg("read the calendar feed")
	}
	return func(tx *store.Tx) error {
		r := m.h.NewRequest(tx)
		if err == nil {
			cur, _ := m.Schedule(s.Name)
			ovs, oerr := overrides(tx, cur, r.Now)
			if oerr != nil {
				return oerr
			}
			if herr := m.handoff(r, cur, ovs); herr != nil {
				return herr
			}
		}
		if !p.Chain {
			return nil
		}
		due := r.Now.Add(FeedEvery)
		if cur, _ := m.Schedule(s.Name); cur.Feed == nil {
			due = r.Now.Add(feedRetry)
		}
		return r.EnqueueAt(feedLane(s.Name), jobFeed, p, due)
	}, nil
}

// loadFeed reads, parses and resolves a schedule's feed. An email Slack
// does not know is logged: its events cover nothing.
func (m *Module) loadFeed(ctx context.Context, s *incident.Schedule) (*incident.Feed, error) {
	data, err := m.readFeed(ctx, s.ICal)
	if err != nil {
		return nil, err
	}
	feed, err := incident.ParseFeed(data, s.Location)
	if err != nil {
		return nil, err
	}
	for _, p := range feed.Problems {
		m.h.Log().Warn().Str("schedule", s.Name).Str("problem", p).Msg("calendar feed: an event was skipped")
	}
	ids, err := m.lookupEmails(ctx, feed.Unresolved())
	if err != nil {
		return nil, err
	}
	feed = feed.Resolve(ids)
	for _, email := range feed.Unresolved() {
		m.h.Log().Warn().Str("schedule", s.Name).Str("email", email).Msg("calendar feed: nobody in Slack has this email; their shifts have nobody on call")
	}
	return feed, nil
}

// lookupEmails finds the Slack users of emails (users.lookupByEmail),
// remembering those found; one Slack does not know is left out.
func (m *Module) lookupEmails(ctx context.Context, emails []string) (map[string]string, error) {
	out := map[string]string{}
	for _, email := range emails {
		key := strings.ToLower(email)
		m.feeds.mu.Lock()
		id, ok := m.feeds.ids[key]
		m.feeds.mu.Unlock()
		if !ok {
			u, err := m.h.API().GetUserByEmailContext(ctx, email)
			if handlers.IsAPIError(err, "users_not_found", "user_not_found") {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("users.lookupByEmail: %w", err)
			}
			id = u.ID
			m.feeds.mu.Lock()
			if m.feeds.ids == nil {
				m.feeds.ids = map[string]string{}
			}
			m.feeds.ids[key] = id
			m.feeds.mu.Unlock()
		}
		out[email] = id
	}
	return out, nil
}

// readFeed reads a feed file or https URL, at most MaxFeedSize bytes.
func (m *Module) readFeed(ctx context.Context, src string) ([]byte, error) {
	if !strings.Contains(src, "://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readBounded(f)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil || req.URL.Scheme != "https" {
		return nil, errors.New("not an https URL")
	}
	req.Header.Set("Accept", "text/calendar")
	resp, err := m.feeds.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) { // its message holds the URL, secret path and all
			err = uerr.Err
		}
		return nil, fmt.Errorf("GET: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s", resp.Status)
	}
	return readBounded(resp.Body)
}

func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, incident.MaxFeedSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > incident.MaxFeedSize {
		return nil, fmt.Errorf("over the limit of %d bytes (8 MiB)", incident.MaxFeedSize)
	}
	return data, nil
}

// feedClient reads feeds: a 10 s timeout, and redirects to https only.
func newFeedClient() *http.Client {
	return &http.Client{Timeout: feedTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return errors.New("redirected to a URL that is not https")
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}
