package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Cluster mode's series (package cluster calls these through its Metrics
// interface): this node's Raft state, term and indexes, leader changes, and
// the latency of envelopes a follower forwards to the leader. Registered on
// first use, so a single-node bot exports none of them.

// clusterStates are the values of incidentbot_cluster_state's label.
var clusterStates = []string{"leader", "follower", "candidate", "shutdown"}

type clusterMetrics struct {
	state         *prometheus.GaugeVec
	term, commit  prometheus.Gauge
	applied       prometheus.Gauge
	leaderChanges prometheus.Counter
	forward       *prometheus.HistogramVec
}

func (m *Metrics) clusterSeries() *clusterMetrics {
	m.clusterOnce.Do(func() {
		c := &clusterMetrics{
			state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "cluster_state",
				Help: "1 for this node's Raft state (leader, follower, candidate, shutdown), 0 for the others."}, []string{"state"}),
			term: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "cluster_term",
				Help: "This node's current Raft term."}),
			commit: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "cluster_commit_index",
				Help: "The last Raft log index this node knows committed by a quorum."}),
			applied: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "cluster_applied_index",
				Help: "The last Raft log index applied to this node's database."}),
			leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "cluster_leader_changes_total",
				Help: "Changes of leader this node has seen."}),
			forward: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "cluster_forward_seconds",
				Help:    "Time for a follower to have an envelope committed by the leader, by outcome (ok, error).",
				Buckets: ackBuckets}, []string{"kind", "outcome"}),
		}
		for _, s := range clusterStates {
			c.state.WithLabelValues(s)
		}
		m.registry.MustRegister(c.state, c.term, c.commit, c.applied, c.leaderChanges, c.forward)
		m.cluster = c
	})
	return m.cluster
}

// LeaderChanged counts a change of leader.
func (m *Metrics) LeaderChanged() { m.clusterSeries().leaderChanges.Inc() }

// ForwardDone records one forward to the leader.
func (m *Metrics) ForwardDone(kind string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.clusterSeries().forward.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// Raft sets this node's Raft gauges.
func (m *Metrics) Raft(state string, term, commitIndex, appliedIndex uint64) {
	c := m.clusterSeries()
	for _, s := range clusterStates {
		v := 0.0
		if s == state {
			v = 1
		}
		c.state.WithLabelValues(s).Set(v)
	}
	c.term.Set(float64(term))
	c.commit.Set(float64(commitIndex))
	c.applied.Set(float64(appliedIndex))
}
