// Package clustertest issues throwaway certificates for tests of cluster
// mode's mutual TLS (INCIDENTBOT_CLUSTER_TLS_CERT, _KEY and _CA), as
// cert-manager's CA issuer would: a CA of the cluster's own, and node
// certificates it signed for both server and client auth.
package clustertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A CA signs certificates.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// PEM is Cert, PEM-encoded: the ca.crt of a cert-manager Secret.
	PEM []byte
}

// Options describe a certificate to issue. The zero value is a node's:
// server and client auth, valid from an hour ago for a day, named
// incidentbot-0.incidentbot-peers.
type Options struct {
	CN string
	// EKU replaces the extended key usages; NoEKU leaves them out (Go then
	// accepts the certificate for any use).
	EKU      []x509.ExtKeyUsage
	NoEKU    bool
	NotAfter time.Time
}

// NewCA makes a self-signed CA.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	return issueCA(t, nil, name)
}

// Intermediate makes an intermediate CA signed by ca.
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	t.Helper()
	return issueCA(t, ca, name)
}

func issueCA(t testing.TB, parent *CA, name string) *CA {
	t.Helper()
	tmpl := template(t, name, time.Now().Add(24*time.Hour))
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	cert, key, certPEM := sign(t, tmpl, parent)
	return &CA{Cert: cert, Key: key, PEM: certPEM}
}

// Issue makes a certificate signed by ca and returns it and its PKCS #8
// key, PEM-encoded.
func (ca *CA) Issue(t testing.TB, o Options) (certPEM, keyPEM []byte) {
	t.Helper()
	if o.CN == "" {
		o.CN = "incidentbot-0.incidentbot-peers"
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := template(t, o.CN, o.NotAfter)
	tmpl.DNSNames = []string{o.CN}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	switch {
	case o.EKU != nil:
		tmpl.ExtKeyUsage = o.EKU
	case !o.NoEKU:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	_, key, certPEM := sign(t, tmpl, ca)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// Secret issues a node certificate and returns what cert-manager puts in
// the Secret: tls.crt, tls.key and ca.crt.
func (ca *CA) Secret(t testing.TB, o Options) map[string]string {
	t.Helper()
	cert, key := ca.Issue(t, o)
	return map[string]string{"tls.crt": string(cert), "tls.key": string(key), "ca.crt": string(ca.PEM)}
}

// Files issues a node certificate, writes the Secret's three files into
// dir and returns their paths, for INCIDENTBOT_CLUSTER_TLS_CERT, _KEY and
// _CA.
func (ca *CA) Files(t testing.TB, dir string, o Options) (certFile, keyFile, caFile string) {
	t.Helper()
	paths := map[string]string{}
	for name, content := range ca.Secret(t, o) {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths["tls.crt"], paths["tls.key"], paths["ca.crt"]
}

func template(t testing.TB, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
}

// sign signs tmpl with a new key, by parent (nil: self-signed).
func sign(t testing.TB, tmpl *x509.Certificate, parent *CA) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
