package config

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

// A testCA issues throwaway certificates, as cert-manager's CA issuer would.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// leafOpts describe a certificate to issue; the zero value is a node's
// certificate (server and client auth, valid for a day).
type leafOpts struct {
	cn       string
	eku      []x509.ExtKeyUsage
	noEKU    bool
	notAfter time.Time
	isCA     bool
}

var serial int64

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca := &testCA{}
	ca.cert, ca.key, ca.pem = issue(t, nil, leafOpts{cn: name, isCA: true})
	return ca
}

// intermediate issues an intermediate CA signed by ca.
func (ca *testCA) intermediate(t *testing.T, name string) *testCA {
	t.Helper()
	in := &testCA{}
	in.cert, in.key, in.pem = issue(t, ca, leafOpts{cn: name, isCA: true})
	return in
}

// leaf issues a certificate and returns it and its key as PEM.
func (ca *testCA) leaf(t *testing.T, o leafOpts) (certPEM, keyPEM []byte) {
	t.Helper()
	_, key, certPEM := issue(t, ca, o)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// issue makes a certificate signed by parent (nil: self-signed).
func issue(t *testing.T, parent *testCA, o leafOpts) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: o.cn},
		DNSNames:     []string{o.cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     o.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  o.eku,
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if o.eku == nil && !o.noEKU && !o.isCA {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if o.isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		tmpl.DNSNames = nil
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
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

// writeFiles writes name → content into dir and returns name → path.
func writeFiles(t *testing.T, dir string, files map[string][]byte) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// nodeTLS issues a node certificate from ca and sets c's TLS variables to
// its files in a fresh directory.
func nodeTLS(t *testing.T, c *Config, ca *testCA, o leafOpts) {
	t.Helper()
	if o.cn == "" {
		o.cn = "incidentbot-0.incidentbot-peers"
	}
	cert, key := ca.leaf(t, o)
	p := writeFiles(t, t.TempDir(), map[string][]byte{"tls.crt": cert, "tls.key": key, "ca.crt": ca.pem})
	c.ClusterTLSCert, c.ClusterTLSKey, c.ClusterTLSCa = p["tls.crt"], p["tls.key"], p["ca.crt"]
}
