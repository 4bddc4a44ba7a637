package slackfake

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxConnections is how many Socket Mode connections Slack allows per app.
const maxConnections = 10

// socketState is the Socket Mode side of the server, guarded by Server.mu.
type socketState struct {
	tickets     map[string]bool // single-use tickets from apps.connections.open
	conns       map[*wsConn]bool
	opened      int
	pinging     bool
	pending     []*outFrame // not yet written to any connection
	envs        map[string]*envelope
	envOrder    []string
	unacked     int             // envelopes in envs not acked (UnackedCount)
	ackedEvents map[string]bool // event_id → some delivery of it was acked
	nextConn    int
}

func (st *socketState) init() {
	st.tickets = map[string]bool{}
	st.conns = map[*wsConn]bool{}
	st.envs = map[string]*envelope{}
	st.ackedEvents = map[string]bool{}
	st.pinging = true
}

func (st *socketState) liveConns() []*wsConn {
	out := make([]*wsConn, 0, len(st.conns))
	for c := range st.conns {
		out = append(out, c)
	}
	return out
}

// outFrame is one WebSocket text frame waiting to be written: either an
// envelope (tracked for acks) or a raw frame from SendRaw.
type outFrame struct {
	env     *envelope
	raw     []byte
	private bool // belongs to one connection; never re-routed
	// to is the connection Slack picked for the envelope, at random among
	// the live ones, as Slack does ("each event to only one random
	// connection"); nil, or a connection gone or draining since: any
	// connection takes it.
	to *wsConn
}

// pickConnLocked picks a random live, non-draining connection, nil if
// there is none. (Before, whichever connection's writer woke first took
// every envelope waiting, so one connection of three got a whole burst.)
func (s *Server) pickConnLocked() *wsConn {
	var live []*wsConn
	for c := range s.sock.conns {
		if !c.draining {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[rand.IntN(len(live))]
}

// takesLocked reports whether c may write f: f is for c, or for no
// connection that can still take it.
func (s *Server) takesLocked(c *wsConn, f *outFrame) bool {
	return f.to == nil || f.to == c || !s.sock.conns[f.to] || f.to.draining
}

// wsConn is one Socket Mode connection. Only its writeLoop writes data
// frames (gorilla allows one concurrent writer); pings use WriteControl,
// which gorilla allows concurrently.
type wsConn struct {
	id       int
	ws       *websocket.Conn
	private  [][]byte // frames for this connection only (hello, disconnect)
	draining bool     // a disconnect was sent: no new envelopes go here
	done     chan struct{}
	once     sync.Once
}

// kill closes the socket abruptly, without a close frame.
func (c *wsConn) kill() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// handleWebSocket upgrades a /link/?ticket=… request. The ticket must come
// from apps.connections.open and is single use, as Slack's are.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := !s.closed && s.sock.tickets[ticket]
	delete(s.sock.tickets, ticket)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	// slack-go dials with Origin https://api.slack.com; accept any origin.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.sock.nextConn++
	c := &wsConn{id: s.sock.nextConn, ws: ws, done: make(chan struct{})}
	s.sock.conns[c] = true
	s.sock.opened++
	c.private = append(c.private, mustJSON(obj{
		"type":            "hello",
		"num_connections": len(s.sock.conns),
		"connection_info": obj{"app_id": s.opts.AppID},
		"debug_info":      obj{"host": "fake", "approximate_connection_time": 18060},
	}))
	tooMany := len(s.sock.conns) > maxConnections
	if tooMany {
		// Slack allows 10 connections per app and turns extra ones away.
		c.private = append(c.private, disconnectFrame("too_many_websockets"))
		c.draining = true
	}
	s.notifyLocked()
	s.mu.Unlock()
	if tooMany {
		time.AfterFunc(time.Second, func() { s.dropConn(c) })
	}
	go s.writeLoop(c)
	go s.pingLoop(c)
	go s.readLoop(c)
}

func (s *Server) writeLoop(c *wsConn) {
	for {
		s.mu.Lock()
		f := s.nextFrameLocked(c)
		ch := s.changed
		s.mu.Unlock()
		if f == nil {
			select {
			case <-ch:
				continue
			case <-c.done:
				return
			}
		}
		data := f.raw
		if f.env != nil {
			data = f.env.frame
		}
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
			s.requeue(f)
			s.dropConn(c)
			return
		}
		if f.env != nil {
			s.afterSend(f.env)
		}
	}
}

// nextFrameLocked pops the next frame for c: its private frames first (so
// hello always leads), then the oldest queued frame c takes (takesLocked):
// each envelope goes to exactly one connection, the one picked for it
// while that one can take it.
func (s *Server) nextFrameLocked(c *wsConn) *outFrame {
	if !s.sock.conns[c] {
		return nil
	}
	if len(c.private) > 0 {
		f := &outFrame{raw: c.private[0], private: true}
		c.private = c.private[1:]
		return f
	}
	if c.draining {
		return nil
	}
	i := slices.IndexFunc(s.sock.pending, func(f *outFrame) bool { return s.takesLocked(c, f) })
	if i < 0 {
		return nil
	}
	f := s.sock.pending[i]
	if i == 0 {
		s.sock.pending = s.sock.pending[1:]
	} else {
		s.sock.pending = slices.Delete(s.sock.pending, i, i+1)
	}
	if f.env != nil {
		f.env.sent = true
		f.env.sentAt = time.Now()
		f.env.conn = c.id
	}
	return f
}

// requeue puts a frame that failed to write back at the head of the queue.
func (s *Server) requeue(f *outFrame) {
	if f.private {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.env != nil {
		f.env.sent = false
	}
	s.sock.pending = append([]*outFrame{f}, s.sock.pending...)
	s.notifyLocked()
}

func (s *Server) dropConn(c *wsConn) {
	s.mu.Lock()
	if s.sock.conns[c] {
		delete(s.sock.conns, c)
		s.notifyLocked()
	}
	s.mu.Unlock()
	c.kill()
}

func (s *Server) pingLoop(c *wsConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		on := s.sock.pinging
		s.mu.Unlock()
		if on {
			_ = c.ws.WriteControl(websocket.PingMessage, fmt.Appendf(nil, "ping-%d", n), time.Now().Add(5*time.Second))
		}
	}
}

func (s *Server) readLoop(c *wsConn) {
	defer s.dropConn(c)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue // Slack ignores frames it cannot read
		}
		s.recordAck(ack.EnvelopeID, ack.Payload)
	}
}

// DropConnections closes every Socket Mode connection abruptly, as a
// network failure would: no close frame, no disconnect envelope.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.sock.liveConns()
	s.mu.Unlock()
	for _, c := range conns {
		s.dropConn(c)
	}
}

// Disconnect sends a disconnect envelope with the given reason ("warning",
// "refresh_requested", "link_disabled", …) to every live connection and
// stops routing envelopes to them, as Slack does before recycling a socket.
// Slack closes the socket itself shortly afterwards; so does the fake
// (after 10 s for "warning", 1 s otherwise) if the client has not.
func (s *Server) Disconnect(reason string) {
	frame := disconnectFrame(reason)
	grace := time.Second
	if reason == "warning" {
		grace = 10 * time.Second
	}
	s.mu.Lock()
	conns := s.sock.liveConns()
	for _, c := range conns {
		c.private = append(c.private, frame)
		c.draining = true
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		time.AfterFunc(grace, func() { s.dropConn(c) })
	}
}

func disconnectFrame(reason string) []byte {
	return mustJSON(obj{"type": "disconnect", "reason": reason, "debug_info": obj{"host": "fake"}})
}

// SetPinging turns WebSocket PINGs on or off. With pings off, slack-go
// declares the connection dead after its 30 s ping timeout and reconnects.
func (s *Server) SetPinging(on bool) {
	s.mu.Lock()
	s.sock.pinging = on
	s.mu.Unlock()
}

// SendRaw queues an arbitrary text frame (for example an envelope of an
// unknown type) for one live connection.
func (s *Server) SendRaw(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sock.pending = append(s.sock.pending, &outFrame{raw: append([]byte(nil), frame...)})
	s.notifyLocked()
}

// newTicketLocked issues a single-use WebSocket URL for apps.connections.open.
func (s *Server) newTicketLocked() string {
	t := strings.ReplaceAll(s.uuidLocked(), "-", "")
	s.sock.tickets[t] = true
	host := strings.TrimPrefix(s.srv.URL, "http://")
	return "ws://" + host + "/link/?ticket=" + t + "&app_id=" + s.opts.AppID
}
