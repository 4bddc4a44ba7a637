package metrics_test

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/metrics"
)

// The bot is handed a *metrics.Metrics as its bot.Metrics.
var _ bot.Metrics = (*metrics.Metrics)(nil)

// scrape serves m's /metrics once and returns its samples keyed by series as
// the text format prints them, e.g. `incidentbot_jobs_total{kind="post",outcome="ok"}`.
func scrape(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("unparsable sample line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

// checkSamples compares want with the scrape; a series absent from the
// scrape counts as 0, so "did not move" is written as 0.
func checkSamples(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for series, w := range want {
		if g := got[series]; math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", series, g, w)
		}
	}
}

func TestBotMetrics(t *testing.T) {
	tests := []struct {
		name string
		do   func(m *metrics.Metrics)
		want map[string]float64
	}{
		{
			name: "envelope received",
			do:   func(m *metrics.Metrics) { m.EnvelopeReceived("events_api"); m.EnvelopeReceived("events_api") },
			want: map[string]float64{
				`incidentbot_envelopes_received_total{type="events_api"}`:     2,
				`incidentbot_envelopes_received_total{type="slash_commands"}`: 0,
			},
		},
		{
			name: "envelope received of an unlisted type",
			do:   func(m *metrics.Metrics) { m.EnvelopeReceived("unknown") },
			want: map[string]float64{`incidentbot_envelopes_received_total{type="unknown"}`: 1},
		},
		{
			name: "envelope acked with its latency",
			do:   func(m *metrics.Metrics) { m.EnvelopeAcked("slash_commands", 1200*time.Millisecond) },
			want: map[string]float64{
				`incidentbot_envelopes_acked_total{type="slash_commands"}`:               1,
				`incidentbot_ack_latency_seconds_count{type="slash_commands"}`:           1,
				`incidentbot_ack_latency_seconds_sum{type="slash_commands"}`:             1.2,
				`incidentbot_ack_latency_seconds_bucket{type="slash_commands",le="1"}`:   0,
				`incidentbot_ack_latency_seconds_bucket{type="slash_commands",le="2.5"}`: 1,
				`incidentbot_ack_latency_seconds_bucket{type="slash_commands",le="3"}`:   1,
			},
		},
		{
			name: "ack latency buckets start at half a millisecond",
			do:   func(m *metrics.Metrics) { m.EnvelopeAcked("events_api", 300*time.Microsecond) },
			want: map[string]float64{
				`incidentbot_ack_latency_seconds_bucket{type="events_api",le="0.0005"}`: 1,
				`incidentbot_ack_latency_seconds_bucket{type="events_api",le="+Inf"}`:   1,
			},
		},
		{
			name: "envelope withheld",
			do:   func(m *metrics.Metrics) { m.EnvelopeWithheld("interactive") },
			want: map[string]float64{
				`incidentbot_envelopes_withheld_total{type="interactive"}`: 1,
				`incidentbot_envelopes_acked_total{type="interactive"}`:    0,
			},
		},
		{
			name: "commit that succeeded",
			do:   func(m *metrics.Metrics) { m.Commit(2*time.Millisecond, nil) },
			want: map[string]float64{
				`incidentbot_db_commit_seconds_count`:               1,
				`incidentbot_db_commit_seconds_bucket{le="0.001"}`:  0,
				`incidentbot_db_commit_seconds_bucket{le="0.0025"}`: 1,
				`incidentbot_db_commit_errors_total`:                0,
			},
		},
		{
			name: "commit that failed is timed and counted",
			do:   func(m *metrics.Metrics) { m.Commit(50*time.Microsecond, errors.New("disk full")) },
			want: map[string]float64{
				`incidentbot_db_commit_seconds_count`:               1,
				`incidentbot_db_commit_seconds_bucket{le="0.0001"}`: 1,
				`incidentbot_db_commit_errors_total`:                1,
			},
		},
		{
			name: "job ok is not a retry",
			do:   func(m *metrics.Metrics) { m.JobDone("post", "ok") },
			want: map[string]float64{
				`incidentbot_jobs_total{kind="post",outcome="ok"}`: 1,
				`incidentbot_retries_total{kind="post"}`:           0,
			},
		},
		{
			name: "job retry",
			do:   func(m *metrics.Metrics) { m.JobDone("post", "retry") },
			want: map[string]float64{
				`incidentbot_jobs_total{kind="post",outcome="retry"}`: 1,
				`incidentbot_retries_total{kind="post"}`:              1,
			},
		},
		{
			name: "job rate limited is a retry",
			do:   func(m *metrics.Metrics) { m.JobDone("rename", "rate_limited"); m.JobDone("rename", "retry") },
			want: map[string]float64{
				`incidentbot_jobs_total{kind="rename",outcome="rate_limited"}`: 1,
				`incidentbot_jobs_total{kind="rename",outcome="retry"}`:        1,
				`incidentbot_retries_total{kind="rename"}`:                     2,
			},
		},
		{
			name: "job failed for good is not a retry",
			do:   func(m *metrics.Metrics) { m.JobDone("post", "failed") },
			want: map[string]float64{
				`incidentbot_jobs_total{kind="post",outcome="failed"}`: 1,
				`incidentbot_retries_total{kind="post"}`:               0,
			},
		},
		{
			name: "connected",
			do:   func(m *metrics.Metrics) { m.Connected(true) },
			want: map[string]float64{`incidentbot_socket_connected`: 1},
		},
		{
			name: "disconnected after connected",
			do:   func(m *metrics.Metrics) { m.Connected(true); m.Connected(false) },
			want: map[string]float64{`incidentbot_socket_connected`: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			tt.do(m)
			checkSamples(t, scrape(t, m), tt.want)
		})
	}
}

// A fresh instance exports its fixed series at zero, so alerts on them see
// a value from the first scrape rather than no data.
func TestSeriesExistBeforeFirstUse(t *testing.T) {
	got := scrape(t, metrics.New())
	for _, series := range []string{
		`incidentbot_envelopes_received_total{type="events_api"}`,
		`incidentbot_envelopes_received_total{type="slash_commands"}`,
		`incidentbot_envelopes_received_total{type="interactive"}`,
		`incidentbot_envelopes_acked_total{type="events_api"}`,
		`incidentbot_envelopes_withheld_total{type="events_api"}`,
		`incidentbot_db_commit_errors_total`,
		`incidentbot_db_commit_seconds_count`,
		`incidentbot_socket_connected`,
		`incidentbot_open_incidents{severity="sev1"}`,
		`incidentbot_escalations_pending`,
		`incidentbot_jobs_pending`,
	} {
		v, ok := got[series]
		if !ok {
			t.Errorf("%s not exported", series)
		} else if v != 0 {
			t.Errorf("%s = %v on a fresh instance, want 0", series, v)
		}
	}
}

// Each instance has its own registry: a second New must not panic on
// duplicate registration, and instances must not see each other's counts.
func TestInstancesAreIndependent(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.EnvelopeReceived("events_api")
	_ = a.Handler() // a second handler on the same registry must not panic either
	checkSamples(t, scrape(t, a), map[string]float64{`incidentbot_envelopes_received_total{type="events_api"}`: 1})
	checkSamples(t, scrape(t, b), map[string]float64{`incidentbot_envelopes_received_total{type="events_api"}`: 0})
}

func TestRuntimeCollectors(t *testing.T) {
	got := scrape(t, metrics.New())
	want := []string{"go_goroutines", "go_memstats_heap_alloc_bytes"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_open_fds", "process_start_time_seconds")
	}
	for _, series := range want {
		if _, ok := got[series]; !ok {
			t.Errorf("%s not exported", series)
		}
	}
}

const stateHeader = `
# HELP incidentbot_escalations_pending Escalations still paging: nobody has acknowledged them yet.
# TYPE incidentbot_escalations_pending gauge
incidentbot_escalations_pending %d
# HELP incidentbot_jobs_pending Jobs waiting in the outbox.
# TYPE incidentbot_jobs_pending gauge
incidentbot_jobs_pending %d
# HELP incidentbot_open_incidents Open incidents by severity.
# TYPE incidentbot_open_incidents gauge
incidentbot_open_incidents{severity="sev1"} %d
incidentbot_open_incidents{severity="sev2"} %d
incidentbot_open_incidents{severity="sev3"} %d
incidentbot_open_incidents{severity="sev4"} %d
`

func stateText(escalations, jobs, sev1, sev2, sev3, sev4 int) string {
	return fmt.Sprintf(stateHeader, escalations, jobs, sev1, sev2, sev3, sev4)
}

func TestState(t *testing.T) {
	tests := []struct {
		name string
		set  bool // whether SetStateFunc is called at all
		fn   func() metrics.State
		want string
	}{
		{name: "never set exports zeros", want: stateText(0, 0, 0, 0, 0, 0)},
		{name: "nil func exports zeros", set: true, want: stateText(0, 0, 0, 0, 0, 0)},
		{
			name: "every severity is exported, absent ones as zero",
			set:  true,
			fn: func() metrics.State {
				return metrics.State{OpenIncidents: map[string]int{"sev2": 3}, EscalationsPending: 4, JobsPending: 7}
			},
			want: stateText(4, 7, 0, 3, 0, 0),
		},
		{
			name: "all severities",
			set:  true,
			fn: func() metrics.State {
				return metrics.State{OpenIncidents: map[string]int{"sev1": 1, "sev2": 2, "sev3": 3, "sev4": 4}}
			},
			want: stateText(0, 0, 1, 2, 3, 4),
		},
		{
			name: "unknown severity labels are not exported",
			set:  true,
			fn: func() metrics.State {
				return metrics.State{OpenIncidents: map[string]int{"sev1": 1, "sev9": 5, "": 2}}
			},
			want: stateText(0, 0, 1, 0, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			if tt.set {
				m.SetStateFunc(tt.fn)
			}
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(tt.want),
				"incidentbot_open_incidents", "incidentbot_escalations_pending", "incidentbot_jobs_pending"); err != nil {
				t.Error(err)
			}
		})
	}
}

// The state is read at each scrape, not when the function is installed, and
// the function may be swapped while scrapes run.
func TestStateIsReadAtScrape(t *testing.T) {
	m := metrics.New()
	var pending atomic.Int64
	m.SetStateFunc(func() metrics.State { return metrics.State{JobsPending: int(pending.Load())} })
	for _, n := range []int64{0, 5, 2} {
		pending.Store(n)
		checkSamples(t, scrape(t, m), map[string]float64{`incidentbot_jobs_pending`: float64(n)})
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				rec := httptest.NewRecorder()
				m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			}
		})
	}
	for i := range 50 {
		if i%2 == 0 {
			m.SetStateFunc(nil)
		} else {
			m.SetStateFunc(func() metrics.State { return metrics.State{JobsPending: 1} })
		}
	}
	wg.Wait()
}
