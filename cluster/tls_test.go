package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestForeignCARefused: a node whose certificate another CA signed can
// neither call the cluster nor be called by it, and plain TCP gets nowhere.
func TestForeignCARefused(t *testing.T) {
	ca := newTestCA(t, "cluster CA")
	c := newTestCluster(t, 3, ca, fast)
	var calls atomic.Int32
	for _, n := range c.running() {
		n.HandleForward(func(ctx context.Context, kind string, payload []byte) ([]byte, error) {
			calls.Add(1)
			return []byte("served"), nil
		})
	}
	leader := c.waitLeader(10 * time.Second)
	_, addr := leader.Leader()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A whole node with a foreign certificate (but our CA to check the
	// leader's) sends through the node's own client code: refused.
	other := newTestCA(t, "another CA")
	cfg := Config{
		NodeID: "rogue", Bind: "127.0.0.1:0", DataDir: t.TempDir(), Join: true,
		Peers:  append(append([]Peer{}, c.peers...), Peer{ID: "rogue", Addr: "127.0.0.1:1"}),
		TLS:    MutualTLS(other.nodeCert(t, "rogue"), ca.pool),
		Logger: c.log.logger(),
	}
	fast(&cfg)
	rogue, err := New(cfg, newMemSM())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rogue.Shutdown() }()
	_, _, _, err = rogue.roundTrip(ctx, addr, request{op: opForward, kind: "x"})
	if err == nil {
		t.Fatal("a node with a foreign CA's certificate was served")
	}
	t.Logf("foreign certificate: %v", err)
	if _, _, _, err := rogue.roundTrip(ctx, addr, request{op: opStatus}); err == nil {
		t.Fatal("a node with a foreign CA's certificate got a status answer")
	}
	waitFor(t, 5*time.Second, "the refusal in the leader's log", func() bool {
		return c.log.contains("refused a connection: TLS handshake failed")
	})

	// The other direction: our certificate, but the leader is checked
	// against the foreign CA, so the dialer refuses the leader.
	conf := MutualTLS(ca.nodeCert(t, "n9"), other.pool)
	conf.ServerName = "127.0.0.1"
	if conn, err := tls.Dial("tcp", addr, conf); err == nil {
		_ = conn.Close()
		t.Fatal("a dialer trusting another CA accepted the leader's certificate")
	}

	// Plain TCP to the TLS port: the handshake fails, nothing is served.
	raw, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	bw := bufio.NewWriter(raw)
	_ = bw.WriteByte(protoForward)
	_ = writeRequest(bw, request{op: opForward, kind: "x"})
	if _, _, err := readReply(bufio.NewReader(raw)); err == nil {
		t.Fatal("a plain TCP client was answered on the TLS port")
	}
	_ = raw.Close()

	if n := calls.Load(); n != 0 {
		t.Fatalf("the handler ran %d times for refused peers", n)
	}
	// A forwarded request that reaches a follower is answered ErrNotLeader.
	f1 := c.follower(leader)
	var f2 *Node
	for _, n := range c.running() {
		if n != leader && n != f1 {
			f2 = n
		}
	}
	code, body, _, err := f1.roundTrip(ctx, c.cfgs[f2.ID()].selfAddr(), request{op: opForward, kind: "x"})
	if err != nil || code != codeNotLeader {
		t.Fatalf("forward to a follower: code %d %q, %v; want codeNotLeader", code, body, err)
	}

	// And the cluster itself still works over mutual TLS.
	if reply, err := c.follower(leader).Forward(ctx, "x", nil); err != nil || string(reply) != "served" {
		t.Fatalf("member Forward: %q, %v", reply, err)
	}
}

// TestSnapshotAndJoin: snapshots compact the log, so a fourth, fresh node
// added with AddVoter catches up from a snapshot plus the log; and a store
// found behind the latest snapshot at start is restored from it.
func TestSnapshotAndJoin(t *testing.T) {
	ca := newTestCA(t, "cluster CA")
	c := newTestCluster(t, 3, ca, func(cfg *Config) { fast(cfg); cfg.TrailingLogs = 10 })
	leader := c.waitLeader(10 * time.Second)
	replicate(t, leader, "a", 200)
	c.waitConverged(10*time.Second, 200, "n1", "n2", "n3")
	for _, n := range c.running() {
		if err := n.Snapshot(); err != nil {
			t.Fatalf("snapshot on %s: %v", n.ID(), err)
		}
		if st := n.Status(); st.LastSnapshotIndex < 200 {
			t.Fatalf("%s: last snapshot index %d", n.ID(), st.LastSnapshotIndex)
		}
		if first, _ := n.store.FirstIndex(); first < 150 {
			t.Fatalf("%s: log not compacted, first index %d", n.ID(), first)
		}
	}
	replicate(t, leader, "b", 20) // some log after the snapshot too

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := c.config("n4", addr, func(cfg *Config) { fast(cfg); cfg.TrailingLogs = 10 })
	cfg.Join = true
	cfg.Peers = append(append([]Peer{}, c.peers...), Peer{ID: "n4", Addr: addr})
	c.cfgs["n4"], c.sms["n4"] = cfg, newMemSM()
	cfg.listener = ln
	c.startWith("n4", cfg)
	if err := leader.AddVoter("n4", addr); err != nil {
		t.Fatalf("AddVoter: %v", err)
	}
	all := []string{"n1", "n2", "n3", "n4"}
	c.waitConverged(15*time.Second, 220, all...)
	if _, _, restores := c.sms["n4"].counts(); restores == 0 {
		t.Fatal("n4 caught up without installing a snapshot")
	}
	replicate(t, leader, "c", 10)
	c.waitConverged(10*time.Second, 230, all...)
	if st := leader.Status(); len(st.Peers) != 4 {
		t.Fatalf("configuration after AddVoter: %+v", st.Peers)
	}

	// n4's store is lost (a new, empty one) but its raft state is not: at
	// start it is restored from its latest snapshot, then the log catches up.
	c.stop("n4", true)
	replicate(t, leader, "d", 5)
	c.sms["n4"] = newMemSM()
	c.start("n4")
	c.waitConverged(15*time.Second, 235, all...)
	if _, _, restores := c.sms["n4"].counts(); restores == 0 {
		t.Fatal("the empty store was not restored from the snapshot")
	}
	if !c.log.contains("restored it from the snapshot") {
		t.Fatal("the start-up restore was not logged")
	}

	if err := c.follower(leader).AddVoter("n5", "127.0.0.1:1"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("AddVoter on a follower: %v", err)
	}
	if err := leader.RemoveServer("n4"); err != nil {
		t.Fatalf("RemoveServer: %v", err)
	}
	waitFor(t, 5*time.Second, "three members", func() bool { return len(leader.Status().Peers) == 3 })
}

// TestStoreAheadRefused: a store that applied more than the Raft state holds
// (raft.db lost) would have its applied index hide new entries: refused.
func TestStoreAheadRefused(t *testing.T) {
	sm := newMemSM()
	sm.index = 42
	cfg := Config{
		NodeID: "n1", Bind: "127.0.0.1:0", Peers: []Peer{{ID: "n1", Addr: "127.0.0.1:1"}},
		DataDir: filepath.Join(t.TempDir(), "data"), Insecure: true, Logger: newTestLog(t).logger(),
	}
	if _, err := New(cfg, sm); err == nil {
		t.Fatal("a store ahead of the Raft state was accepted")
	}
}
