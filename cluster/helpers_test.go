package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// memSM is the test's StateMachine: write-sets are "key=value", applied
// idempotently (an index at or below the applied one is ignored and counted).
type memSM struct {
	mu        sync.Mutex
	data      map[string]string
	index     uint64
	term      uint64
	applies   int
	reapplied int
	restores  int
}

func newMemSM() *memSM { return &memSM{data: map[string]string{}} }

func (m *memSM) ApplyWriteSet(index, term uint64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if index <= m.index {
		m.reapplied++
		return nil
	}
	m.applies++
	m.index, m.term = index, term
	k, v, ok := strings.Cut(string(data), "=")
	if !ok {
		// A deterministic rejection, as the store's fencing is.
		return fmt.Errorf("rejected write-set %q", data)
	}
	m.data[k] = v
	return nil
}

type memSnapshot struct {
	Data  map[string]string
	Index uint64
	Term  uint64
}

func (s memSnapshot) WriteTo(w io.Writer) (int64, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

func (memSnapshot) Release() {}

func (m *memSM) BeginSnapshot() (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return memSnapshot{Data: maps.Clone(m.data), Index: m.index, Term: m.term}, nil
}

func (m *memSM) Restore(r io.Reader) error {
	var s memSnapshot
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data, m.index, m.term = s.Data, s.Index, s.Term
	if m.data == nil {
		m.data = map[string]string{}
	}
	m.restores++
	return nil
}

func (m *memSM) Applied() (uint64, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.index, m.term
}

func (m *memSM) dump() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.data)
}

func (m *memSM) counts() (applies, reapplied, restores int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applies, m.reapplied, m.restores
}

// testLog sends the nodes' logs to t.Log until the test ends, and keeps them
// all for assertions.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
	buf  bytes.Buffer
}

func newTestLog(t *testing.T) *testLog {
	l := &testLog{t: t}
	t.Cleanup(func() { l.mu.Lock(); l.done = true; l.mu.Unlock() })
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

func (l *testLog) logger() zerolog.Logger {
	return zerolog.New(zerolog.ConsoleWriter{Out: l, NoColor: true, TimeFormat: "15:04:05.000"}).
		Level(zerolog.InfoLevel).With().Timestamp().Logger()
}

// fast shortens raft's timeouts for tests that do not measure failover.
func fast(c *Config) {
	c.HeartbeatTimeout = 300 * time.Millisecond
	c.ElectionTimeout = 300 * time.Millisecond
	c.LeaderLeaseTimeout = 150 * time.Millisecond
	c.StatusInterval = 200 * time.Millisecond
}

// testCluster runs nodes in-process on loopback ports.
type testCluster struct {
	t     *testing.T
	log   *testLog
	ca    *testCA
	peers []Peer
	cfgs  map[string]Config
	sms   map[string]*memSM
	mu    sync.Mutex
	nodes map[string]*Node
}

// newTestCluster starts size nodes; ca nil means Insecure.
func newTestCluster(t *testing.T, size int, ca *testCA, tune func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, log: newTestLog(t), ca: ca, cfgs: map[string]Config{}, sms: map[string]*memSM{}, nodes: map[string]*Node{}}
	lns := map[string]net.Listener{}
	for i := 1; i <= size; i++ {
		id := fmt.Sprintf("n%d", i)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id] = ln
		c.peers = append(c.peers, Peer{ID: id, Addr: ln.Addr().String()})
	}
	t.Cleanup(c.stopAll)
	for _, p := range c.peers {
		cfg := c.config(p.ID, p.Addr, tune)
		cfg.Peers = c.peers
		c.cfgs[p.ID] = cfg
		c.sms[p.ID] = newMemSM()
		cfg.listener = lns[p.ID]
		c.startWith(p.ID, cfg)
	}
	return c
}

func (c *testCluster) config(id, addr string, tune func(*Config)) Config {
	cfg := Config{NodeID: id, Bind: addr, DataDir: c.t.TempDir(), Logger: c.log.logger()}
	if c.ca != nil {
		cfg.TLS = c.ca.tlsConfig(c.t, id)
	} else {
		cfg.Insecure = true
	}
	if tune != nil {
		tune(&cfg)
	}
	return cfg
}

func (c *testCluster) startWith(id string, cfg Config) *Node {
	c.t.Helper()
	n, err := New(cfg, c.sms[id])
	if err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
	return n
}

// start (re)starts id on its DataDir, address and state machine.
func (c *testCluster) start(id string) *Node { return c.startWith(id, c.cfgs[id]) }

// stop stops id: crash=true without leadership transfer, as a killed
// process looks to the others.
func (c *testCluster) stop(id string, crash bool) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	c.mu.Unlock()
	if n == nil {
		return
	}
	if err := n.stop(!crash); err != nil {
		c.t.Logf("stop %s: %v", id, err)
	}
}

func (c *testCluster) stopAll() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.stop(id, true)
	}
}

func (c *testCluster) node(id string) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

func (c *testCluster) running() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := slices.Sorted(maps.Keys(c.nodes))
	ns := make([]*Node, 0, len(ids))
	for _, id := range ids {
		ns = append(ns, c.nodes[id])
	}
	return ns
}

// waitLeader waits for a running node to report leadership (Barrier done).
func (c *testCluster) waitLeader(within time.Duration) *Node {
	c.t.Helper()
	var leader *Node
	waitFor(c.t, within, "a leader", func() bool {
		for _, n := range c.running() {
			if n.IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

func (c *testCluster) follower(leader *Node) *Node {
	for _, n := range c.running() {
		if n != leader {
			return n
		}
	}
	c.t.Fatal("no follower running")
	return nil
}

// waitConverged waits until the state machines of ids hold the same data,
// at the same applied index, with want keys (-1: any number).
func (c *testCluster) waitConverged(within time.Duration, want int, ids ...string) {
	c.t.Helper()
	var last string
	waitFor(c.t, within, "state machines to converge", func() bool {
		first := c.sms[ids[0]]
		d0 := first.dump()
		i0, _ := first.Applied()
		if want >= 0 && len(d0) != want {
			last = fmt.Sprintf("%s has %d keys, want %d", ids[0], len(d0), want)
			return false
		}
		for _, id := range ids[1:] {
			d := c.sms[id].dump()
			i, _ := c.sms[id].Applied()
			if i != i0 || !maps.Equal(d, d0) {
				last = fmt.Sprintf("%s at index %d with %d keys, %s at %d with %d", id, i, len(d), ids[0], i0, len(d0))
				return false
			}
		}
		return true
	}, func() string { return last })
}

// waitFor polls cond until it holds or within passes (then fails the test).
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range detail {
				msg = d()
			}
			t.Fatalf("timed out after %s waiting for %s %s", within, what, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replicate applies count entries key%03d=value on the leader.
func replicate(t *testing.T, leader *Node, prefix string, count int) {
	t.Helper()
	for i := 0; i < count; i++ {
		if err := leader.Replicate([]byte(fmt.Sprintf("%s%03d=v%d", prefix, i, i))); err != nil {
			t.Fatalf("replicate %s%03d: %v", prefix, i, err)
		}
	}
}
