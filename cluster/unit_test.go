package cluster

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rs/zerolog"
)

func TestValidate(t *testing.T) {
	log := newTestLog(t)
	ca := newTestCA(t, "ca")
	three := []Peer{{"n1", "a:1"}, {"n2", "b:1"}, {"n3", "c:1"}}
	base := func() Config {
		return Config{NodeID: "n1", Bind: ":7946", Peers: three, DataDir: "d", TLS: ca.tlsConfig(t, "n1"), Logger: log.logger()}.withDefaults()
	}
	noClientAuth := ca.tlsConfig(t, "n1")
	noClientAuth.ClientAuth = tls.NoClientCert
	cases := map[string]func(*Config){
		"no node id":        func(c *Config) { c.NodeID = "" },
		"node not in peers": func(c *Config) { c.NodeID = "n9" },
		"duplicate id":      func(c *Config) { c.Peers = []Peer{{"n1", "a:1"}, {"n1", "b:1"}} },
		"duplicate addr":    func(c *Config) { c.Peers = []Peer{{"n1", "a:1"}, {"n2", "a:1"}} },
		"bad addr":          func(c *Config) { c.Peers = []Peer{{"n1", "no-port"}} },
		"no data dir":       func(c *Config) { c.DataDir = "" },
		"no tls":            func(c *Config) { c.TLS = nil },
		"tls and insecure":  func(c *Config) { c.Insecure = true },
		"one-way tls":       func(c *Config) { c.TLS = noClientAuth },
		"lease > heartbeat": func(c *Config) { c.LeaderLeaseTimeout = 2 * c.HeartbeatTimeout },
	}
	for name, mutate := range cases {
		cfg := base()
		mutate(&cfg)
		if err := cfg.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := base().validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cfg := base()
	cfg.Peers = append(cfg.Peers, Peer{"n4", "d:1"})
	if err := cfg.validate(); err != nil || !log.contains("1, 3 or 5 voters are recommended") {
		t.Fatalf("four voters: %v, warned: %v", err, log.contains("recommended"))
	}
	join := base()
	join.NodeID, join.Join = "n4", true
	if err := join.validate(); err != nil {
		t.Fatalf("joining node outside Peers: %v", err)
	}
}

func TestWireRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	in := request{op: opForward, timeout: 1500 * time.Millisecond, kind: "envelope", payload: []byte("payload\x00bytes")}
	if err := writeRequest(bw, in); err != nil {
		t.Fatal(err)
	}
	out, err := readRequest(bufio.NewReader(&buf))
	if err != nil || out.op != in.op || out.timeout != in.timeout || out.kind != in.kind || !bytes.Equal(out.payload, in.payload) {
		t.Fatalf("request round trip: %+v, %v", out, err)
	}
	if err := writeReply(bw, codeNoQuorum, []byte("msg")); err != nil {
		t.Fatal(err)
	}
	code, body, err := readReply(bufio.NewReader(&buf))
	if err != nil || code != codeNoQuorum || string(body) != "msg" {
		t.Fatalf("reply round trip: %d %q %v", code, body, err)
	}
	// A length beyond maxFrame is refused before anything is allocated.
	hostile := []byte{codeOK, 0xff, 0xff, 0xff, 0xff}
	if _, _, err := readReply(bufio.NewReader(bytes.NewReader(hostile))); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized frame: %v", err)
	}
	if err := writeRequest(bw, request{payload: make([]byte, maxFrame+1)}); err == nil {
		t.Fatal("oversized request written")
	}
}

func TestErrorCodes(t *testing.T) {
	for _, s := range []error{ErrNotLeader, ErrNoLeader, ErrNoQuorum, ErrTimeout, ErrShutdown} {
		wrapped := fmt.Errorf("handler: %w", s)
		re := &RemoteError{Code: errCode(wrapped), Message: wrapped.Error()}
		if !errors.Is(re, s) {
			t.Errorf("%v did not survive the wire", s)
		}
	}
	if re := (&RemoteError{Code: errCode(errors.New("x")), Message: "x"}); errors.Unwrap(re) != nil {
		t.Error("a plain error unwrapped to a sentinel")
	}
	mapped := map[error]error{
		raft.ErrNotLeader:      ErrNotLeader,
		raft.ErrLeadershipLost: ErrNoQuorum,
		raft.ErrEnqueueTimeout: ErrTimeout,
		raft.ErrRaftShutdown:   ErrShutdown,
	}
	for from, to := range mapped {
		if got := mapRaftErr(from); !errors.Is(got, to) {
			t.Errorf("mapRaftErr(%v) = %v, want %v", from, got, to)
		}
	}
}

// batchSM is a memSM that applies batches, recording each.
type batchSM struct {
	*memSM
	batches [][]uint64
}

func (b *batchSM) ApplyWriteSets(entries []Entry) []error {
	var idx []uint64
	errs := make([]error, len(entries))
	for i, e := range entries {
		idx = append(idx, e.Index)
		errs[i] = b.ApplyWriteSet(e.Index, e.Term, e.Data)
	}
	b.batches = append(b.batches, idx)
	return errs
}

// What raft committed together reaches a BatchApplier as one batch of its
// commands (entries the file already holds, and raft's own, left out), and
// each entry's outcome goes back to its own place.
func TestApplyBatch(t *testing.T) {
	sm := &batchSM{memSM: newMemSM()}
	f := newFSM(sm, zerolog.Nop())
	f.skipTo.Store(1)
	logs := []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogCommand, Data: []byte("a=1")},
		{Index: 2, Term: 1, Type: raft.LogConfiguration},
		{Index: 3, Term: 1, Type: raft.LogCommand, Data: []byte("rejected")},
		{Index: 4, Term: 1, Type: raft.LogCommand, Data: []byte("b=2")},
	}
	out := f.ApplyBatch(logs)
	if len(out) != len(logs) {
		t.Fatalf("%d outcomes for %d entries", len(out), len(logs))
	}
	for i, want := range []bool{false, false, true, false} {
		if _, isErr := out[i].(error); isErr != want {
			t.Fatalf("entry %d: outcome %v", logs[i].Index, out[i])
		}
	}
	if len(sm.batches) != 1 || !slices.Equal(sm.batches[0], []uint64{3, 4}) {
		t.Fatalf("batches %v, want one of entries 3 and 4", sm.batches)
	}
	if sm.data["b"] != "2" || sm.data["a"] != "" || f.skipped.Load() != 1 {
		t.Fatalf("state %v, %d skipped", sm.data, f.skipped.Load())
	}
	// A state machine without batches gets the same entries one by one.
	plain := newMemSM()
	g := newFSM(plain, zerolog.Nop())
	g.skipTo.Store(1)
	out = g.ApplyBatch(logs)
	if _, isErr := out[2].(error); !isErr || out[3] != nil || plain.data["b"] != "2" || plain.applies != 2 {
		t.Fatalf("one by one: outcomes %v, state %v", out, plain.data)
	}
}
