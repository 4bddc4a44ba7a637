package metrics

import (
	"regexp"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Pager load and who is on call: incidentbot_pages_total and
// incidentbot_oncall.
//
// Pages are counted as they are sent, by the paging module calling Paged,
// rather than counted at scrape time from the incidents: a scrape must
// stay constant-time however many incidents the database holds. Like every
// counter here they start at zero when the process starts; rate() and
// increase() handle that.

// Label values are checked before they become series, so a bug upstream
// cannot grow the label set with free text: a person is a Slack user id, a
// schedule a name as the escalation file allows it.
var (
	personLabel   = regexp.MustCompile(`^[UW][A-Z0-9]{6,20}$`)
	scheduleLabel = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
)

// otherLabel stands for a label value that did not pass its check.
const otherLabel = "other"

// OnCall is someone on call on a schedule now, for the incidentbot_oncall
// gauge.
type OnCall struct {
	Schedule string // the schedule's name
	Person   string // a Slack user id
}

func newPages() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "pages_total",
		Help: "Pages sent to people, by the schedule that was paged (empty for a person paged directly or by a policy level naming them) and the person (a Slack user id): sum by (person) is each person's pager load.",
	}, []string{"schedule", "person"})
}

// Paged counts a page sent to person (a user id); schedule is the
// schedule whose on-call person it reached, "" when the person was paged
// directly or named in a policy level. handlers/paging calls it once per
// page DM it sends (not per retry or redelivery): sum by (schedule) or sum
// by (person) gives the pages per schedule or per person.
func (m *Metrics) Paged(schedule, person string) {
	if !personLabel.MatchString(person) {
		person = otherLabel
	}
	if schedule != "" && !scheduleLabel.MatchString(schedule) {
		schedule = otherLabel
	}
	m.pages.WithLabelValues(schedule, person).Inc()
}

// SetOnCallFunc installs the function read at each scrape for the
// incidentbot_oncall gauge: who is on call now on each schedule. nil
// exports nothing. Like SetStateFunc's, fn runs on the scrape's goroutine
// and must be quick: one read of the overrides per schedule, no Slack call.
func (m *Metrics) SetOnCallFunc(fn func() []OnCall) {
	m.onCall.fn.Store(&fn)
}

// onCallCollector exports incidentbot_oncall{schedule, person} = 1 for
// each person on call now, read at collection time.
type onCallCollector struct {
	fn   atomic.Pointer[func() []OnCall]
	desc *prometheus.Desc
}

func newOnCallCollector() *onCallCollector {
	return &onCallCollector{desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "oncall"),
		"1 for each person on call now on a schedule, from the escalation file and the overrides; a schedule with nobody on call has no series.",
		[]string{"schedule", "person"}, nil)}
}

func (c *onCallCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *onCallCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.fn.Load()
	if fn == nil || *fn == nil {
		return
	}
	seen := map[OnCall]bool{}
	for _, oc := range (*fn)() {
		if !personLabel.MatchString(oc.Person) || !scheduleLabel.MatchString(oc.Schedule) || seen[oc] {
			continue // a duplicate series would fail the whole scrape
		}
		seen[oc] = true
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, oc.Schedule, oc.Person)
	}
}
