package cluster

import (
	"time"

	"github.com/hashicorp/raft"
)

// OnLeadership registers fn, called with leader=true (after the Barrier)
// when this node becomes the leader and leader=false when it stops being
// the leader (also at Shutdown). Calls come in order from one goroutine and
// delay the next notification: fn must not block for long.
func (n *Node) OnLeadership(fn func(leader bool, term uint64)) {
	n.cbMu.Lock()
	n.callbacks = append(n.callbacks, fn)
	n.cbMu.Unlock()
}

func (n *Node) report(leader bool) {
	term := n.raft.CurrentTerm()
	n.metrics.Raft(stateName(n.raft.State()), term, n.raft.CommitIndex(), n.raft.AppliedIndex())
	n.cbMu.Lock()
	cbs := append([]func(bool, uint64){}, n.callbacks...)
	n.cbMu.Unlock()
	for _, fn := range cbs {
		fn(leader, term)
	}
}

// leadershipLoop turns raft's leadership notifications into reported
// leadership, only after a Barrier on gaining it.
func (n *Node) leadershipLoop(notify <-chan bool) {
	defer n.wg.Done()
	reported := false
	defer func() {
		if reported {
			n.leader.Store(false)
			n.report(false)
		}
	}()
	for {
		select {
		case <-n.ctx.Done():
			return
		case gained := <-notify:
			if gained && !reported {
				if n.barrier() {
					n.leader.Store(true)
					reported = true
					n.report(true)
					n.wakeWaiters()
				}
			} else if !gained && reported {
				n.leader.Store(false)
				reported = false
				n.log.Info().Uint64("term", n.raft.CurrentTerm()).Msg("cluster: this node is no longer the leader")
				n.report(false)
			}
		}
	}
}

// barrier waits until every entry before this leader's term is applied to
// the store, retrying while this node is still the leader.
func (n *Node) barrier() bool {
	for n.raft.State() == raft.Leader {
		start := time.Now()
		err := n.raft.Barrier(n.cfg.ApplyTimeout).Error()
		if err == nil {
			n.log.Info().Uint64("term", n.raft.CurrentTerm()).Dur("barrier", time.Since(start)).
				Uint64("applied", n.raft.AppliedIndex()).Msg("cluster: this node is the leader")
			return true
		}
		if n.ctx.Err() != nil {
			return false
		}
		n.log.Warn().Err(err).Msg("cluster: leader barrier failed")
	}
	return false
}
