package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Idle forward connections: the client drops a pooled connection before
// the server would, so a reused connection is rarely found closed.
const (
	serverIdle  = 2 * time.Minute
	clientIdle  = time.Minute
	maxIdlePer  = 64 // a burst forwards many envelopes at once: keep their TLS connections
	retryPause  = 50 * time.Millisecond
	replyWindow = 10 * time.Second // bound on writing one reply
)

// HandleForward registers the leader-side handler of forwarded requests.
// A request is answered ErrNotLeader by a node that is not the leader, so fn
// only runs on the leader, with a ctx that ends when the caller's deadline
// does or the node shuts down. Its error crosses to the caller as text plus
// the code of the sentinel it wraps.
func (n *Node) HandleForward(fn func(ctx context.Context, kind string, payload []byte) ([]byte, error)) {
	h := Handler(fn)
	n.handler.Store(&h)
}

// Forward sends a request to the current leader's handler over the cluster
// port and returns its reply. While there is no leader (an election) it
// waits for one; it retries on a node that answers ErrNotLeader and on a
// broken connection, so a request can reach a handler more than once and
// handlers must be idempotent (the bot dedups envelopes by id). ctx bounds
// the whole call; without a deadline, ForwardTimeout applies. When the bound
// passes it returns ErrNoLeader if no leader received the request, and
// ErrTimeout if one may have (the outcome is unknown). On the leader itself
// the handler is called directly.
func (n *Node) Forward(ctx context.Context, kind string, payload []byte) ([]byte, error) {
	start := time.Now()
	resp, err := n.forward(ctx, kind, payload)
	n.metrics.ForwardDone(kind, time.Since(start), err)
	return resp, err
}

func (n *Node) forward(ctx context.Context, kind string, payload []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.cfg.ForwardTimeout)
		defer cancel()
	}
	lastErr := errors.New("no leader known")
	maybeSent := false
	for {
		if n.ctx.Err() != nil {
			return nil, ErrShutdown
		}
		id, addr := n.Leader()
		switch {
		case id == n.cfg.NodeID && n.IsLeader():
			h := n.handler.Load()
			if h == nil {
				return nil, errors.New("cluster: no forward handler registered")
			}
			return (*h)(ctx, kind, payload)
		case addr == "" || id == n.cfg.NodeID:
			// No leader, or this node was just elected and its Barrier
			// has not finished yet.
		default:
			code, body, sent, err := n.roundTrip(ctx, addr, request{op: opForward, kind: kind, payload: payload})
			switch {
			case err != nil:
				lastErr = fmt.Errorf("leader %s at %s: %w", id, addr, err)
				maybeSent = maybeSent || sent
			case code == codeOK:
				return body, nil
			case code == codeNotLeader || code == codeNoLeader:
				lastErr = &RemoteError{Code: code, Message: string(body)}
			default:
				return nil, &RemoteError{Code: code, Message: string(body)}
			}
		}
		if !n.waitLeader(ctx, retryPause) {
			if maybeSent {
				return nil, fmt.Errorf("%w: forward %s: the leader may have received it: %v", ErrTimeout, kind, lastErr)
			}
			return nil, fmt.Errorf("%w: forward %s: none reached within the bound: %v", ErrNoLeader, kind, lastErr)
		}
	}
}

// waitLeader waits for a leader observation or pause; false when ctx ends.
func (n *Node) waitLeader(ctx context.Context, pause time.Duration) bool {
	n.wakeMu.Lock()
	wake := n.wake
	n.wakeMu.Unlock()
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-n.ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return ctx.Err() == nil
}

func (n *Node) wakeWaiters() {
	n.wakeMu.Lock()
	close(n.wake)
	n.wake = make(chan struct{})
	n.wakeMu.Unlock()
}

// roundTrip sends one request to addr and reads its reply. sent reports
// whether the whole request was written (so the peer may have acted on it).
func (n *Node) roundTrip(ctx context.Context, addr string, req request) (code byte, body []byte, sent bool, err error) {
	fc, err := n.pool.get(ctx, addr)
	if err != nil {
		return 0, nil, false, err
	}
	if dl, ok := ctx.Deadline(); ok {
		req.timeout = time.Until(dl)
		_ = fc.c.SetDeadline(dl)
	}
	// Cancelling ctx breaks a blocked read or write at once.
	stop := context.AfterFunc(ctx, func() { _ = fc.c.SetDeadline(time.Unix(1, 0)) })
	if err := writeRequest(fc.bw, req); err != nil {
		stop()
		_ = fc.c.Close()
		return 0, nil, false, err
	}
	code, body, err = readReply(fc.br)
	if !stop() || err != nil {
		_ = fc.c.Close()
		if err == nil {
			err = ctx.Err()
		}
		return 0, nil, true, err
	}
	_ = fc.c.SetDeadline(time.Time{})
	n.pool.put(addr, fc)
	return code, body, true, nil
}

// serveForward answers the requests of one forward connection, in turn.
func (n *Node) serveForward(c net.Conn) {
	select {
	case <-n.ready:
	case <-n.ctx.Done():
		return
	}
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(serverIdle))
		req, err := readRequest(br)
		if err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		code, body := n.answer(req)
		_ = c.SetWriteDeadline(time.Now().Add(replyWindow))
		if err := writeReply(bw, code, body); err != nil {
			return
		}
	}
}

func (n *Node) answer(req request) (byte, []byte) {
	switch req.op {
	case opStatus:
		return codeOK, n.selfReport()
	case opForward:
	default:
		return codeError, []byte(fmt.Sprintf("unknown op %d", req.op))
	}
	if !n.IsLeader() {
		id, _ := n.Leader()
		return codeNotLeader, []byte(fmt.Sprintf("node %s is not the leader (leader %q)", n.cfg.NodeID, id))
	}
	h := n.handler.Load()
	if h == nil {
		return codeError, []byte("no forward handler registered on the leader")
	}
	timeout := req.timeout
	if timeout <= 0 {
		timeout = n.cfg.ForwardTimeout
	}
	ctx, cancel := context.WithTimeout(n.ctx, timeout)
	defer cancel()
	resp, err := (*h)(ctx, req.kind, req.payload)
	if err != nil {
		return errCode(err), []byte(err.Error())
	}
	return codeOK, resp
}

// connPool keeps idle forward connections per address.
type connPool struct {
	dial   func(ctx context.Context, addr string, proto byte) (net.Conn, error)
	mu     sync.Mutex
	idle   map[string][]*fconn
	closed bool
}

type fconn struct {
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time
}

func (p *connPool) get(ctx context.Context, addr string) (*fconn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrShutdown
	}
	for l := p.idle[addr]; len(l) > 0; l = p.idle[addr] {
		fc := l[len(l)-1]
		p.idle[addr] = l[:len(l)-1]
		if time.Since(fc.used) < clientIdle {
			p.mu.Unlock()
			return fc, nil
		}
		_ = fc.c.Close()
	}
	p.mu.Unlock()
	c, err := p.dial(ctx, addr, protoForward)
	if err != nil {
		return nil, err
	}
	return &fconn{c: c, br: bufio.NewReader(c), bw: bufio.NewWriter(c)}, nil
}

func (p *connPool) put(addr string, fc *fconn) {
	fc.used = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[addr]) >= maxIdlePer {
		_ = fc.c.Close()
		return
	}
	if p.idle == nil {
		p.idle = map[string][]*fconn{}
	}
	p.idle[addr] = append(p.idle[addr], fc)
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, l := range p.idle {
		for _, fc := range l {
			_ = fc.c.Close()
		}
	}
	p.idle = nil
}
