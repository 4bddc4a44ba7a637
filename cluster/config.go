package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Peer is one voter of the cluster: its stable id and the address the other
// nodes dial (host:port; a StatefulSet pod's DNS name in Kubernetes).
type Peer struct {
	ID   string
	Addr string
}

// Config configures one node. NodeID, Bind, Peers, DataDir and either TLS or
// Insecure are required; every duration left zero takes the default below.
type Config struct {
	// NodeID is this node's id; it must be one of Peers (unless Join).
	NodeID string
	// Bind is the local address to listen on for Raft and node-to-node traffic,
	// e.g. "0.0.0.0:7946". Other nodes reach this node at its Peers address.
	Bind string
	// Peers lists every voter, this node included, identically on every node:
	// a fresh cluster is bootstrapped from it.
	Peers []Peer
	// DataDir holds raft.db (the Raft log and stable store) and snapshots/.
	DataDir string
	// TLS is the mutual-TLS configuration used both to serve and to dial: it
	// must verify client certificates (ClientAuth RequireAndVerifyClientCert
	// with ClientCAs) and carry this node's certificate and RootCAs. Any
	// certificate the CA signed is a cluster member. See LoadTLS.
	TLS *tls.Config
	// Insecure runs the cluster port in plain TCP. Tests only: it is logged
	// loudly, and anyone who can reach the port can join the replication.
	Insecure bool
	// Join marks a node that is added to a running cluster by AddVoter on the
	// leader: it never bootstraps, and it need not be listed in Peers.
	Join bool
	// Rebuild marks a node whose state machine was set aside (an unsynced
	// store after a machine crash) and starts empty: raft restores it from
	// the latest snapshot at start and replays the log after it, instead of
	// trusting the state machine's own applied index.
	Rebuild bool
	// Logger receives the node's and hashicorp/raft's logs.
	Logger zerolog.Logger
	// Metrics receives the cluster's metrics; nil records nothing.
	Metrics Metrics

	// HeartbeatTimeout is how long a follower goes without hearing from the
	// leader before it starts an election (raft waits a random 1–2× this).
	// Default 1s: a crashed leader is replaced in about 2–3 s on a LAN.
	HeartbeatTimeout time.Duration
	// ElectionTimeout bounds a candidate's election round. Default 1s.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout is how long a leader keeps leading without a quorum
	// answering before it steps down (so a minority stops accepting writes
	// quickly). Default 500ms; must not exceed HeartbeatTimeout.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout is how long the leader waits, with nothing to send, before
	// an AppendEntries that tells followers the commit index. Default 50ms.
	CommitTimeout time.Duration
	// ApplyTimeout bounds Replicate: enqueueing plus the quorum commit and the
	// local apply. Default 5s.
	ApplyTimeout time.Duration
	// ForwardTimeout bounds Forward when its ctx carries no deadline. Default 5s.
	ForwardTimeout time.Duration
	// SnapshotInterval and SnapshotThreshold: raft checks every interval and
	// snapshots when this many entries were applied since the last snapshot.
	// Defaults 2m and 8192.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	// TrailingLogs is how many entries are kept after a snapshot, so a node
	// that was briefly away catches up from the log instead of a whole
	// snapshot. Default 10240.
	TrailingLogs uint64
	// StatusInterval is how often the leader asks its peers for their log
	// position (Status lag) and the metrics gauges are refreshed. Default 1s.
	StatusInterval time.Duration

	// listener, when set (tests), is used instead of listening on Bind, so a
	// test can reserve its loopback ports before the peers list exists.
	listener net.Listener
}

// withDefaults returns cfg with every zero tunable set to its default.
func (cfg Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.HeartbeatTimeout, time.Second)
	def(&cfg.ElectionTimeout, time.Second)
	def(&cfg.LeaderLeaseTimeout, 500*time.Millisecond)
	def(&cfg.CommitTimeout, 50*time.Millisecond)
	def(&cfg.ApplyTimeout, 5*time.Second)
	def(&cfg.ForwardTimeout, 5*time.Second)
	def(&cfg.SnapshotInterval, 2*time.Minute)
	def(&cfg.StatusInterval, time.Second)
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = 8192
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = 10240
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	return cfg
}

// validate checks what would make the cluster unsafe or unreachable, and
// warns about what is merely unwise (an even or large number of voters).
func (cfg Config) validate() error {
	if cfg.NodeID == "" {
		return errors.New("cluster: NodeID is required")
	}
	if cfg.Bind == "" && cfg.listener == nil {
		return errors.New("cluster: Bind is required")
	}
	if cfg.DataDir == "" {
		return errors.New("cluster: DataDir is required")
	}
	if len(cfg.Peers) == 0 {
		return errors.New("cluster: Peers is required")
	}
	ids := map[string]bool{}
	addrs := map[string]bool{}
	for _, p := range cfg.Peers {
		if p.ID == "" || p.Addr == "" {
			return fmt.Errorf("cluster: peer %q has an empty id or address", p.ID+"="+p.Addr)
		}
		if _, _, err := net.SplitHostPort(p.Addr); err != nil {
			return fmt.Errorf("cluster: peer %s: address %q: %w", p.ID, p.Addr, err)
		}
		if ids[p.ID] {
			return fmt.Errorf("cluster: peer id %q is listed twice", p.ID)
		}
		if addrs[p.Addr] {
			return fmt.Errorf("cluster: peer address %q is listed twice", p.Addr)
		}
		ids[p.ID], addrs[p.Addr] = true, true
	}
	if !ids[cfg.NodeID] && !cfg.Join {
		return fmt.Errorf("cluster: NodeID %q is not among Peers", cfg.NodeID)
	}
	if cfg.LeaderLeaseTimeout > cfg.HeartbeatTimeout || cfg.ElectionTimeout < cfg.HeartbeatTimeout {
		return errors.New("cluster: need LeaderLeaseTimeout <= HeartbeatTimeout <= ElectionTimeout")
	}
	switch {
	case cfg.TLS == nil && !cfg.Insecure:
		return errors.New("cluster: TLS is required (Insecure is for tests only)")
	case cfg.TLS != nil && cfg.Insecure:
		return errors.New("cluster: TLS and Insecure are mutually exclusive")
	case cfg.TLS != nil:
		// Either Go verifies both sides against the CA, or the config
		// verifies the chain itself (VerifyPeerCertificate, on both sides:
		// internal/config's, which skips host names, as pod names differ).
		custom := cfg.TLS.VerifyPeerCertificate != nil && cfg.TLS.ClientAuth == tls.RequireAnyClientCert
		if !custom && (cfg.TLS.ClientAuth != tls.RequireAndVerifyClientCert || cfg.TLS.ClientCAs == nil) {
			return errors.New("cluster: TLS must verify client certificates (RequireAndVerifyClientCert with ClientCAs, or RequireAnyClientCert with VerifyPeerCertificate): mutual TLS")
		}
		if !custom && cfg.TLS.RootCAs == nil {
			return errors.New("cluster: TLS needs RootCAs to verify the other nodes")
		}
		if len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetCertificate == nil && cfg.TLS.GetClientCertificate == nil {
			return errors.New("cluster: TLS needs this node's certificate")
		}
	}
	if n := len(cfg.Peers); n != 1 && n != 3 && n != 5 {
		cfg.Logger.Warn().Int("voters", n).
			Msg("cluster: 1, 3 or 5 voters are recommended; an even count tolerates no more failures than one fewer, and more than 5 slows every commit")
	}
	return nil
}

// selfAddr is the address the other nodes use for this node.
func (cfg Config) selfAddr() string {
	for _, p := range cfg.Peers {
		if p.ID == cfg.NodeID {
			return p.Addr
		}
	}
	return cfg.Bind
}

// LoadTLS builds the mutual-TLS configuration from PEM files: this node's
// certificate and key, and the CA that signed every node's certificate. The
// one CA verifies both directions: the nodes we dial and the nodes dialing us.
func LoadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: node certificate: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster: CA %s holds no PEM certificate", caFile)
	}
	return MutualTLS(cert, pool), nil
}

// MutualTLS is the configuration LoadTLS returns, from parsed material.
func MutualTLS(cert tls.Certificate, ca *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      ca,
		ClientCAs:    ca,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}
}
