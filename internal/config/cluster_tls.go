package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// ClusterTLS builds the mutual-TLS configuration of the node-to-node
// connections from INCIDENTBOT_CLUSTER_TLS_CERT, _KEY and _CA. It returns
// nil and no error when INCIDENTBOT_CLUSTER_INSECURE=true (plain TCP, tests
// only). Call it on a validated Config.
//
// The same *tls.Config serves both ends: tls.Listen for the connections the
// other nodes open, and tls.Dialer (or tls.Client) for the ones this node
// opens. Either end presents this node's certificate and accepts the other
// only if its certificate chains to the cluster's CA and allows both server
// and client authentication (or names no extended key usage); TLS 1.3 only,
// no session resumption, so every connection is verified in full.
//
// Host names are deliberately not checked: every node dials every other
// under a different name (incidentbot-1.incidentbot-peers, …), so a
// ServerName per dial would have to be threaded through Raft's transport,
// and the certificate of one node would then need every pod's name or a
// wildcard anyway. Instead the CA is the cluster's own (cert-manager issues
// it only for the cluster), so a certificate it signed is what makes a
// member. Go's built-in verification cannot verify the chain without the
// host name on the client side, hence InsecureSkipVerify with the chain
// verified in VerifyPeerCertificate, on both sides, against the CA.
//
// The files are read again when they change (cert-manager renews the
// certificate in the Secret and the kubelet rewrites the mounted files):
// each handshake compares their modification times and sizes, and a
// renewed certificate is used once it loads and chains to the CA; until
// then the last good one stays in use.
func (c Config) ClusterTLS() (*tls.Config, error) {
	if c.ClusterInsecure {
		return nil, nil
	}
	creds := &clusterCreds{certFile: c.ClusterTLSCert, keyFile: c.ClusterTLSKey, caFile: c.ClusterTLSCa}
	if _, err := creds.get(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		SessionTicketsDisabled: true,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			l, err := creds.get()
			if err != nil {
				return nil, err
			}
			return l.cert, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			l, err := creds.get()
			if err != nil {
				return nil, err
			}
			return l.cert, nil
		},
		// The server asks for a client certificate and refuses a handshake
		// without one; VerifyPeerCertificate decides whether it is valid.
		ClientAuth: tls.RequireAnyClientCert,
		// The chain is verified below, without the host name (see above).
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyPeerCertificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			l, err := creds.get()
			if err != nil {
				return err
			}
			return verifyClusterPeer(raw, l.pool)
		},
	}, nil
}

// verifyClusterPeer verifies a peer's certificate chain (leaf first)
// against the cluster's CA.
func verifyClusterPeer(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("cluster peer sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("cluster peer certificate: %w", err)
		}
		certs[i] = c
	}
	if err := verifyMember(certs[0], certs[1:], roots); err != nil {
		return fmt.Errorf("cluster peer certificate %q is not one of the cluster's: %w", certs[0].Subject.CommonName, err)
	}
	return nil
}

// verifyMember checks that leaf chains to roots for both server and client
// authentication: every node is both.
func verifyMember(leaf *x509.Certificate, intermediates []*x509.Certificate, roots *x509.CertPool) error {
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			return err
		}
	}
	return nil
}

// checkClusterTLS checks the TLS files as ClusterTLS will load them.
func checkClusterTLS(certFile, keyFile, caFile string) []error {
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"INCIDENTBOT_CLUSTER_TLS_CERT", certFile}, {"INCIDENTBOT_CLUSTER_TLS_KEY", keyFile}, {"INCIDENTBOT_CLUSTER_TLS_CA", caFile},
	} {
		if strings.TrimSpace(v.value) == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return []error{fmt.Errorf("%s %s not set: in cluster mode the nodes authenticate each other with mutual TLS, so set INCIDENTBOT_CLUSTER_TLS_CERT, _KEY and _CA to PEM files of this node's certificate, its key and the cluster's CA (on Kubernetes the Secret's tls.crt, tls.key and ca.crt), or INCIDENTBOT_CLUSTER_INSECURE=true in tests only",
			joinAnd(missing), verb)}
	}
	_, _, errs := loadClusterCreds(certFile, keyFile, caFile)
	return errs
}

// loadClusterCreds reads this node's key pair and the cluster's CA, and
// checks the certificate is one the other nodes will accept. Errors name
// the variable and file, never a key's content.
func loadClusterCreds(certFile, keyFile, caFile string) (*tls.Certificate, *x509.CertPool, []error) {
	var errs []error
	read := func(name, file string) []byte {
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot read the file: %w", name, err))
		}
		return b
	}
	certPEM := read("INCIDENTBOT_CLUSTER_TLS_CERT", certFile)
	keyPEM := read("INCIDENTBOT_CLUSTER_TLS_KEY", keyFile)
	caPEM := read("INCIDENTBOT_CLUSTER_TLS_CA", caFile)

	pool := x509.NewCertPool()
	if caPEM != nil && !pool.AppendCertsFromPEM(caPEM) {
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_TLS_CA (%s) holds no PEM certificate (-----BEGIN CERTIFICATE-----): it must be the CA that signs every node's certificate (ca.crt)", caFile))
		caPEM = nil
	}
	switch {
	case certPEM != nil && !bytes.Contains(certPEM, []byte("-----BEGIN CERTIFICATE-----")):
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_TLS_CERT (%s) holds no PEM certificate (-----BEGIN CERTIFICATE-----): it must be this node's certificate (tls.crt)", certFile))
		return nil, nil, errs
	case keyPEM != nil && !bytes.Contains(keyPEM, []byte("PRIVATE KEY-----")):
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_TLS_KEY (%s) holds no PEM private key (-----BEGIN … PRIVATE KEY-----): it must be the key of INCIDENTBOT_CLUSTER_TLS_CERT (tls.key)", keyFile))
		return nil, nil, errs
	case certPEM == nil || keyPEM == nil:
		return nil, nil, errs
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// tls's errors describe the mismatch or the parse failure, never
		// the key.
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_TLS_CERT (%s) and INCIDENTBOT_CLUSTER_TLS_KEY (%s) are not a certificate and its key: %w", certFile, keyFile, err))
		return nil, nil, errs
	}
	if caPEM == nil {
		return nil, nil, errs
	}
	var inter []*x509.Certificate
	for _, der := range pair.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter = append(inter, c)
		}
	}
	if err := verifyMember(pair.Leaf, inter, pool); err != nil {
		errs = append(errs, fmt.Errorf("INCIDENTBOT_CLUSTER_TLS_CERT (%s) is not one the other nodes accept from INCIDENTBOT_CLUSTER_TLS_CA (%s): it must be signed by that CA, be valid now, and allow both server and client auth (cert-manager usages: server auth, client auth): %w",
			certFile, caFile, err))
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return &pair, pool, nil
}

// clusterCreds holds the last good key pair and CA, read again when the
// files change.
type clusterCreds struct {
	certFile, keyFile, caFile string

	mu    sync.Mutex
	stamp string
	cur   *loadedCreds
}

type loadedCreds struct {
	cert *tls.Certificate
	pool *x509.CertPool
}

func (r *clusterCreds) get() (*loadedCreds, error) {
	stamp := fileStamp(r.certFile, r.keyFile, r.caFile)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil && stamp == r.stamp {
		return r.cur, nil
	}
	cert, pool, errs := loadClusterCreds(r.certFile, r.keyFile, r.caFile)
	if len(errs) > 0 {
		if r.cur != nil {
			// A renewal in progress, or a broken one: keep the last good
			// pair and try again at the next handshake.
			return r.cur, nil
		}
		return nil, errors.Join(errs...)
	}
	r.cur, r.stamp = &loadedCreds{cert: cert, pool: pool}, stamp
	return r.cur, nil
}

// fileStamp sums up the files' modification times and sizes (following
// symlinks, as the kubelet's mounts use).
func fileStamp(files ...string) string {
	var b strings.Builder
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d/%d;", st.ModTime().UnixNano(), st.Size())
		} else {
			b.WriteString("-;")
		}
	}
	return b.String()
}
