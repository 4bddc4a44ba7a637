package cluster

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// The forward protocol: after the protocol byte, a connection carries any
// number of request/reply pairs, one at a time (the client pools idle
// connections, so a forward costs no TLS handshake). All integers are
// big-endian.
//
//	request: op u8 | timeout_ms u32 | kind_len u16 | kind | payload_len u32 | payload
//	reply:   code u8 | body_len u32 | body   (body: the reply, or the error text)
//
// timeout_ms is the caller's remaining deadline (0: none), so the leader
// stops working for a caller who has given up.
const (
	opForward byte = 1 // to the leader's handler
	opStatus  byte = 2 // this node's log position, for the leader's Status
)

// maxFrame bounds a kind, payload or body: far above a Slack envelope, far
// below what would let a peer make a node allocate without limit.
const maxFrame = 16 << 20

type request struct {
	op      byte
	timeout time.Duration
	kind    string
	payload []byte
}

func writeRequest(w *bufio.Writer, r request) error {
	if len(r.kind) > 0xffff || len(r.payload) > maxFrame {
		return fmt.Errorf("cluster: forward request too large (kind %d, payload %d bytes)", len(r.kind), len(r.payload))
	}
	var h [7]byte
	h[0] = r.op
	binary.BigEndian.PutUint32(h[1:5], uint32(min(r.timeout.Milliseconds(), 0xffffffff)))
	binary.BigEndian.PutUint16(h[5:7], uint16(len(r.kind)))
	_, _ = w.Write(h[:])
	_, _ = w.WriteString(r.kind)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(r.payload)))
	_, _ = w.Write(n[:])
	_, _ = w.Write(r.payload)
	return w.Flush()
}

func readRequest(r *bufio.Reader) (request, error) {
	var h [7]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return request{}, err
	}
	req := request{
		op:      h[0],
		timeout: time.Duration(binary.BigEndian.Uint32(h[1:5])) * time.Millisecond,
	}
	kind := make([]byte, binary.BigEndian.Uint16(h[5:7]))
	if _, err := io.ReadFull(r, kind); err != nil {
		return request{}, err
	}
	req.kind = string(kind)
	payload, err := readBlock(r)
	if err != nil {
		return request{}, err
	}
	req.payload = payload
	return req, nil
}

func writeReply(w *bufio.Writer, code byte, body []byte) error {
	if len(body) > maxFrame {
		code, body = codeError, []byte(fmt.Sprintf("reply too large (%d bytes)", len(body)))
	}
	var h [5]byte
	h[0] = code
	binary.BigEndian.PutUint32(h[1:], uint32(len(body)))
	_, _ = w.Write(h[:])
	_, _ = w.Write(body)
	return w.Flush()
}

func readReply(r *bufio.Reader) (byte, []byte, error) {
	code, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	body, err := readBlock(r)
	return code, body, err
}

// readBlock reads a u32 length and that many bytes.
func readBlock(r *bufio.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return nil, fmt.Errorf("cluster: frame of %d bytes exceeds %d", size, maxFrame)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
