package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/config/clustertest"
)

// nodeTLSConfig is ClusterTLS of a node whose certificate ca issued for cn.
func nodeTLSConfig(t *testing.T, ca *clustertest.CA, cn string) (*tls.Config, Config) {
	t.Helper()
	var c Config
	nodeTLS(t, &c, ca, clustertest.Options{CN: cn})
	cfg, err := c.ClusterTLS()
	if err != nil || cfg == nil {
		t.Fatalf("ClusterTLS: %v, %v", cfg, err)
	}
	return cfg, c
}

// rawTLS is a client or server config holding a key pair ca issued, with
// no verification of its own: an intruder's.
func rawTLS(t *testing.T, ca *clustertest.CA, cn string) *tls.Config {
	t.Helper()
	cert, key := ca.Issue(t, clustertest.Options{CN: cn})
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
}

type handshakeResult struct {
	serverErr, clientErr error
	server, client       tls.ConnectionState // as each side saw it
}

// handshake connects client to server over loopback TCP, dialling 127.0.0.1
// (a name in no certificate), and reports how each side fared. The server
// writes a byte once its handshake succeeded; in TLS 1.3 the client learns
// of a refused client certificate only when it reads.
func handshake(t *testing.T, server, client *tls.Config) handshakeResult {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var r handshakeResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			r.serverErr = err
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if r.serverErr = tc.Handshake(); r.serverErr == nil {
			r.server = tc.ConnectionState()
			_, r.serverErr = tc.Write([]byte("k"))
		}
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), client)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		r.client = conn.ConnectionState()
		_, err = io.ReadFull(conn, make([]byte, 1))
		conn.Close()
	}
	r.clientErr = err
	<-done
	return r
}

func TestClusterTLSHandshake(t *testing.T) {
	ca, other := clustertest.NewCA(t, "incidentbot cluster CA"), clustertest.NewCA(t, "another CA")
	node0, _ := nodeTLSConfig(t, ca, "incidentbot-0.incidentbot-peers")
	node1, _ := nodeTLSConfig(t, ca, "incidentbot-1.incidentbot-peers")

	r := handshake(t, node0, node1)
	if r.serverErr != nil || r.clientErr != nil {
		t.Fatalf("two nodes of the cluster: server %v, client %v", r.serverErr, r.clientErr)
	}
	if r.server.Version != tls.VersionTLS13 || r.client.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x/%x, want 1.3", r.server.Version, r.client.Version)
	}
	if got := r.server.PeerCertificates[0].Subject.CommonName; got != "incidentbot-1.incidentbot-peers" {
		t.Errorf("the server saw client %q", got)
	}
	if got := r.client.PeerCertificates[0].Subject.CommonName; got != "incidentbot-0.incidentbot-peers" {
		t.Errorf("the client saw server %q", got)
	}
	// The same config serves both ends.
	if r := handshake(t, node1, node0); r.serverErr != nil || r.clientErr != nil {
		t.Errorf("the other way round: server %v, client %v", r.serverErr, r.clientErr)
	}

	noCert := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	tls12 := rawTLS(t, ca, "incidentbot-1.incidentbot-peers")
	tls12.MaxVersion = tls.VersionTLS12
	for _, tc := range []struct {
		name           string
		server, client *tls.Config
		serverRefuses  string // part of the server's error; "" when the client refuses
		clientRefuses  string
	}{
		{"a client of another CA", node0, rawTLS(t, other, "intruder"), "not one of the cluster's", ""},
		{"a client without a certificate", node0, noCert, "certificate", ""},
		{"a server of another CA", rawTLS(t, other, "impostor"), node1, "", "not one of the cluster's"},
		{"a client on TLS 1.2", node0, tls12, "unsupported versions", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := handshake(t, tc.server, tc.client)
			if tc.serverRefuses != "" && (r.serverErr == nil || !strings.Contains(r.serverErr.Error(), tc.serverRefuses)) {
				t.Errorf("server: %v, want an error saying %q", r.serverErr, tc.serverRefuses)
			}
			if tc.clientRefuses != "" && (r.clientErr == nil || !strings.Contains(r.clientErr.Error(), tc.clientRefuses)) {
				t.Errorf("client: %v, want an error saying %q", r.clientErr, tc.clientRefuses)
			}
			if r.clientErr == nil {
				t.Error("the client got the server's byte")
			}
		})
	}
}

// TestClusterTLSReload: a renewed certificate (cert-manager rewriting the
// Secret's files) is used from the next handshake; a broken rewrite keeps
// the last good one.
func TestClusterTLSReload(t *testing.T) {
	ca := clustertest.NewCA(t, "incidentbot cluster CA")
	server, c := nodeTLSConfig(t, ca, "incidentbot-0.incidentbot-peers")
	client, _ := nodeTLSConfig(t, ca, "incidentbot-1.incidentbot-peers")
	serial := func() string {
		t.Helper()
		r := handshake(t, server, client)
		if r.serverErr != nil || r.clientErr != nil {
			t.Fatalf("handshake: server %v, client %v", r.serverErr, r.clientErr)
		}
		return r.client.PeerCertificates[0].SerialNumber.String()
	}
	rewrite := func(cert, key []byte, at time.Time) {
		t.Helper()
		writeOver(t, c.ClusterTLSCert, cert)
		writeOver(t, c.ClusterTLSKey, key)
		for _, f := range []string{c.ClusterTLSCert, c.ClusterTLSKey} {
			if err := os.Chtimes(f, at, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := serial()
	cert, key := ca.Issue(t, clustertest.Options{CN: "incidentbot-0.incidentbot-peers"})
	rewrite(cert, key, time.Now().Add(time.Minute))
	renewed := serial()
	if renewed == first {
		t.Fatalf("still serial %s after the renewal", first)
	}
	rewrite([]byte("half-written"), key, time.Now().Add(2*time.Minute))
	if got := serial(); got != renewed {
		t.Errorf("after a broken rewrite serial %s, want the last good %s", got, renewed)
	}
	// A certificate the CA did not sign is not taken up either.
	cert, key = clustertest.NewCA(t, "another CA").Issue(t, clustertest.Options{CN: "incidentbot-0.incidentbot-peers"})
	rewrite(cert, key, time.Now().Add(3*time.Minute))
	if got := serial(); got != renewed {
		t.Errorf("after a certificate of another CA serial %s, want the last good %s", got, renewed)
	}
}

func TestClusterTLSConfig(t *testing.T) {
	if cfg, err := (Config{ClusterInsecure: true}).ClusterTLS(); cfg != nil || err != nil {
		t.Errorf("insecure: ClusterTLS() = %v, %v; want nil, nil (plain TCP)", cfg, err)
	}
	_, err := (Config{ClusterTLSCert: "/nope.crt", ClusterTLSKey: "/nope.key", ClusterTLSCa: "/nope-ca.crt"}).ClusterTLS()
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "INCIDENTBOT_CLUSTER_TLS_CERT") {
		t.Errorf("missing files: %v", err)
	}
	ca := clustertest.NewCA(t, "incidentbot cluster CA")
	cfg, _ := nodeTLSConfig(t, ca, "incidentbot-0.incidentbot-peers")
	if cfg.MinVersion != tls.VersionTLS13 || cfg.ClientAuth != tls.RequireAnyClientCert || !cfg.SessionTicketsDisabled || cfg.VerifyPeerCertificate == nil {
		t.Errorf("ClusterTLS() = %+v", cfg)
	}
	if err := cfg.VerifyPeerCertificate(nil, nil); err == nil {
		t.Error("VerifyPeerCertificate accepted no certificate")
	}
	if err := cfg.VerifyPeerCertificate([][]byte{[]byte("junk")}, nil); err == nil {
		t.Error("VerifyPeerCertificate accepted junk")
	}
	leaf, _ := ca.Issue(t, clustertest.Options{CN: "x", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err := cfg.VerifyPeerCertificate([][]byte{pemDER(t, leaf)}, nil); err == nil {
		t.Error("VerifyPeerCertificate accepted a client-auth-only certificate")
	}
}

func pemDER(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}
