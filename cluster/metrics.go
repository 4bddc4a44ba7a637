package cluster

import "time"

// Metrics receives the cluster's measurements; the bot's Prometheus package
// implements it. Calls come from the node's goroutines and must not block.
type Metrics interface {
	// LeaderChanged counts a change of leader seen by this node (a new,
	// different leader became known; this node included).
	LeaderChanged()
	// ForwardDone records one Forward: its kind, its latency and its outcome
	// (nil on success).
	ForwardDone(kind string, d time.Duration, err error)
	// Raft gauges, refreshed every StatusInterval and on leadership changes:
	// state is "leader", "follower", "candidate" or "shutdown".
	Raft(state string, term, commitIndex, appliedIndex uint64)
}

type nopMetrics struct{}

func (nopMetrics) LeaderChanged()                           {}
func (nopMetrics) ForwardDone(string, time.Duration, error) {}
func (nopMetrics) Raft(string, uint64, uint64, uint64)      {}
