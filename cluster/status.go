package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Status is a node's view of the cluster, for `incidentbot cluster status`,
// /readyz and the logs.
type Status struct {
	NodeID     string
	State      string // "leader", "follower", "candidate" or "shutdown"
	Leader     bool   // leading with its Barrier done (IsLeader)
	LeaderID   string // empty: no leader known (an election, or no quorum)
	LeaderAddr string
	Term       uint64
	// LastLogIndex is the last entry in this node's log; CommitIndex the
	// last it knows committed; AppliedIndex the last raft handed to the
	// store; StoreApplied the store's own record (sm.Applied()).
	LastLogIndex      uint64
	CommitIndex       uint64
	AppliedIndex      uint64
	StoreApplied      uint64
	LastSnapshotIndex uint64
	// LastContact is when this follower last heard from a leader (zero:
	// never; on the leader: now).
	LastContact time.Time
	// Peers is the latest configuration (this node included). Their log
	// positions are known on the leader only.
	Peers []PeerStatus
}

// PeerStatus is one member of the configuration. hashicorp/raft keeps its
// replication state (each follower's match index) private, so on the leader
// the position comes from asking each peer over the cluster port every
// StatusInterval, and heartbeat failures from raft's observations.
type PeerStatus struct {
	ID    string
	Addr  string
	Voter bool
	Self  bool
	// LastLogIndex and AppliedIndex are the peer's own, as of ReportedAt;
	// Lag is the leader's LastLogIndex minus the peer's (0 for the leader).
	LastLogIndex uint64
	AppliedIndex uint64
	Lag          uint64
	ReportedAt   time.Time // zero: no report (not the leader, or unreachable)
	// HeartbeatFailingSince is set while the leader's heartbeats to the
	// peer fail: the peer's last contact.
	HeartbeatFailingSince time.Time
	Error                 string // the last poll's error, if it failed
}

// peerReport is what a node answers to opStatus.
type peerReport struct {
	ID           string    `json:"id"`
	LastLogIndex uint64    `json:"last_log_index"`
	AppliedIndex uint64    `json:"applied_index"`
	Term         uint64    `json:"term"`
	At           time.Time `json:"-"`
	Err          string    `json:"-"`
}

func stateName(s raft.RaftState) string { return strings.ToLower(s.String()) }

// Status returns this node's view; it does no network I/O.
func (n *Node) Status() Status {
	leaderAddr, leaderID := n.raft.LeaderWithID()
	st := Status{
		NodeID:            n.cfg.NodeID,
		State:             stateName(n.raft.State()),
		Leader:            n.IsLeader(),
		LeaderID:          string(leaderID),
		LeaderAddr:        string(leaderAddr),
		Term:              n.raft.CurrentTerm(),
		LastLogIndex:      n.raft.LastIndex(),
		CommitIndex:       n.raft.CommitIndex(),
		AppliedIndex:      n.raft.AppliedIndex(),
		LastContact:       n.raft.LastContact(),
		LastSnapshotIndex: parseUint(n.raft.Stats()["last_snapshot_index"]),
	}
	st.StoreApplied, _ = n.sm.Applied()
	if n.raft.State() == raft.Leader {
		st.LastContact = time.Now()
	}
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return st
	}
	n.statusMu.Lock()
	defer n.statusMu.Unlock()
	for _, s := range cf.Configuration().Servers {
		p := PeerStatus{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter, Self: s.ID == raft.ServerID(n.cfg.NodeID)}
		switch {
		case p.Self:
			p.LastLogIndex, p.AppliedIndex, p.ReportedAt = st.LastLogIndex, st.AppliedIndex, time.Now()
		case st.State == "leader":
			r := n.reports[p.ID]
			p.LastLogIndex, p.AppliedIndex, p.ReportedAt, p.Error = r.LastLogIndex, r.AppliedIndex, r.At, r.Err
			if !r.At.IsZero() && st.LastLogIndex > r.LastLogIndex {
				p.Lag = st.LastLogIndex - r.LastLogIndex
			}
			p.HeartbeatFailingSince = n.hbFail[p.ID]
		}
		st.Peers = append(st.Peers, p)
	}
	return st
}

func parseUint(s string) uint64 {
	var v uint64
	_, _ = fmt.Sscan(s, &v)
	return v
}

func (n *Node) selfReport() []byte {
	b, _ := json.Marshal(peerReport{
		ID:           n.cfg.NodeID,
		LastLogIndex: n.raft.LastIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
		Term:         n.raft.CurrentTerm(),
	})
	return b
}

// observeLoop follows raft's observations: leader changes (metrics, logs,
// waking Forward) and the leader's heartbeat failures per peer.
func (n *Node) observeLoop(obs <-chan raft.Observation) {
	defer n.wg.Done()
	var last raft.ServerID
	for {
		select {
		case <-n.ctx.Done():
			return
		case o := <-obs:
			switch d := o.Data.(type) {
			case raft.LeaderObservation:
				if d.LeaderID != "" && d.LeaderID != last {
					last = d.LeaderID
					n.metrics.LeaderChanged()
					n.log.Info().Str("leader", string(d.LeaderID)).Str("leader_addr", string(d.LeaderAddr)).
						Uint64("term", n.raft.CurrentTerm()).Msg("cluster: new leader")
				} else if d.LeaderID == "" {
					n.log.Info().Uint64("term", n.raft.CurrentTerm()).Msg("cluster: no leader")
				}
				n.wakeWaiters()
			case raft.FailedHeartbeatObservation:
				n.statusMu.Lock()
				if _, ok := n.hbFail[string(d.PeerID)]; !ok {
					n.hbFail[string(d.PeerID)] = d.LastContact
				}
				n.statusMu.Unlock()
			case raft.ResumedHeartbeatObservation:
				n.statusMu.Lock()
				delete(n.hbFail, string(d.PeerID))
				n.statusMu.Unlock()
			case raft.RaftState:
				n.metrics.Raft(stateName(d), n.raft.CurrentTerm(), n.raft.CommitIndex(), n.raft.AppliedIndex())
				if d != raft.Leader {
					n.statusMu.Lock()
					n.reports = map[string]peerReport{}
					n.hbFail = map[string]time.Time{}
					n.statusMu.Unlock()
				}
			}
		}
	}
}

// statusLoop refreshes the gauges and, on the leader, the peers' positions.
func (n *Node) statusLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.StatusInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		n.metrics.Raft(stateName(n.raft.State()), n.raft.CurrentTerm(), n.raft.CommitIndex(), n.raft.AppliedIndex())
		if n.raft.State() == raft.Leader {
			n.pollPeers()
		}
	}
}

// pollPeers asks every other member for its log position, in parallel,
// within one StatusInterval.
func (n *Node) pollPeers() {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.StatusInterval)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range cf.Configuration().Servers {
		if s.ID == raft.ServerID(n.cfg.NodeID) {
			continue
		}
		wg.Add(1)
		go func(id, addr string) {
			defer wg.Done()
			r := peerReport{At: time.Now()}
			code, body, _, err := n.roundTrip(ctx, addr, request{op: opStatus})
			switch {
			case err != nil:
				r.Err = err.Error()
			case code != codeOK:
				r.Err = string(body)
			default:
				if err := json.Unmarshal(body, &r); err != nil {
					r.Err = err.Error()
				} else if r.ID != id {
					r.Err = fmt.Sprintf("the node at %s says it is %q", addr, r.ID)
				}
			}
			n.statusMu.Lock()
			if r.Err != "" {
				// Keep the last good position; record the failure.
				old := n.reports[id]
				old.Err = r.Err
				r = old
			}
			n.reports[id] = r
			n.statusMu.Unlock()
		}(string(s.ID), string(s.Address))
	}
	wg.Wait()
}
