package main

// What a large database costs the running bot: a /metrics scrape, an
// /incident list and the acks while it is scraped, with 10,000 incidents in
// the database and with none, in the same run.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/metrics"
	"github.com/incidentbot/incidentbot/store"
)

// scaleOpen of the incidents seedIncidents writes stay open (the newest);
// every tenth is paging.
const scaleOpen = 20

// seedIncidents writes n incidents into the database at path, 1,000 to a
// transaction, all but the newest scaleOpen resolved.
func seedIncidents(tb testing.TB, path string, n int) {
	tb.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)
	for first := 1; first <= n; first += 1000 {
		err := db.Update(func(tx *store.Tx) error {
			for i := first; i < first+1000 && i <= n; i++ {
				id, err := tx.NextIncidentID()
				if err != nil {
					return err
				}
				at := start.Add(time.Duration(id) * time.Hour)
				inc := incident.New(id, incident.Declaration{Title: "Checkout errors " + strconv.FormatInt(id, 10),
					Severity: incident.Severities[id%4], By: incident.User{ID: "U0123ABCD"}, At: at})
				inc.ChannelID, inc.ChannelName = fmt.Sprintf("C0INC%06d", id), incident.ChannelName(id, inc.Title, 1)
				if id%10 == 0 {
					inc.Escalations = append(inc.Escalations, incident.Escalation{ID: 1, State: incident.EscalationActive, Started: at})
				}
				if int(id) <= n-scaleOpen {
					_ = inc.Resolve(at.Add(time.Hour), "fixed")
					inc.Escalations = nil
				}
				if err := tx.PutIncident(inc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// scanState is state as it was: every incident decoded at each scrape. For
// the comparison only.
func scanState(db *store.DB) metrics.State {
	st := metrics.State{OpenIncidents: map[string]int{}}
	_ = db.View(func(tx *store.Tx) error {
		return tx.EachIncident(func(inc *incident.Incident) error {
			if inc.Open() {
				st.OpenIncidents[inc.Severity.String()]++
			}
			st.EscalationsPending += len(inc.ActiveEscalations())
			return nil
		})
	})
	return st
}

// BenchmarkScrape times one GET /metrics (the whole handler: Go, process
// and bot metrics) and the bot's part of it (state) with no incidents and
// with 10,000 in the database, and the bot's part as it was (scan: decoding
// every incident).
// Run: go test ./cmd/incidentbot -run '^$' -bench Scrape -count 5
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		h := buildHarness(b, slackfake.Options{}, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
		seedIncidents(b, h.cfg.DB, n)
		a, err := newApp(h.cfg, h.deps)
		if err != nil {
			b.Fatal(err)
		}
		h.app = a
		if got := state(a.db, a.bot); n > 0 && fmt.Sprint(got) != fmt.Sprint(scanState(a.db)) {
			b.Fatalf("state = %v, a scan finds %v", got, scanState(a.db))
		}
		b.Run(fmt.Sprintf("metrics/incidents=%d", n), func(b *testing.B) {
			for b.Loop() {
				if rec := h.get("/metrics", "127.0.0.1:5000"); rec.Code != 200 {
					b.Fatalf("/metrics: %d", rec.Code)
				}
			}
		})
		b.Run(fmt.Sprintf("state/incidents=%d", n), func(b *testing.B) {
			for b.Loop() {
				state(a.db, a.bot)
			}
		})
		if n > 0 {
			b.Run(fmt.Sprintf("scan/incidents=%d", n), func(b *testing.B) {
				for b.Loop() {
					scanState(a.db)
				}
			})
		}
		_ = a.db.Close()
	}
}

// BenchmarkScaleBot runs the bot on a database of 0 and of 10,000 incidents
// and times an /incident list (the slash command to its ack, which carries
// the list: one write transaction and its fsync) and the acks of a burst of
// pins, alone and while /metrics is scraped every 10 ms.
// Run: go test ./cmd/incidentbot -run '^$' -bench ScaleBot -benchtime 200x -count 3
func BenchmarkScaleBot(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("list/incidents=%d", n), func(b *testing.B) {
			h := buildHarness(b, slackfake.Options{}, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
			seedIncidents(b, h.cfg.DB, n)
			h.start()
			for b.Loop() {
				h.slash(h.alice, h.general, "list")
			}
		})
		for _, scraped := range []bool{false, true} {
			name := map[bool]string{false: "acks", true: "acks-while-scraped"}[scraped]
			b.Run(fmt.Sprintf("%s/incidents=%d", name, n), func(b *testing.B) {
				h := buildHarness(b, slackfake.Options{}, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
				seedIncidents(b, h.cfg.DB, n)
				h.start()
				ch := h.declared(n+1, "declare sev2 Pins under scrapes").ID
				h.idle()
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Go(func() {
					for scraped && ctx.Err() == nil {
						h.app.metrics.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
						time.Sleep(10 * time.Millisecond)
					}
				})
				lat := pinBurst(b, h.fake, h.alice, []string{ch}, b.N)
				cancel()
				wg.Wait()
				reportLatency(b, lat)
			})
		}
	}
}
