package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// A Peer is one voter of the cluster, as INCIDENTBOT_CLUSTER_PEERS lists it:
// its node id and the host:port the other nodes dial it at.
type Peer struct {
	ID   string
	Addr string
}

// MaxClusterVoters is the most voters INCIDENTBOT_CLUSTER_PEERS may list:
// every state change waits for a majority of them, and seven already
// survive three failures.
const MaxClusterVoters = 7

var nodeIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)

// peersExample is a valid INCIDENTBOT_CLUSTER_PEERS, for error messages.
const peersExample = "incidentbot-0=incidentbot-0.incidentbot-peers:7946,incidentbot-1=incidentbot-1.incidentbot-peers:7946,incidentbot-2=incidentbot-2.incidentbot-peers:7946"

// ClusterEnabled reports whether this node runs in cluster mode
// (INCIDENTBOT_CLUSTER_NODE_ID is set); otherwise it is single-node mode.
func (c Config) ClusterEnabled() bool { return strings.TrimSpace(c.ClusterNodeID) != "" }

// ClusterPeerList parses INCIDENTBOT_CLUSTER_PEERS: every entry id=host:port
// (ids of lower-case letters, digits and -; a host to dial, not a wildcard;
// a port 1-65535), no id or address twice, and an odd number of voters from
// 1 to MaxClusterVoters. Empty entries (a trailing comma) are skipped. The
// peers are returned in the order listed; the error names the variable and
// every problem found.
func (c Config) ClusterPeerList() ([]Peer, error) {
	var (
		peers []Peer
		errs  []error
		ids   = map[string]bool{}
		addrs = map[string]string{} // lower-cased address → id
	)
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_PEERS: "+format, args...))
	}
	for _, entry := range strings.Split(c.ClusterPeers, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, addr, ok := strings.Cut(entry, "=")
		id, addr = strings.TrimSpace(id), strings.TrimSpace(addr)
		switch {
		case !ok:
			bad("%q is not id=host:port, e.g. incidentbot-0=incidentbot-0.incidentbot-peers:7946", entry)
			continue
		case !nodeIDPattern.MatchString(id):
			bad("node id %q must be 1 to 63 lower-case letters, digits and -, e.g. incidentbot-0 (a pod's name)", id)
		case ids[id]:
			bad("node id %s is listed twice: each node once", id)
		}
		if msg := checkDialAddr(addr); msg != "" {
			bad("%s's address %q %s", id, addr, msg)
		} else if other, dup := addrs[strings.ToLower(addr)]; dup {
			bad("%s and %s have the same address %s: each node needs its own", other, id, addr)
		}
		ids[id] = true
		addrs[strings.ToLower(addr)] = id
		peers = append(peers, Peer{ID: id, Addr: addr})
	}
	switch n := len(peers); {
	case n == 0:
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_PEERS must list every voter as id=host:port, comma separated, this node included, e.g. %s", peersExample))
	case n > MaxClusterVoters:
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_PEERS lists %d voters, more than %d: every change waits for a majority, and %d voters already survive %d failures; use 3, 5 or 7",
			n, MaxClusterVoters, MaxClusterVoters, MaxClusterVoters/2))
	case n%2 == 0:
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_PEERS lists %d voters, an even number: a cluster of %d needs a majority of %d, so it tolerates no more failures (%d) than a cluster of %d and the extra node only adds a failure point; use %d or %d voters",
			n, n, n/2+1, (n-1)/2, n-1, n-1, n+1))
	}
	return peers, errors.Join(errs...)
}

// checkDialAddr explains what is wrong with a peer's address ("" if
// nothing): the other nodes dial it, so it needs a real host and a port.
func checkDialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "is not host:port, e.g. incidentbot-0.incidentbot-peers:7946"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "needs a port from 1 to 65535, e.g. :7946"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return "needs a host the other nodes can dial (a pod's DNS name or an IP), not a wildcard such as 0.0.0.0"
	}
	return ""
}

// clusterVariables names the cluster variables set in c, NodeID aside.
func (c Config) clusterVariables() []string {
	var set []string
	for _, v := range []struct {
		name string
		set  bool
	}{
		{"INCIDENTBOT_CLUSTER_BIND", c.ClusterBind != ""},
		{"INCIDENTBOT_CLUSTER_PEERS", c.ClusterPeers != ""},
		{"INCIDENTBOT_CLUSTER_TLS_CERT", c.ClusterTLSCert != ""},
		{"INCIDENTBOT_CLUSTER_TLS_KEY", c.ClusterTLSKey != ""},
		{"INCIDENTBOT_CLUSTER_TLS_CA", c.ClusterTLSCa != ""},
		{"INCIDENTBOT_CLUSTER_INSECURE", c.ClusterInsecure},
		{"INCIDENTBOT_CLUSTER_DIR", c.ClusterDir != ""},
		{"INCIDENTBOT_CLUSTER_SNAPSHOT_EVERY", c.ClusterSnapshotEvery != 0},
	} {
		if v.set {
			set = append(set, v.name)
		}
	}
	return set
}

// validateCluster checks the cluster variables and fills in ClusterDir's
// default. Without a node id every other cluster variable must be unset:
// a half-configured cluster must not quietly start as a single node.
func (c *Config) validateCluster() (warnings []string, errs []error) {
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c.ClusterNodeID = strings.TrimSpace(c.ClusterNodeID)
	if c.ClusterNodeID == "" {
		if set := c.clusterVariables(); len(set) > 0 {
			verb := "is"
			if len(set) > 1 {
				verb = "are"
			}
			bad("%s %s set but INCIDENTBOT_CLUSTER_NODE_ID is empty: set the node id, e.g. incidentbot-0, or unset the cluster variables for single-node mode",
				joinAnd(set), verb)
		}
		return nil, errs
	}
	if !nodeIDPattern.MatchString(c.ClusterNodeID) {
		bad("INCIDENTBOT_CLUSTER_NODE_ID must be 1 to 63 lower-case letters, digits and -, e.g. incidentbot-0 (on Kubernetes, the pod's name) (got %q)", c.ClusterNodeID)
	}

	c.ClusterBind = strings.TrimSpace(c.ClusterBind)
	if _, port, err := net.SplitHostPort(c.ClusterBind); err != nil || !validPort(port) {
		bad("INCIDENTBOT_CLUSTER_BIND must be host:port such as 0.0.0.0:7946 (every interface), the address Raft and the other nodes' traffic arrive at (got %q)", c.ClusterBind)
	} else {
		for _, other := range []struct{ name, addr string }{{"INCIDENTBOT_HTTP_ADDR", c.HTTPAddr}, {"INCIDENTBOT_ALERTS_ADDR", c.AlertsAddr}} {
			if sameListener(c.ClusterBind, other.addr) {
				bad("INCIDENTBOT_CLUSTER_BIND (%s) and %s (%s) share a port: give the cluster its own, e.g. 0.0.0.0:7946", c.ClusterBind, other.name, other.addr)
			}
		}
	}

	peers, err := c.ClusterPeerList()
	if err != nil {
		errs = append(errs, err)
	}
	found := false
	for _, p := range peers {
		found = found || p.ID == c.ClusterNodeID
	}
	if !found && len(peers) > 0 && nodeIDPattern.MatchString(c.ClusterNodeID) {
		bad("INCIDENTBOT_CLUSTER_NODE_ID %s is not one of INCIDENTBOT_CLUSTER_PEERS' ids (%s): list every voter there, this node included", c.ClusterNodeID, joinAnd(peerIDs(peers)))
	}

	tlsSet := c.ClusterTLSCert != "" || c.ClusterTLSKey != "" || c.ClusterTLSCa != ""
	switch {
	case c.ClusterInsecure && tlsSet:
		bad("INCIDENTBOT_CLUSTER_INSECURE=true and the INCIDENTBOT_CLUSTER_TLS_ variables are both set: set one or the other (TLS in production; INSECURE, plain TCP, only in tests)")
	case c.ClusterInsecure:
		warnings = append(warnings, "INCIDENTBOT_CLUSTER_INSECURE=true: traffic between the nodes is plain TCP, unencrypted and unauthenticated, and anyone who reaches INCIDENTBOT_CLUSTER_BIND can join the cluster's replication; for tests only, set the INCIDENTBOT_CLUSTER_TLS_ variables instead")
	default:
		errs = append(errs, checkClusterTLS(c.ClusterTLSCert, c.ClusterTLSKey, c.ClusterTLSCa)...)
	}

	if c.ClusterSnapshotEvery < 0 || (c.ClusterSnapshotEvery > 0 && c.ClusterSnapshotEvery < 16) {
		bad("INCIDENTBOT_CLUSTER_SNAPSHOT_EVERY must be a whole number of at least 16 (Raft log entries between snapshots), e.g. 8192, or empty for that default (got %d)", c.ClusterSnapshotEvery)
	}
	c.ClusterDir = strings.TrimSpace(c.ClusterDir)
	if c.ClusterDir == "" && strings.TrimSpace(c.DB) != "" {
		c.ClusterDir = c.DB + ".raft"
	}
	if c.ClusterDir != "" && c.ClusterDir == c.DB {
		bad("INCIDENTBOT_CLUSTER_DIR is INCIDENTBOT_DB's file (%s): it is a directory of its own, e.g. %s.raft, or empty for that default", c.DB, c.DB)
	}
	return warnings, errs
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// sameListener reports whether two listen addresses would take the same
// port: the same port on the same host, or on a wildcard host.
func sameListener(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	wild := func(h string) bool { ip := net.ParseIP(h); return h == "" || ip != nil && ip.IsUnspecified() }
	return ha == hb || wild(ha) || wild(hb)
}

func peerIDs(peers []Peer) []string {
	ids := make([]string, len(peers))
	for i, p := range peers {
		ids[i] = p.ID
	}
	return ids
}

// joinAnd joins names as "a", "a and b" or "a, b and c".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
