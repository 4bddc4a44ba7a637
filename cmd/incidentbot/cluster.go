package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/cluster"
	"github.com/incidentbot/incidentbot/store"
)

// Cluster mode (INCIDENTBOT_CLUSTER_NODE_ID): the store's write-sets are
// Raft log entries (package cluster, on hashicorp/raft), applied to every
// node's bbolt file. Only the leader writes and runs jobs; followers forward
// the envelopes their own Socket Mode connection receives (bot.Cluster).

// storeMachine is the store as the cluster's state machine.
type storeMachine struct {
	db *store.DB
	// fatal stops the bot: a write-set the store cannot apply for any other
	// reason than the two deterministic refusals leaves this node out of
	// step with the others.
	fatal func(error)
}

func (s storeMachine) ApplyWriteSet(index, term uint64, data []byte) error {
	return s.ApplyWriteSets([]cluster.Entry{{Index: index, Term: term, Data: data}})[0]
}

// ApplyWriteSets applies what raft committed together in one commit; a
// failure that is not a deterministic refusal stops the node, as in
// ApplyWriteSet.
func (s storeMachine) ApplyWriteSets(entries []cluster.Entry) []error {
	es := make([]store.Entry, len(entries))
	for i, e := range entries {
		es[i] = store.Entry{Index: e.Index, Term: e.Term, Data: e.Data}
	}
	errs := s.db.ApplyWriteSets(es)
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrStaleTerm) && !errors.Is(err, store.ErrConflict) && s.fatal != nil {
			s.fatal(fmt.Errorf("apply Raft entry %d: %w", entries[i].Index, err))
			break
		}
	}
	return errs
}

func (s storeMachine) BeginSnapshot() (cluster.Snapshot, error) { return s.db.BeginSnapshot() }
func (s storeMachine) Restore(r io.Reader) error                { return s.db.Restore(r) }
func (s storeMachine) Applied() (uint64, uint64)                { return s.db.Applied() }

// newClusterNode starts this node's Raft member on db and makes db
// replicate through it. cfg is validated.
func newClusterNode(cfg Config, db *store.DB, rebuild bool, m cluster.Metrics, log zerolog.Logger, fatal func(error)) (*cluster.Node, error) {
	peers, err := cfg.ClusterPeerList()
	if err != nil {
		return nil, fmt.Errorf("INCIDENTBOT_CLUSTER_PEERS: %w", err)
	}
	tlsCfg, err := cfg.ClusterTLS()
	if err != nil {
		return nil, fmt.Errorf("INCIDENTBOT_CLUSTER_TLS_CERT: %w", err)
	}
	cp := make([]cluster.Peer, len(peers))
	for i, p := range peers {
		cp[i] = cluster.Peer{ID: p.ID, Addr: p.Addr}
	}
	node, err := cluster.New(cluster.Config{
		NodeID: cfg.ClusterNodeID, Bind: cfg.ClusterBind, Peers: cp, DataDir: cfg.ClusterDir,
		TLS: tlsCfg, Insecure: cfg.ClusterInsecure, Rebuild: rebuild, Logger: log.With().Str("component", "cluster").Logger(), Metrics: m,
		SnapshotThreshold: uint64(cfg.ClusterSnapshotEvery), TrailingLogs: uint64(cfg.ClusterSnapshotEvery),
		// Checking whether a snapshot is due is cheap; taking one is not, and
		// happens only every SnapshotEvery entries.
		SnapshotInterval: 10 * time.Second,
		// Slack wants an ack within 3 s: a commit that takes longer than 2 s
		// is given up (not acked; an event is retried, a command is told to
		// run it again) rather than acked late.
		ApplyTimeout: 2 * time.Second,
	}, storeMachine{db: db, fatal: fatal})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	db.SetReplicator(node)
	return node, nil
}

// openStore opens the database. In cluster mode its commits are not
// fsynced: the Raft log, fsynced on a quorum, is the durable copy, and a
// file the machine's crash may have torn (store.ErrTorn) is set aside and
// rebuilt from the cluster — rebuild tells the node to restore it from the
// latest snapshot and the log.
func openStore(cfg Config, log zerolog.Logger) (db *store.DB, rebuild bool, err error) {
	clustered := cfg.ClusterEnabled()
	opts := store.Options{Timeout: 2 * time.Second, Unsynced: clustered}
	db, err = store.Open(cfg.DB, opts)
	if !clustered || !errors.Is(err, store.ErrTorn) {
		return db, false, err
	}
	aside, serr := store.SetAside(cfg.DB, "torn-"+time.Now().UTC().Format("20060102T150405Z"))
	if serr != nil {
		return nil, false, fmt.Errorf("%w; setting it aside failed: %w", err, serr)
	}
	log.Warn().Str("db", cfg.DB).Str("set_aside", aside).
		Msg("the machine stopped while this node's database was open (cluster mode does not fsync it): it is set aside and rebuilt from the cluster's latest snapshot and log")
	db, err = store.Open(cfg.DB, opts)
	return db, err == nil, err
}

// clusterStatus is the JSON of GET /cluster/status.
type clusterStatus struct {
	cluster.Status
	Ready  bool   `json:"ready"`
	Reason string `json:"reason"`
}

// serveClusterStatus answers GET /cluster/status: this node's view of the
// cluster (leader, term, indexes, peers' lag on the leader).
func (a *app) serveClusterStatus(w http.ResponseWriter, _ *http.Request) {
	if a.cluster == nil {
		http.Error(w, "single-node mode: INCIDENTBOT_CLUSTER_NODE_ID is not set", http.StatusNotFound)
		return
	}
	ok, why := a.bot.Ready()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(clusterStatus{Status: a.cluster.Status(), Ready: ok, Reason: why})
}

// serveClusterBootstrap answers POST /cluster/bootstrap (loopback only):
// the body, a whole database file, becomes the cluster's state, through
// the leader. It refuses when the cluster already holds incidents.
func (a *app) serveClusterBootstrap(w http.ResponseWriter, r *http.Request) {
	if a.cluster == nil {
		http.Error(w, "single-node mode: INCIDENTBOT_CLUSTER_NODE_ID is not set", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only: run 'incidentbot cluster bootstrap --from FILE'", http.StatusMethodNotAllowed)
		return
	}
	if !a.backup.localCaller(w, r, "cluster bootstraps", "incidentbot cluster bootstrap --from FILE") {
		return
	}
	var held int
	_ = a.db.View(func(tx *store.Tx) error {
		all, err := tx.Incidents() // a rare, deliberate act: a scan is fine
		held = len(all)
		return err
	})
	if held > 0 && r.URL.Query().Get("force") != "1" {
		http.Error(w, fmt.Sprintf("the cluster already holds %d incidents: bootstrapping would replace them (add --force to do it anyway)", held), http.StatusConflict)
		return
	}
	if err := a.cluster.RestoreFrom(r.Body, r.ContentLength); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, cluster.ErrNotLeader) {
			code = http.StatusMisdirectedRequest
		}
		http.Error(w, err.Error(), code)
		return
	}
	_, _ = fmt.Fprintln(w, "ok: the cluster's state is now the file; every node receives it as a snapshot")
}

// clusterWaitLeader waits up to d for a leader, for start-up logs.
func clusterWaitLeader(n *cluster.Node, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if id, _ := n.Leader(); id != "" {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
