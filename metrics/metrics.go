// Package metrics is incidentbot's Prometheus adapter: it implements
// bot.Metrics, counts Slack Web API calls through an http.RoundTripper, reads
// the bot's backlog (open incidents, pending escalations and jobs) at scrape
// time, and serves it all on /metrics.
//
// It keeps its own registry rather than Prometheus's global one so that
// several instances (tests, the demo beside a real run) never collide on
// registration, and so that /metrics shows exactly what this package chose
// to export.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/incidentbot/incidentbot/incident"
)

const namespace = "incidentbot"

// ackBuckets spans the time from receiving an envelope to acking it. Slack
// wants an ack within 3 seconds, after which it retries (events) or shows the
// user an error (commands), so the top bucket sits at that deadline: the
// share of acks above 2.5s is the alert.
var ackBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 3}

// commitBuckets spans one batched bbolt commit (an fsync): sub-millisecond on
// a good disk, and anything near a second starves the 3s ack deadline.
var commitBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// envelopeTypes are the Socket Mode envelope types the bot reports (see
// bot.observe). Their series are created up front so that rate() and alerts
// see a zero rather than no data before the first envelope of each type.
var envelopeTypes = []string{"events_api", "slash_commands", "interactive"}

// Metrics implements bot.Metrics and serves /metrics. Create it with New; its
// methods are safe for concurrent use.
//
// Label values are taken as given: the bot passes envelope types and job
// kinds from a fixed set in its own code, so their cardinality is bounded by
// the program, not by Slack's input.
type Metrics struct {
	registry *prometheus.Registry

	envelopesReceived *prometheus.CounterVec
	envelopesAcked    *prometheus.CounterVec
	envelopesWithheld *prometheus.CounterVec
	ackLatency        *prometheus.HistogramVec

	commitSeconds prometheus.Histogram
	commitErrors  prometheus.Counter

	jobs    *prometheus.CounterVec
	retries *prometheus.CounterVec

	socketConnected prometheus.Gauge

	slackCalls *prometheus.CounterVec

	state *stateCollector

	pages  *prometheus.CounterVec
	onCall *onCallCollector

	clusterOnce sync.Once
	cluster     *clusterMetrics
}

// New returns a Metrics with every series registered on a private registry,
// along with the Go runtime and process collectors that /metrics is expected
// to carry (goroutines, memory, open file descriptors).
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		envelopesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "envelopes_received_total",
			Help: "Socket Mode envelopes received, by envelope type.",
		}, []string{"type"}),
		envelopesAcked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "envelopes_acked_total",
			Help: "Socket Mode envelopes acked, by envelope type.",
		}, []string{"type"}),
		envelopesWithheld: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "envelopes_withheld_total",
			Help: "Envelopes left unacked because their effects could not be committed to the database, by envelope type.",
		}, []string{"type"}),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "ack_latency_seconds",
			Help:    "Time from receiving an envelope to acking it; Slack expects an ack within 3s.",
			Buckets: ackBuckets,
		}, []string{"type"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "db_commit_seconds",
			Help:    "Duration of database commits, failed ones included.",
			Buckets: commitBuckets,
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "db_commit_errors_total",
			Help: "Database commits that failed.",
		}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "jobs_total",
			Help: "Outbox job attempts, by job kind and outcome (ok, retry, rate_limited, failed).",
		}, []string{"kind", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "retries_total",
			Help: "Outbox job attempts that will be retried (outcome retry or rate_limited), by job kind.",
		}, []string{"kind"}),
		socketConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "socket_connected",
			Help: "1 while the Socket Mode connection to Slack is up, else 0.",
		}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "slack_api_calls_total",
			Help: "Slack Web API calls, by method and outcome (ok, error, rate_limited, server_error, client_error, network_error).",
		}, []string{"method", "outcome"}),
		state:  newStateCollector(),
		pages:  newPages(),
		onCall: newOnCallCollector(),
	}
	for _, typ := range envelopeTypes {
		m.envelopesReceived.WithLabelValues(typ)
		m.envelopesAcked.WithLabelValues(typ)
		m.envelopesWithheld.WithLabelValues(typ)
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.envelopesReceived, m.envelopesAcked, m.envelopesWithheld, m.ackLatency,
		m.commitSeconds, m.commitErrors,
		m.jobs, m.retries,
		m.socketConnected,
		m.slackCalls,
		m.state,
		m.pages, m.onCall,
	)
	return m
}

// Handler serves the registry in the Prometheus exposition formats. A
// collector that fails (say the process collector on an odd platform) drops
// only its own series rather than failing the scrape, and the failure is
// counted in promhttp_metric_handler_errors_total, so the bot's own series
// stay visible when they matter most.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry,
	}))
}

// EnvelopeReceived counts an envelope taken off the socket.
func (m *Metrics) EnvelopeReceived(typ string) {
	m.envelopesReceived.WithLabelValues(typ).Inc()
}

// EnvelopeAcked counts an ack sent to Slack and how long after receipt it
// went, the latency Slack's 3 second deadline applies to.
func (m *Metrics) EnvelopeAcked(typ string, sinceReceived time.Duration) {
	m.envelopesAcked.WithLabelValues(typ).Inc()
	m.ackLatency.WithLabelValues(typ).Observe(sinceReceived.Seconds())
}

// EnvelopeWithheld counts an envelope deliberately left unacked because the
// database write holding its effects failed; Slack will redeliver events.
func (m *Metrics) EnvelopeWithheld(typ string) {
	m.envelopesWithheld.WithLabelValues(typ).Inc()
}

// Commit records a database commit. Failed commits are timed too: a commit
// that fails slowly (a full disk, a lock timeout) still delays every ack in
// its batch.
func (m *Metrics) Commit(d time.Duration, err error) {
	m.commitSeconds.Observe(d.Seconds())
	if err != nil {
		m.commitErrors.Inc()
	}
}

// JobDone counts an outbox job attempt by kind and outcome. Retries are also
// counted on their own so that one series answers "is Slack pushing back?"
// without summing outcomes.
func (m *Metrics) JobDone(kind, outcome string) {
	m.jobs.WithLabelValues(kind, outcome).Inc()
	if outcome == "retry" || outcome == "rate_limited" {
		m.retries.WithLabelValues(kind).Inc()
	}
}

// Connected sets the socket_connected gauge.
func (m *Metrics) Connected(up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.socketConnected.Set(v)
}

// State is the bot's backlog as read from its database at scrape time. It
// is read rather than tracked with gauges because the database is the truth
// and survives restarts; incremented gauges would drift from it.
type State struct {
	// OpenIncidents counts open incidents by severity label ("sev1".."sev4").
	OpenIncidents map[string]int
	// EscalationsPending counts escalations still paging: nobody acknowledged yet.
	EscalationsPending int
	// JobsPending counts jobs waiting in the outbox.
	JobsPending int
	// Alerts are the alert receiver's counters from the database: received
	// (notifications, repeats included), new, resolved, suppressed (gathered
	// into a storm alert), and firing (open now).
	Alerts map[string]uint64
}

// alertSeries are the alert metrics: State.Alerts key, name, help, type.
var alertSeries = []struct {
	key, name, help string
	typ             prometheus.ValueType
}{
	{"received", "alerts_received_total", "Alert notifications taken by the alert receiver, repeats included.", prometheus.CounterValue},
	{"new", "alerts_opened_total", "Alerts opened: alert groups new to the bot.", prometheus.CounterValue},
	{"resolved", "alerts_resolved_total", "Alerts resolved, by their source or by hand.", prometheus.CounterValue},
	{"suppressed", "alerts_suppressed_total", "Alerts gathered into a storm alert instead of paging.", prometheus.CounterValue},
	{"firing", "alerts_firing", "Alerts firing now (acknowledged or not).", prometheus.GaugeValue},
}

// SetStateFunc installs the function read at each scrape for the backlog
// gauges. It may be called at any time, also while /metrics is being served;
// nil exports zeros. fn runs on the scrape's goroutine, so it should be a
// quick read-only query.
func (m *Metrics) SetStateFunc(fn func() State) {
	m.state.fn.Store(&fn)
}

// stateCollector exports State as gauges, calling fn at collection time.
type stateCollector struct {
	fn                 atomic.Pointer[func() State]
	openIncidents      *prometheus.Desc
	escalationsPending *prometheus.Desc
	jobsPending        *prometheus.Desc
	alerts             []*prometheus.Desc // as alertSeries
	severities         []string
}

func newStateCollector() *stateCollector {
	c := &stateCollector{
		openIncidents: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "open_incidents"),
			"Open incidents by severity.", []string{"severity"}, nil),
		escalationsPending: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "escalations_pending"),
			"Escalations still paging: nobody has acknowledged them yet.", nil, nil),
		jobsPending: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "jobs_pending"),
			"Jobs waiting in the outbox.", nil, nil),
	}
	// Every severity is exported, zero or not, so a query over one severity
	// never meets an absent series. Other keys are dropped: severities are
	// validated when declared, and an unexpected key must not grow the
	// label set.
	for _, s := range incident.Severities {
		c.severities = append(c.severities, s.String())
	}
	for _, a := range alertSeries {
		c.alerts = append(c.alerts, prometheus.NewDesc(prometheus.BuildFQName(namespace, "", a.name), a.help, nil, nil))
	}
	return c
}

// Describe sends the fixed descriptors, which lets the registry check them
// for clashes at registration rather than at the first scrape.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.openIncidents
	ch <- c.escalationsPending
	ch <- c.jobsPending
	for _, d := range c.alerts {
		ch <- d
	}
}

// Collect reads the state now, so each scrape sees the database as it is.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	var st State
	if fn := c.fn.Load(); fn != nil && *fn != nil {
		st = (*fn)()
	}
	for _, sev := range c.severities {
		ch <- prometheus.MustNewConstMetric(c.openIncidents, prometheus.GaugeValue, float64(st.OpenIncidents[sev]), sev)
	}
	ch <- prometheus.MustNewConstMetric(c.escalationsPending, prometheus.GaugeValue, float64(st.EscalationsPending))
	ch <- prometheus.MustNewConstMetric(c.jobsPending, prometheus.GaugeValue, float64(st.JobsPending))
	for i, a := range alertSeries {
		ch <- prometheus.MustNewConstMetric(c.alerts[i], a.typ, float64(st.Alerts[a.key]))
	}
}
