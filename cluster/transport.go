package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rs/zerolog"
)

// The cluster port carries two protocols, told apart by the first byte the
// dialer sends on each connection, inside TLS (as Consul multiplexes its
// server port): nothing is read from a peer before its certificate checks
// out, and one port is one firewall rule and one Service port.
const (
	protoRaft    byte = 'R' // hashicorp/raft's NetworkTransport stream
	protoForward byte = 'F' // this package's forward/status requests
)

// handshakeTimeout bounds the TLS handshake and the protocol byte, so a
// silent or hostile dialer cannot hold a goroutine.
const handshakeTimeout = 10 * time.Second

var errMuxClosed = errors.New("cluster: listener closed")

// mux owns the cluster port: it accepts, completes TLS, reads the protocol
// byte and hands raft connections to raftLayer and forward connections to
// the forward server.
type mux struct {
	ln        net.Listener
	serverTLS *tls.Config // nil when Insecure
	clientTLS *tls.Config
	advertise string
	log       zerolog.Logger
	forward   func(net.Conn)

	raftCh     chan net.Conn
	closed     chan struct{}
	closeOnce  sync.Once
	raftClosed chan struct{}
	raftOnce   sync.Once

	mu    sync.Mutex
	conns map[net.Conn]struct{} // accepted, closed on shutdown
	wg    sync.WaitGroup
}

func newMux(ln net.Listener, cfg Config, forward func(net.Conn)) *mux {
	m := &mux{
		ln:         ln,
		advertise:  cfg.selfAddr(),
		log:        cfg.Logger,
		forward:    forward,
		raftCh:     make(chan net.Conn),
		closed:     make(chan struct{}),
		raftClosed: make(chan struct{}),
		conns:      map[net.Conn]struct{}{},
	}
	if cfg.TLS != nil {
		m.serverTLS = cfg.TLS.Clone()
		m.clientTLS = cfg.TLS.Clone()
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

func (m *mux) acceptLoop() {
	defer m.wg.Done()
	delay := 5 * time.Millisecond
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			// Transient (EMFILE and the like): back off, as net/http does.
			m.log.Warn().Err(err).Msg("cluster: accept failed")
			select {
			case <-m.closed:
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		if !m.track(c) {
			_ = c.Close()
			return
		}
		m.wg.Add(1)
		go m.serve(c)
	}
}

// track records an accepted connection so close can end it; false once closed.
func (m *mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns == nil {
		return false
	}
	m.conns[c] = struct{}{}
	return true
}

func (m *mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

// serve authenticates one connection and dispatches it by its first byte.
func (m *mux) serve(raw net.Conn) {
	defer m.wg.Done()
	c := raw
	_ = raw.SetDeadline(time.Now().Add(handshakeTimeout))
	if m.serverTLS != nil {
		tc := tls.Server(raw, m.serverTLS)
		if err := tc.Handshake(); err != nil {
			select {
			case <-m.closed: // shutting down: not a refusal
			default:
				// A node with a certificate from another CA ends here.
				m.log.Warn().Err(err).Str("remote", raw.RemoteAddr().String()).Msg("cluster: refused a connection: TLS handshake failed")
			}
			m.drop(raw)
			return
		}
		c = tc
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		m.drop(raw)
		return
	}
	_ = raw.SetDeadline(time.Time{})
	switch b[0] {
	case protoRaft:
		select {
		case m.raftCh <- &trackedConn{Conn: c, m: m, raw: raw}:
		case <-m.raftClosed:
			m.drop(raw)
		case <-m.closed:
			m.drop(raw)
		}
	case protoForward:
		m.forward(c)
		m.drop(raw)
	default:
		m.log.Warn().Str("remote", raw.RemoteAddr().String()).Int("byte", int(b[0])).Msg("cluster: refused a connection: unknown protocol")
		m.drop(raw)
	}
}

func (m *mux) drop(raw net.Conn) {
	_ = raw.Close()
	m.untrack(raw)
}

// trackedConn untracks itself when raft closes it.
type trackedConn struct {
	net.Conn
	m   *mux
	raw net.Conn
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.m.untrack(c.raw)
	return err
}

// dial opens an authenticated connection to addr speaking proto. The server
// name checked against the peer's certificate is the host of its address.
func (m *mux) dial(ctx context.Context, addr string, proto byte) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := raw
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	if m.clientTLS != nil {
		conf := m.clientTLS.Clone()
		if conf.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			conf.ServerName = host
		}
		tc := tls.Client(raw, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("cluster: TLS to %s: %w", addr, err)
		}
		c = tc
	}
	if _, err := c.Write([]byte{proto}); err != nil {
		_ = raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

// close stops accepting and ends every accepted connection.
func (m *mux) close() {
	m.closeOnce.Do(func() {
		close(m.closed)
		_ = m.ln.Close()
		m.mu.Lock()
		conns := m.conns
		m.conns = nil
		m.mu.Unlock()
		for c := range conns {
			_ = c.Close()
		}
	})
	m.wg.Wait()
}

// raftLayer is the raft.StreamLayer over the mux.
type raftLayer struct{ m *mux }

var _ raft.StreamLayer = raftLayer{}

// Accept returns the next authenticated raft connection.
func (l raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.raftCh:
		return c, nil
	case <-l.m.raftClosed:
		return nil, errMuxClosed
	case <-l.m.closed:
		return nil, errMuxClosed
	}
}

// Close stops handing connections to raft; the port itself is the mux's and
// closes with the node.
func (l raftLayer) Close() error {
	l.m.raftOnce.Do(func() { close(l.m.raftClosed) })
	return nil
}

// Addr is the address the other nodes know this node by (its Peers entry),
// which raft sends in its RPC headers.
func (l raftLayer) Addr() net.Addr { return advertiseAddr(l.m.advertise) }

// Dial connects to another node's raft protocol.
func (l raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.m.dial(ctx, string(address), protoRaft)
}

type advertiseAddr string

func (a advertiseAddr) Network() string { return "tcp" }
func (a advertiseAddr) String() string  { return string(a) }
