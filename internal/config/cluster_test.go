package config

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/config/clustertest"
)

const threePeers = "incidentbot-0=incidentbot-0.incidentbot-peers:7946,incidentbot-1=incidentbot-1.incidentbot-peers:7946,incidentbot-2=incidentbot-2.incidentbot-peers:7946"

// clusterConfig is a valid node incidentbot-1 of three, with TLS from ca.
func clusterConfig(t *testing.T, ca *clustertest.CA) Config {
	t.Helper()
	c := validConfig()
	c.DB = "/data/incidentbot.db"
	c.ClusterNodeID, c.ClusterBind, c.ClusterPeers = "incidentbot-1", "0.0.0.0:7946", threePeers
	nodeTLS(t, &c, ca, clustertest.Options{})
	return c
}

func TestLoadCluster(t *testing.T) {
	c, err := Load(MapEnv(map[string]string{
		"INCIDENTBOT_CLUSTER_NODE_ID": "incidentbot-1", "INCIDENTBOT_CLUSTER_BIND": "0.0.0.0:7946",
		"INCIDENTBOT_CLUSTER_PEERS": threePeers, "INCIDENTBOT_CLUSTER_TLS_CERT": "/tls/tls.crt",
		"INCIDENTBOT_CLUSTER_TLS_KEY": "/tls/tls.key", "INCIDENTBOT_CLUSTER_TLS_CA": "/tls/ca.crt",
		"INCIDENTBOT_CLUSTER_INSECURE": "true", "INCIDENTBOT_CLUSTER_DIR": "/raft",
		// Unprefixed names are not read.
		"CLUSTER_NODE_ID": "elsewhere", "CLUSTER_TLS_CA": "/elsewhere"}))
	if err != nil {
		t.Fatal(err)
	}
	want := [...]string{"incidentbot-1", "0.0.0.0:7946", threePeers, "/tls/tls.crt", "/tls/tls.key", "/tls/ca.crt", "/raft"}
	got := [...]string{c.ClusterNodeID, c.ClusterBind, c.ClusterPeers, c.ClusterTLSCert, c.ClusterTLSKey, c.ClusterTLSCa, c.ClusterDir}
	if got != want || !c.ClusterInsecure || !c.ClusterEnabled() {
		t.Errorf("Load: %q insecure %v, want %q", got, c.ClusterInsecure, want)
	}
	if c, _ := Load(MapEnv(nil)); c.ClusterEnabled() || len(c.clusterVariables()) != 0 {
		t.Errorf("by default a cluster variable is set: %+v", c)
	}
	_, err = Load(MapEnv(map[string]string{"INCIDENTBOT_CLUSTER_INSECURE": "yes please"}))
	if err == nil || !strings.Contains(err.Error(), "INCIDENTBOT_CLUSTER_INSECURE") || !strings.Contains(err.Error(), "true or false") {
		t.Errorf("INCIDENTBOT_CLUSTER_INSECURE=yes please: %v", err)
	}
}

func TestClusterPeerList(t *testing.T) {
	c := Config{ClusterPeers: " incidentbot-0 = incidentbot-0.incidentbot-peers:7946, incidentbot-1=10.0.0.2:7946,incidentbot-2=[fd00::3]:7946,"}
	peers, err := c.ClusterPeerList()
	want := []Peer{{"incidentbot-0", "incidentbot-0.incidentbot-peers:7946"}, {"incidentbot-1", "10.0.0.2:7946"}, {"incidentbot-2", "[fd00::3]:7946"}}
	if err != nil || !reflect.DeepEqual(peers, want) {
		t.Errorf("ClusterPeerList() = %v, %v; want %v", peers, err, want)
	}
}

func TestValidateCluster(t *testing.T) {
	ca := clustertest.NewCA(t, "incidentbot cluster CA")
	inter := ca.Intermediate(t, "incidentbot intermediate")
	tests := []struct {
		name    string
		change  func(*Config)
		check   func(Config) bool
		warning string
	}{
		{"three voters with TLS", func(*Config) {}, func(c Config) bool { return c.ClusterDir == "/data/incidentbot.db.raft" }, ""},
		{"one voter", func(c *Config) { c.ClusterPeers = "incidentbot-1=incidentbot-1.incidentbot-peers:7946" }, nil, ""},
		{"five voters", func(c *Config) { c.ClusterPeers = threePeers + ",incidentbot-3=h3:7946,incidentbot-4=h4:7946" }, nil, ""},
		{"seven voters", func(c *Config) {
			c.ClusterPeers = threePeers + ",incidentbot-3=h3:7946,incidentbot-4=h4:7946,incidentbot-5=h5:7946,incidentbot-6=h6:7946"
		}, nil, ""},
		{"IP addresses and a trailing comma", func(c *Config) {
			c.ClusterPeers = "a=10.0.0.1:7946, incidentbot-1=10.0.0.2:7946,c=[fd00::3]:7946,"
		}, nil, ""},
		{"bind on one interface", func(c *Config) { c.ClusterBind = "10.0.0.2:7946" }, nil, ""},
		{"bind port only", func(c *Config) { c.ClusterBind = ":7946" }, nil, ""},
		{"explicit directory", func(c *Config) { c.ClusterDir = "/data/raft" }, func(c Config) bool { return c.ClusterDir == "/data/raft" }, ""},
		{"node id with spaces", func(c *Config) { c.ClusterNodeID = " incidentbot-1 " }, func(c Config) bool { return c.ClusterNodeID == "incidentbot-1" }, ""},
		{"certificate without extended key usage", func(c *Config) { nodeTLS(t, c, ca, clustertest.Options{NoEKU: true}) }, nil, ""},
		{"certificate from an intermediate, chain in the file", func(c *Config) {
			nodeTLS(t, c, inter, clustertest.Options{})
			chain, _ := os.ReadFile(c.ClusterTLSCert)
			if err := os.WriteFile(c.ClusterTLSCert, append(chain, inter.PEM...), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.ClusterTLSCa, ca.PEM, 0o600); err != nil {
				t.Fatal(err)
			}
		}, nil, ""},
		{"insecure, for tests", func(c *Config) {
			c.ClusterTLSCert, c.ClusterTLSKey, c.ClusterTLSCa, c.ClusterInsecure = "", "", "", true
		},
			nil, "INCIDENTBOT_CLUSTER_INSECURE=true: traffic between the nodes is plain TCP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clusterConfig(t, ca)
			tc.change(&c)
			warnings, err := c.Validate(true)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("after Validate: %+v", c)
			}
			if tc.warning == "" && len(warnings) > 0 || tc.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.warning)) {
				t.Errorf("warnings %q, want %q", warnings, tc.warning)
			}
		})
	}
}

func TestValidateClusterRefuses(t *testing.T) {
	ca, other := clustertest.NewCA(t, "incidentbot cluster CA"), clustertest.NewCA(t, "another CA")
	const mode = "INCIDENTBOT_CLUSTER_NODE_ID is empty: set the node id, e.g. incidentbot-0, or unset the cluster variables for single-node mode"
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		// Without a node id: single-node mode, and nothing else may be set.
		{"peers without a node id", func(c *Config) { c.ClusterNodeID = "" }, []string{
			"INCIDENTBOT_CLUSTER_BIND, INCIDENTBOT_CLUSTER_PEERS, INCIDENTBOT_CLUSTER_TLS_CERT, INCIDENTBOT_CLUSTER_TLS_KEY and INCIDENTBOT_CLUSTER_TLS_CA are set but " + mode}},
		{"only peers", func(c *Config) { *c = validConfig(); c.ClusterPeers = threePeers }, []string{"INCIDENTBOT_CLUSTER_PEERS is set but " + mode}},
		{"only insecure", func(c *Config) { *c = validConfig(); c.ClusterInsecure = true }, []string{"INCIDENTBOT_CLUSTER_INSECURE is set but " + mode}},
		{"only the directory", func(c *Config) { *c = validConfig(); c.ClusterDir = "/raft" }, []string{"INCIDENTBOT_CLUSTER_DIR is set but " + mode}},
		{"node id in capitals", func(c *Config) { c.ClusterNodeID = "Incidentbot-1" }, []string{"INCIDENTBOT_CLUSTER_NODE_ID must be", "incidentbot-0", `"Incidentbot-1"`}},
		// The bind address.
		{"no bind", func(c *Config) { c.ClusterBind = "" }, []string{"INCIDENTBOT_CLUSTER_BIND must be host:port such as 0.0.0.0:7946", `(got "")`}},
		{"bind without a port", func(c *Config) { c.ClusterBind = "0.0.0.0" }, []string{"INCIDENTBOT_CLUSTER_BIND", `"0.0.0.0"`}},
		{"bind port 0", func(c *Config) { c.ClusterBind = "0.0.0.0:0" }, []string{"INCIDENTBOT_CLUSTER_BIND"}},
		{"bind a URL", func(c *Config) { c.ClusterBind = "tcp://0.0.0.0:7946" }, []string{"INCIDENTBOT_CLUSTER_BIND"}},
		{"bind on the HTTP port", func(c *Config) { c.HTTPAddr, c.ClusterBind = "0.0.0.0:8080", ":8080" },
			[]string{"INCIDENTBOT_CLUSTER_BIND (:8080) and INCIDENTBOT_HTTP_ADDR (0.0.0.0:8080) share a port", "0.0.0.0:7946"}},
		{"bind on the alert port", func(c *Config) { c.AlertsAddr, c.AlertsStorm = "127.0.0.1:7946", 20 },
			[]string{"INCIDENTBOT_CLUSTER_BIND (0.0.0.0:7946) and INCIDENTBOT_ALERTS_ADDR (127.0.0.1:7946) share a port"}},
		// The peers.
		{"no peers", func(c *Config) { c.ClusterPeers = " , " }, []string{"INCIDENTBOT_CLUSTER_PEERS must list every voter as id=host:port", "incidentbot-0=incidentbot-0.incidentbot-peers:7946,"}},
		{"a peer without an id", func(c *Config) { c.ClusterPeers = threePeers + ",h4:7946,h5:7946" },
			[]string{`INCIDENTBOT_CLUSTER_PEERS: "h4:7946" is not id=host:port`, `"h5:7946"`}},
		{"a peer id in capitals", func(c *Config) { c.ClusterPeers = strings.Replace(threePeers, "incidentbot-0=", "Bot_0=", 1) },
			[]string{`INCIDENTBOT_CLUSTER_PEERS: node id "Bot_0" must be`, "lower-case"}},
		{"a peer twice", func(c *Config) { c.ClusterPeers = strings.Replace(threePeers, "incidentbot-0=", "incidentbot-1=", 1) },
			[]string{"INCIDENTBOT_CLUSTER_PEERS: node id incidentbot-1 is listed twice"}},
		{"two peers at one address", func(c *Config) { c.ClusterPeers = "a=h:7946,incidentbot-1=H:7946,c=h3:7946" },
			[]string{"INCIDENTBOT_CLUSTER_PEERS: a and incidentbot-1 have the same address H:7946"}},
		{"a peer without a port", func(c *Config) { c.ClusterPeers = "a=h1,incidentbot-1=h2:7946,c=h3:7946" },
			[]string{`INCIDENTBOT_CLUSTER_PEERS: a's address "h1" is not host:port`}},
		{"a peer port out of range", func(c *Config) { c.ClusterPeers = "a=h1:79460,incidentbot-1=h2:7946,c=h3:7946" },
			[]string{`a's address "h1:79460" needs a port from 1 to 65535`}},
		{"a peer at a wildcard", func(c *Config) { c.ClusterPeers = "a=h1:7946,incidentbot-1=0.0.0.0:7946,c=[::]:7946" },
			[]string{`incidentbot-1's address "0.0.0.0:7946" needs a host the other nodes can dial`, `c's address "[::]:7946"`}},
		{"two voters", func(c *Config) { c.ClusterPeers = "incidentbot-0=h0:7946,incidentbot-1=h1:7946" },
			[]string{"INCIDENTBOT_CLUSTER_PEERS lists 2 voters, an even number", "majority of 2", "no more failures (0) than a cluster of 1", "use 1 or 3 voters"}},
		{"four voters", func(c *Config) { c.ClusterPeers = threePeers + ",incidentbot-3=h3:7946" },
			[]string{"lists 4 voters, an even number", "majority of 3", "(1) than a cluster of 3", "use 3 or 5 voters"}},
		{"nine voters", func(c *Config) {
			c.ClusterPeers = threePeers + ",d=h3:1,e=h4:1,f=h5:1,g=h6:1,h=h7:1,i=h8:1"
		}, []string{"INCIDENTBOT_CLUSTER_PEERS lists 9 voters, more than 7", "use 3, 5 or 7"}},
		{"this node not a peer", func(c *Config) { c.ClusterNodeID = "incidentbot-3" },
			[]string{"INCIDENTBOT_CLUSTER_NODE_ID incidentbot-3 is not one of INCIDENTBOT_CLUSTER_PEERS' ids (incidentbot-0, incidentbot-1 and incidentbot-2)"}},
		// TLS.
		{"insecure and TLS", func(c *Config) { c.ClusterInsecure = true },
			[]string{"INCIDENTBOT_CLUSTER_INSECURE=true and the INCIDENTBOT_CLUSTER_TLS_ variables are both set: set one or the other"}},
		{"insecure and only a CA", func(c *Config) { c.ClusterInsecure, c.ClusterTLSCert, c.ClusterTLSKey = true, "", "" },
			[]string{"set one or the other"}},
		{"no TLS", func(c *Config) { c.ClusterTLSCert, c.ClusterTLSKey, c.ClusterTLSCa = "", "", "" }, []string{
			"INCIDENTBOT_CLUSTER_TLS_CERT, INCIDENTBOT_CLUSTER_TLS_KEY and INCIDENTBOT_CLUSTER_TLS_CA are not set", "tls.crt, tls.key and ca.crt", "INCIDENTBOT_CLUSTER_INSECURE=true in tests only"}},
		{"no CA", func(c *Config) { c.ClusterTLSCa = "" }, []string{"INCIDENTBOT_CLUSTER_TLS_CA is not set: in cluster mode"}},
		{"unreadable certificate", func(c *Config) { c.ClusterTLSCert = filepath.Join(t.TempDir(), "nope.crt") },
			[]string{"INCIDENTBOT_CLUSTER_TLS_CERT: cannot read the file", "nope.crt"}},
		{"certificate not PEM", func(c *Config) { writeOver(t, c.ClusterTLSCert, []byte("not a certificate")) },
			[]string{"INCIDENTBOT_CLUSTER_TLS_CERT (", "holds no PEM certificate", "tls.crt"}},
		{"key not PEM", func(c *Config) { writeOver(t, c.ClusterTLSKey, []byte("not a key")) },
			[]string{"INCIDENTBOT_CLUSTER_TLS_KEY (", "holds no PEM private key"}},
		{"key of another certificate", func(c *Config) {
			_, key := ca.Issue(t, clustertest.Options{CN: "x"})
			writeOver(t, c.ClusterTLSKey, key)
		}, []string{"INCIDENTBOT_CLUSTER_TLS_CERT (", "and INCIDENTBOT_CLUSTER_TLS_KEY (", "are not a certificate and its key"}},
		{"the key as the certificate", func(c *Config) { c.ClusterTLSCert = c.ClusterTLSKey }, []string{"INCIDENTBOT_CLUSTER_TLS_CERT (", "holds no PEM certificate"}},
		{"CA not PEM", func(c *Config) { writeOver(t, c.ClusterTLSCa, []byte("nope")) },
			[]string{"INCIDENTBOT_CLUSTER_TLS_CA (", "holds no PEM certificate", "ca.crt"}},
		{"certificate of another CA", func(c *Config) { writeOver(t, c.ClusterTLSCa, other.PEM) },
			[]string{"INCIDENTBOT_CLUSTER_TLS_CERT (", "is not one the other nodes accept from INCIDENTBOT_CLUSTER_TLS_CA (", "signed by that CA", "unknown authority"}},
		{"expired certificate", func(c *Config) { nodeTLS(t, c, ca, clustertest.Options{NotAfter: time.Now().Add(-time.Minute)}) },
			[]string{"INCIDENTBOT_CLUSTER_TLS_CERT (", "valid now", "expired"}},
		{"server auth only", func(c *Config) {
			nodeTLS(t, c, ca, clustertest.Options{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		},
			[]string{"INCIDENTBOT_CLUSTER_TLS_CERT (", "server auth, client auth", "key usage"}},
		// The directory.
		{"directory is the database", func(c *Config) { c.ClusterDir = c.DB },
			[]string{"INCIDENTBOT_CLUSTER_DIR is INCIDENTBOT_DB's file (/data/incidentbot.db)", "/data/incidentbot.db.raft"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clusterConfig(t, ca)
			tc.change(&c)
			key, _ := os.ReadFile(c.ClusterTLSKey)
			_, err := c.Validate(false)
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%s", w, err)
				}
			}
			if len(key) > 40 && strings.Contains(err.Error(), string(key[30:40])) {
				t.Errorf("the error repeats the key:\n%s", err)
			}
		})
	}
}

// TestValidateClusterReportsEverything: every cluster problem at once.
func TestValidateClusterReportsEverything(t *testing.T) {
	c := validConfig()
	c.ClusterNodeID, c.ClusterBind, c.ClusterPeers = "incidentbot-9", "nowhere", "a=h:1,b=h:1"
	_, err := c.Validate(false)
	if err == nil {
		t.Fatal("Validate accepted it")
	}
	for _, w := range []string{"INCIDENTBOT_CLUSTER_BIND must be", "a and b have the same address", "lists 2 voters",
		"incidentbot-9 is not one of", "INCIDENTBOT_CLUSTER_TLS_CERT, INCIDENTBOT_CLUSTER_TLS_KEY and INCIDENTBOT_CLUSTER_TLS_CA are not set"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%s", w, err)
		}
	}
}

// nodeTLS issues a node certificate from ca and points c's TLS variables
// at its files in a fresh directory.
func nodeTLS(t *testing.T, c *Config, ca *clustertest.CA, o clustertest.Options) {
	t.Helper()
	c.ClusterTLSCert, c.ClusterTLSKey, c.ClusterTLSCa = ca.Files(t, t.TempDir(), o)
}

func writeOver(t *testing.T, file string, b []byte) {
	t.Helper()
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
