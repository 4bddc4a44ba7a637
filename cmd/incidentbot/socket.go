package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// socketReadBuffer is the receive buffer of the Socket Mode connection. A
// burst of envelopes (a pin storm: 300 events of ~1 KB) can fill the
// kernel's default (128 KiB, grown only as the reader keeps up); with the
// window closed the sender waits for a window probe, which Linux sends
// after its 200 ms minimum retransmission timeout: every envelope in the
// burst then waits ~200 ms before the bot even reads it (seen in 1 storm
// of 8 on loopback). 4 MiB (the kernel caps it at net.core.rmem_max) holds
// thousands of envelopes.
const socketReadBuffer = 4 << 20

// socketDialer is the dialer of the Socket Mode connection: slack-go's
// defaults (proxy from the environment, its handshake timeout) plus the
// larger receive buffer.
func socketDialer() *websocket.Dialer {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 45 * time.Second,
		WriteBufferSize:  32 << 10,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(socketReadBuffer) // best effort: the default works, only slower in a burst
			}
			return c, nil
		},
	}
}
