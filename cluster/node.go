package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/rs/zerolog"
	"go.etcd.io/bbolt"
)

// Handler serves forwarded requests on the leader.
type Handler func(ctx context.Context, kind string, payload []byte) ([]byte, error)

// Node is one member of the cluster.
type Node struct {
	cfg     Config
	log     zerolog.Logger
	sm      StateMachine
	fsm     *fsm
	raft    *raft.Raft
	trans   *raft.NetworkTransport
	store   *raftboltdb.BoltStore
	mux     *mux
	pool    connPool
	metrics Metrics

	handler atomic.Pointer[Handler]
	// leader is true once this node leads and its Barrier has applied every
	// earlier entry: only then is it reported (IsLeader, OnLeadership).
	leader atomic.Bool

	cbMu      sync.Mutex
	callbacks []func(leader bool, term uint64)

	// wake is closed and replaced on every leader observation, to wake the
	// Forward calls that wait for a leader.
	wakeMu sync.Mutex
	wake   chan struct{}

	statusMu sync.Mutex
	reports  map[string]peerReport // the leader's latest poll of each peer
	hbFail   map[string]time.Time  // peers failing heartbeats, since

	// ready is closed once raft runs: the port accepts earlier, and a peer's
	// status poll can arrive before this node has a raft to answer from.
	ready    chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// New opens the node's Raft state in cfg.DataDir, listens on cfg.Bind and
// joins (or, on first start, bootstraps) the cluster. sm is the bot's store.
func New(cfg Config, sm StateMachine) (*Node, error) {
	cfg = cfg.withDefaults()
	if sm == nil {
		return nil, errors.New("cluster: a StateMachine is required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With().Str("node", cfg.NodeID).Logger()
	if cfg.Insecure {
		log.Warn().Msg("cluster: INSECURE MODE: plain TCP between nodes, no authentication, no encryption; for tests only, never in production")
	}
	n := &Node{
		cfg: cfg, log: log, sm: sm, metrics: cfg.Metrics,
		wake:    make(chan struct{}),
		ready:   make(chan struct{}),
		reports: map[string]peerReport{},
		hbFail:  map[string]time.Time{},
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var cleanup []func()
	fail := func(err error) (*Node, error) {
		n.cancel() // first: connections accepted meanwhile wait on it
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		return nil, err
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fail(fmt.Errorf("cluster: data dir: %w", err))
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(cfg.DataDir, "raft.db"),
		// Fail instead of waiting forever when another process holds the file.
		BoltOptions: &bbolt.Options{Timeout: 5 * time.Second},
	})
	if err != nil {
		return fail(fmt.Errorf("cluster: open raft.db: %w", err))
	}
	n.store = store
	cleanup = append(cleanup, func() { _ = store.Close() })
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, 2, newHCLogger("snapshot", log))
	if err != nil {
		return fail(fmt.Errorf("cluster: snapshot store: %w", err))
	}
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		return fail(fmt.Errorf("cluster: read raft state: %w", err))
	}
	if err := checkStateMachine(store, snaps, sm, log); err != nil {
		return fail(err)
	}

	ln := cfg.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Bind); err != nil {
			return fail(fmt.Errorf("cluster: listen: %w", err))
		}
	}
	n.mux = newMux(ln, cfg, n.serveForward)
	cleanup = append(cleanup, n.mux.close)
	n.pool.dial = n.mux.dial
	cleanup = append(cleanup, n.pool.close)
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  raftLayer{n.mux},
		MaxPool: 3,
		// I/O deadline of one RPC (InstallSnapshot scales it with the size).
		Timeout: 10 * time.Second,
		Logger:  newHCLogger("raft-net", log),
	})
	cleanup = append(cleanup, func() { n.trans.CloseStreams(); _ = n.trans.Close() })

	notify := make(chan bool, 16)
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NotifyCh = notify
	// Apply hands an entry to a buffered channel instead of waiting for
	// the leader loop (which may be fsyncing the previous batch): a leader
	// that pipelines its writes (ReplicateAsync) gets every queued entry
	// into the next append. ReplicateAsync keeps its own timeout.
	rc.BatchApplyCh = true
	rc.Logger = newHCLogger("raft", log)
	// The bbolt file is durable and records the index of each entry applied
	// to it, and applies are idempotent: on restart, rebuilding the store
	// from the last snapshot would throw away a file that is already newer.
	// So raft does not restore the snapshot at start (it still takes its
	// index and configuration from it); it replays the log after the
	// snapshot onto the existing file, and the fsm skips the entries the file
	// already holds (index <= sm.Applied()).
	// A node rebuilding its store (Rebuild) has nothing to skip.
	rc.NoSnapshotRestoreOnStart = !cfg.Rebuild

	n.fsm = newFSM(sm, log)
	if !existing && !cfg.Join {
		// Every node bootstraps the same full configuration: raft documents
		// this as safe, and no node has to be started first.
		servers := make([]raft.Server, 0, len(cfg.Peers))
		for _, p := range cfg.Peers {
			servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr)})
		}
		if err := raft.BootstrapCluster(rc, store, store, snaps, n.trans, raft.Configuration{Servers: servers}); err != nil {
			return fail(fmt.Errorf("cluster: bootstrap: %w", err))
		}
		log.Info().Int("voters", len(servers)).Msg("cluster: bootstrapped a new cluster")
	}
	r, err := raft.NewRaft(rc, n.fsm, store, store, snaps, n.trans)
	if err != nil {
		return fail(fmt.Errorf("cluster: start raft: %w", err))
	}
	n.raft = r
	close(n.ready)

	obs := make(chan raft.Observation, 64)
	r.RegisterObserver(raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation, raft.RaftState:
			return true
		}
		return false
	}))
	n.wg.Add(3)
	go n.leadershipLoop(notify)
	go n.observeLoop(obs)
	go n.statusLoop()
	log.Info().Str("bind", ln.Addr().String()).Str("advertise", cfg.selfAddr()).Bool("existing_state", existing).
		Uint64("store_applied", n.fsm.skipTo.Load()).Msg("cluster: node started")
	return n, nil
}

// checkStateMachine makes the store and the Raft state agree before raft
// starts. A store behind the latest snapshot (its file was replaced by an
// older one) is restored from that snapshot, since raft will only replay the
// log after it. A store ahead of everything raft has (raft.db was deleted but
// not the store) is refused: its applied index would hide new entries.
func checkStateMachine(store *raftboltdb.BoltStore, snaps *raft.FileSnapshotStore, sm StateMachine, log zerolog.Logger) error {
	applied, _ := sm.Applied()
	last, err := store.LastIndex()
	if err != nil {
		return fmt.Errorf("cluster: read raft log: %w", err)
	}
	metas, err := snaps.List()
	if err != nil {
		return fmt.Errorf("cluster: list snapshots: %w", err)
	}
	if len(metas) > 0 {
		last = max(last, metas[0].Index)
		if applied < metas[0].Index {
			_, rc, err := snaps.Open(metas[0].ID)
			if err != nil {
				return fmt.Errorf("cluster: open snapshot %s: %w", metas[0].ID, err)
			}
			defer func() { _ = rc.Close() }()
			if err := sm.Restore(rc); err != nil {
				return fmt.Errorf("cluster: restore snapshot %s: %w", metas[0].ID, err)
			}
			log.Warn().Uint64("store_applied", applied).Uint64("snapshot_index", metas[0].Index).
				Msg("cluster: the store was behind the latest snapshot; restored it from the snapshot")
			return nil
		}
	}
	if applied > last {
		return fmt.Errorf("cluster: the store has applied index %d but the Raft state ends at %d: raft.db does not belong to this store (restore DataDir, or start this node with an empty store)", applied, last)
	}
	return nil
}

// ID is this node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// IsLeader reports whether this node is the leader and has applied every
// entry of earlier terms (its Barrier completed): safe to run writes and jobs.
func (n *Node) IsLeader() bool {
	return n.leader.Load() && n.raft.State() == raft.Leader
}

// Leader is the current leader's id and address as this node knows them;
// empty when there is none (an election, or no quorum).
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// Term is the current Raft term, which fences the leader's job outcomes.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// Replicate commits data as one log entry and applies it to this node's
// store; it returns once a quorum committed it and the local apply finished,
// with the store's error for the entry if it rejected it. On a node that is
// not the leader it returns ErrNotLeader at once. ErrNoQuorum and ErrTimeout
// mean the outcome is unknown.
func (n *Node) Replicate(data []byte) error { return n.ReplicateAsync(data)() }

// ReplicateAsync appends data after every entry given before and returns
// at once; wait returns what Replicate would. Entries queued behind one
// another go into one append (raft's group commit), so a leader need not
// wait for one commit to hand over the next (store.DB.Submit).
func (n *Node) ReplicateAsync(data []byte) (wait func() error) {
	if n.raft.State() != raft.Leader {
		id, _ := n.Leader()
		err := fmt.Errorf("%w (this node is %s; leader %q)", ErrNotLeader, n.raft.State(), id)
		return func() error { return err }
	}
	start := time.Now()
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	return func() error {
		done := make(chan error, 1)
		go func() { done <- f.Error() }()
		timer := time.NewTimer(max(n.cfg.ApplyTimeout-time.Since(start), time.Millisecond))
		defer timer.Stop()
		select {
		case err := <-done:
			if err != nil {
				return mapRaftErr(err)
			}
			if resp, ok := f.Response().(error); ok && resp != nil {
				return resp
			}
			return nil
		case <-timer.C:
			return fmt.Errorf("%w: entry not committed and applied within %s", ErrTimeout, n.cfg.ApplyTimeout)
		}
	}
}

// AddVoter adds a node (new, or replacing one) as a voter; on the leader
// only. The new node is started with Join and catches up from a snapshot
// plus the log.
func (n *Node) AddVoter(id, addr string) error {
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("%w: add voter %s", ErrNotLeader, id)
	}
	return mapRaftErr(n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.cfg.ApplyTimeout).Error())
}

// RemoveServer removes a node from the configuration; on the leader only.
func (n *Node) RemoveServer(id string) error {
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("%w: remove server %s", ErrNotLeader, id)
	}
	return mapRaftErr(n.raft.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout).Error())
}

// Snapshot makes raft take a snapshot now (and compact its log to
// TrailingLogs entries); nothing new to snapshot is not an error.
func (n *Node) Snapshot() error {
	err := n.raft.Snapshot().Error()
	if errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil
	}
	return mapRaftErr(err)
}

// RestoreFrom makes a whole database (a bbolt file, e.g. a single-node
// incidentbot's) the cluster's state: raft.Restore on the leader installs it
// as a snapshot, which the followers receive too. It is how a single-node
// deployment becomes a cluster (incidentbot cluster bootstrap --from FILE).
// On the leader only; size is the stream's length, or 0 if unknown.
func (n *Node) RestoreFrom(r io.Reader, size int64) error {
	if n.raft.State() != raft.Leader {
		id, _ := n.Leader()
		return fmt.Errorf("%w (leader %q): run it on the leader", ErrNotLeader, id)
	}
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Size: size}
	return mapRaftErr(n.raft.Restore(meta, r, 10*time.Minute))
}

// Shutdown leaves gracefully: a leader first hands its leadership to an
// up-to-date follower (a planned restart then costs milliseconds, not an
// election timeout), then raft stops, the port closes and raft.db is closed.
func (n *Node) Shutdown() error { return n.stop(true) }

func (n *Node) voters() int {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return 0
	}
	v := 0
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			v++
		}
	}
	return v
}

// stop shuts down; transfer=false is a crash as the cluster sees it (tests).
func (n *Node) stop(transfer bool) error {
	n.stopOnce.Do(func() {
		if transfer && n.raft.State() == raft.Leader && n.voters() > 1 {
			f := n.raft.LeadershipTransfer()
			done := make(chan error, 1)
			go func() { done <- f.Error() }()
			select {
			case err := <-done:
				if err != nil {
					n.log.Warn().Err(err).Msg("cluster: leadership transfer before shutdown failed")
				}
			case <-time.After(2 * n.cfg.ElectionTimeout):
				n.log.Warn().Msg("cluster: leadership transfer before shutdown timed out")
			}
		}
		n.cancel()
		n.stopErr = n.raft.Shutdown().Error()
		n.trans.CloseStreams()
		_ = n.trans.Close()
		n.mux.close()
		n.pool.close()
		n.wg.Wait()
		if err := n.store.Close(); err != nil && n.stopErr == nil {
			n.stopErr = err
		}
		n.metrics.Raft("shutdown", n.raft.CurrentTerm(), n.raft.CommitIndex(), n.raft.AppliedIndex())
		n.log.Info().Msg("cluster: node shut down")
	})
	return n.stopErr
}
