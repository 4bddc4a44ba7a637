package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/incidentbot/incidentbot/internal/config"
	"github.com/incidentbot/incidentbot/internal/config/clustertest"
)

const clusterK8sDir = "kubernetes/cluster"

// clusterObjects is what kubernetes/cluster ships, read as the single-node
// tests read deploy/kubernetes (with the tokens Secret the two share, from
// deploy/kubernetes's example), plus what only a cluster has.
type clusterObjects struct {
	*k8sObjects
	name string // the StatefulSet's
	n    int    // its replicas
	set  struct {
		Spec struct {
			ServiceName string `yaml:"serviceName"`
			Template    struct {
				Spec struct {
					Affinity struct {
						PodAntiAffinity struct {
							Required  []affinityTerm `yaml:"requiredDuringSchedulingIgnoredDuringExecution"`
							Preferred []weightedTerm `yaml:"preferredDuringSchedulingIgnoredDuringExecution"`
						} `yaml:"podAntiAffinity"`
					} `yaml:"affinity"`
					Volumes []clusterVolume `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
}

type affinityTerm struct {
	TopologyKey   string `yaml:"topologyKey"`
	LabelSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"labelSelector"`
}

type weightedTerm struct {
	Weight int          `yaml:"weight"`
	Term   affinityTerm `yaml:"podAffinityTerm"`
}

type clusterVolume struct {
	volume `yaml:",inline"`
	Secret *struct {
		SecretName  string      `yaml:"secretName"`
		Items       []keyToPath `yaml:"items"`
		DefaultMode *int        `yaml:"defaultMode"`
	} `yaml:"secret"`
}

// parseK8sFile reads every document of a manifest file.
func parseK8sFile(t *testing.T, file string) []k8sDoc {
	t.Helper()
	var docs []k8sDoc
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, file)))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("%s does not parse: %v", file, err)
		}
		var obj struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if err := n.Decode(&obj); err != nil || obj.Kind == "" {
			t.Fatalf("%s: not a Kubernetes object: %v", file, err)
		}
		docs = append(docs, k8sDoc{filepath.Base(file), obj.Kind, obj.Metadata.Name, n})
	}
}

func loadCluster(t *testing.T) *clusterObjects {
	t.Helper()
	o := &clusterObjects{k8sObjects: &k8sObjects{configMaps: map[string]map[string]string{}, secrets: map[string]map[string]string{}}}
	files, _ := filepath.Glob(filepath.Join(clusterK8sDir, "*.yaml"))
	for _, f := range append(files, filepath.Join(k8sDir, "secret.example.yaml")) {
		for _, d := range parseK8sFile(t, f) {
			var data struct {
				Data       map[string]string `yaml:"data"`
				StringData map[string]string `yaml:"stringData"`
			}
			decode(t, d, &data)
			switch d.kind {
			case "StatefulSet":
				o.name = d.name
				decode(t, d, &o.ss)
				decode(t, d, &o.set)
			case "ConfigMap":
				o.configMaps[d.name] = data.Data
			case "Secret":
				o.secrets[d.name] = data.StringData
			}
			if strings.HasPrefix(f, clusterK8sDir) {
				o.docs = append(o.docs, d)
			}
		}
	}
	if cs := o.ss.Spec.Template.Spec.Containers; len(cs) != 1 {
		t.Fatalf("%s: want a StatefulSet with one container, found %d containers", clusterK8sDir, len(cs))
	}
	o.c = &o.ss.Spec.Template.Spec.Containers[0]
	if o.n = 1; o.ss.Spec.Replicas != nil {
		o.n = *o.ss.Spec.Replicas
	}
	return o
}

func decode(t *testing.T, d k8sDoc, v any) {
	t.Helper()
	if err := d.node.Decode(v); err != nil {
		t.Fatalf("%s: %s %s: %v", d.file, d.kind, d.name, err)
	}
}

// podEnv is pod's environment as the kubelet builds it: envFrom, then env,
// with the downward API's metadata.name resolved to the pod's name.
func (o *clusterObjects) podEnv(t *testing.T, pod string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range o.c.EnvFrom {
		if from.SecretRef == nil || o.secrets[from.SecretRef.Name] == nil {
			t.Fatalf("envFrom %+v: no such Secret (or example)", from)
		}
		maps.Copy(env, o.secrets[from.SecretRef.Name])
	}
	for _, e := range o.c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case fieldPath(e) == "metadata.name":
			env[e.Name] = pod
		default:
			t.Fatalf("env %s: valueFrom %v, which this test cannot resolve: teach it", e.Name, e.ValueFrom)
		}
	}
	return env
}

// fieldPath is an env var's valueFrom.fieldRef.fieldPath, or "".
func fieldPath(e envVar) string {
	from, _ := e.ValueFrom.(map[string]any)
	ref, _ := from["fieldRef"].(map[string]any)
	p, _ := ref["fieldPath"].(string)
	return p
}

// volumeAt is the volume mounted at dir, or nil.
func (o *clusterObjects) volumeAt(dir string) *clusterVolume {
	for _, m := range o.c.VolumeMounts {
		for i, v := range o.set.Spec.Template.Spec.Volumes {
			if m.MountPath == dir && v.Name == m.Name {
				return &o.set.Spec.Template.Spec.Volumes[i]
			}
		}
	}
	return nil
}

// layPod lays out the container's mounts under a fresh root: each claim an
// empty directory, each ConfigMap or Secret volume as the kubelet writes
// it, the Secrets' data from secrets.
func (o *clusterObjects) layPod(t *testing.T, secrets map[string]map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for _, m := range o.c.VolumeMounts {
		v, dir := o.volumeAt(m.MountPath), filepath.Join(root, m.MountPath)
		switch {
		case slices.ContainsFunc(o.ss.Spec.VolumeClaimTemplates, func(c claim) bool { return c.Metadata.Name == m.Name }):
			mkdirs(t, root, m.MountPath)
		case v != nil && v.ConfigMap != nil:
			mountConfigMap(t, dir, o.configMaps[v.ConfigMap.Name], v.ConfigMap.Items)
		case v != nil && v.Secret != nil && secrets[v.Secret.SecretName] != nil:
			mountConfigMap(t, dir, secrets[v.Secret.SecretName], v.Secret.Items) // the same atomic writer
		default:
			t.Fatalf("volume %s: a kind of volume (or a Secret) this test does not lay out: teach it", m.Name)
		}
	}
	return root
}

// TestKubernetesClusterStarts: every pod of the cluster's StatefulSet, its
// node id from the downward API, the tokens from their example Secret,
// throwaway certificates in the TLS Secret and the ConfigMap mounted as the
// kubelet mounts them, passes what the bot runs at start and `incidentbot
// check`, in cluster mode with TLS; the TLS example's placeholders do not.
func TestKubernetesClusterStarts(t *testing.T) {
	o := loadCluster(t)
	certs := map[string]map[string]string{"incidentbot-cluster-tls": clustertest.NewCA(t, "incidentbot cluster CA").Secret(t, clustertest.Options{})}
	for i := range o.n {
		pod := fmt.Sprintf("%s-%d", o.name, i)
		t.Run(pod, func(t *testing.T) {
			root := o.layPod(t, certs)
			cfg := startup(t, "kubernetes/cluster/statefulset.yaml, pod "+pod, rooted(o.podEnv(t, pod), root))
			if !cfg.ClusterEnabled() || cfg.ClusterNodeID != pod || cfg.ClusterInsecure {
				t.Fatalf("node id %q, insecure %v; want cluster mode with TLS as node %s", cfg.ClusterNodeID, cfg.ClusterInsecure, pod)
			}
			if !under(filepath.ToSlash(cfg.ClusterDir), filepath.ToSlash(filepath.Join(root, o.claimMount()))) {
				t.Errorf("the Raft directory %s is not on the volume claim: the log would be lost with the pod", cfg.ClusterDir)
			}
			if peers, err := cfg.ClusterPeerList(); err != nil || len(peers) != o.n {
				t.Errorf("peers %v, %v; want the %d replicas", peers, err, o.n)
			}
			if tc, err := cfg.ClusterTLS(); err != nil || tc == nil {
				t.Errorf("ClusterTLS() = %v, %v", tc, err)
			}
		})
	}
	placeholders := map[string]map[string]string{"incidentbot-cluster-tls": o.secrets["incidentbot-cluster-tls"]}
	_, problems := boot(t, rooted(o.podEnv(t, o.name+"-1"), o.layPod(t, placeholders)))
	if got := strings.Join(problems, "\n"); !strings.Contains(got, "INCIDENTBOT_CLUSTER_TLS_") {
		t.Errorf("with secret.example.yaml's placeholders: %q, want the TLS files refused", got)
	}
}

// claimMount is where the (one) volume claim is mounted.
func (o *clusterObjects) claimMount() string {
	if len(o.ss.Spec.VolumeClaimTemplates) != 1 {
		return ""
	}
	return o.mountPath(o.ss.Spec.VolumeClaimTemplates[0].Metadata.Name)
}

// selects reports whether a (non-empty) selector picks pods with labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// TestKubernetesCluster checks what the start cannot: a quorum that can
// form and survive a drain, peers that are the pods, TLS from the Secret,
// nodes spread over machines and zones, and what is applied.
func TestKubernetesCluster(t *testing.T) {
	o := loadCluster(t)
	labels, n := o.ss.Spec.Template.Metadata.Labels, o.n
	env := o.podEnv(t, o.name+"-0")
	const file = "kubernetes/cluster/statefulset.yaml"
	if n != 3 || o.ss.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("%s: %d replicas, podManagementPolicy %q; want 3, Parallel (with OrderedReady no quorum forms)", file, n, o.ss.Spec.PodManagementPolicy)
	}

	// The node id is the pod's name; the peers are the pods, under the
	// headless Service, at the bind port.
	if i := slices.IndexFunc(o.c.Env, func(e envVar) bool { return e.Name == "INCIDENTBOT_CLUSTER_NODE_ID" }); i < 0 || fieldPath(o.c.Env[i]) != "metadata.name" {
		t.Errorf("%s: INCIDENTBOT_CLUSTER_NODE_ID must come from the downward API's metadata.name", file)
	}
	_, bindPort, err := net.SplitHostPort(env["INCIDENTBOT_CLUSTER_BIND"])
	if err != nil {
		t.Fatalf("%s: INCIDENTBOT_CLUSTER_BIND %q: %v", file, env["INCIDENTBOT_CLUSTER_BIND"], err)
	}
	peers, err := config.Config{ClusterPeers: env["INCIDENTBOT_CLUSTER_PEERS"]}.ClusterPeerList()
	if err != nil || len(peers) != n {
		t.Errorf("%s: INCIDENTBOT_CLUSTER_PEERS lists %d peers (%v); want the %d replicas", file, len(peers), err, n)
	}
	for i, p := range peers {
		want := config.Peer{ID: fmt.Sprintf("%s-%d", o.name, i), Addr: fmt.Sprintf("%s-%d.%s:%s", o.name, i, o.set.Spec.ServiceName, bindPort)}
		if p != want {
			t.Errorf("%s: peer %d is %s=%s, want %s=%s (the pod's name, under serviceName, the bind port)", file, i, p.ID, p.Addr, want.ID, want.Addr)
		}
	}

	// TLS: each file is the Secret's key at the path the variable names.
	var tlsSecret string
	for variable, key := range map[string]string{"INCIDENTBOT_CLUSTER_TLS_CERT": "tls.crt", "INCIDENTBOT_CLUSTER_TLS_KEY": "tls.key", "INCIDENTBOT_CLUSTER_TLS_CA": "ca.crt"} {
		v := o.volumeAt(path.Dir(env[variable]))
		if v == nil || v.Secret == nil || len(v.Secret.Items) > 0 || path.Base(env[variable]) != key {
			t.Errorf("%s: %s=%q is not the key %s of a Secret volume mounted at its directory", file, variable, env[variable], key)
			continue
		}
		tlsSecret = v.Secret.SecretName
		if _, ok := o.secrets[tlsSecret][key]; !ok {
			t.Errorf("secret.example.yaml: Secret %s has no %s", tlsSecret, key)
		}
		if m := v.Secret.DefaultMode; m == nil || *m != 0o440 {
			t.Errorf("%s: the TLS volume's defaultMode is not 0440: the key must be readable by the bot's group alone", file)
		}
	}
	if tlsSecret != "incidentbot-cluster-tls" || env["INCIDENTBOT_CLUSTER_INSECURE"] != "" {
		t.Errorf("%s: TLS from Secret %q, INSECURE %q; want incidentbot-cluster-tls, and never INSECURE", file, tlsSecret, env["INCIDENTBOT_CLUSTER_INSECURE"])
	}

	// Spread: never two nodes on one machine, preferably one per zone.
	aa := o.set.Spec.Template.Spec.Affinity.PodAntiAffinity
	if !slices.ContainsFunc(aa.Required, func(a affinityTerm) bool {
		return a.TopologyKey == "kubernetes.io/hostname" && selects(a.LabelSelector.MatchLabels, labels)
	}) {
		t.Errorf("%s: no required pod anti-affinity on kubernetes.io/hostname selecting the pods", file)
	}
	if !slices.ContainsFunc(aa.Preferred, func(w weightedTerm) bool {
		return w.Weight > 0 && w.Term.TopologyKey == "topology.kubernetes.io/zone" && selects(w.Term.LabelSelector.MatchLabels, labels)
	}) {
		t.Errorf("%s: no preferred pod anti-affinity on topology.kubernetes.io/zone selecting the pods", file)
	}

	// As the single node: the database on the claim, the probes, the
	// security contexts, the tokens and the ConfigMap.
	if !under(env["INCIDENTBOT_DB"], o.claimMount()) {
		t.Errorf("%s: INCIDENTBOT_DB %q is not on the volume claim's mount", file, env["INCIDENTBOT_DB"])
	}
	_, httpPort, _ := net.SplitHostPort(env["INCIDENTBOT_HTTP_ADDR"])
	for name, p := range map[string]*probe{"/healthz": o.c.LivenessProbe, "/readyz": o.c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || httpPort == "" || portString(p.HTTPGet.Port) != httpPort {
			t.Errorf("%s: want a probe GET %s on port %s, have %+v", file, name, httpPort, p)
		}
	}
	shared := func(d k8sDoc) []any {
		var ss struct {
			Spec struct{ Template struct{ Spec map[string]any } }
		}
		decode(t, d, &ss)
		pod := ss.Spec.Template.Spec
		c, _ := pod["containers"].([]any)[0].(map[string]any)
		return []any{pod["securityContext"], pod["automountServiceAccountToken"], c["securityContext"], c["envFrom"]}
	}
	single := shared(parseK8sFile(t, filepath.Join(k8sDir, "statefulset.yaml"))[0])
	cluster := shared(o.docs[slices.IndexFunc(o.docs, func(d k8sDoc) bool { return d.kind == "StatefulSet" })])
	if !reflect.DeepEqual(single, cluster) || single[0] == nil {
		t.Errorf("%s: security contexts, service account token or envFrom %+v; want the single node's %+v", file, cluster, single)
	}
	if !bytes.Equal(readFile(t, filepath.Join(clusterK8sDir, "configmap.yaml")), readFile(t, filepath.Join(k8sDir, "configmap.yaml"))) {
		t.Errorf("%s/configmap.yaml is not a copy of %s/configmap.yaml: copy it again", clusterK8sDir, k8sDir)
	}

	listed, found := map[string]bool{}, map[string]bool{}
	for _, d := range o.docs {
		found[d.kind+"/"+d.name] = true
		switch d.kind {
		case "Kustomization":
			var k struct{ Resources []string }
			decode(t, d, &k)
			for _, r := range k.Resources {
				listed[r] = true
				readFile(t, filepath.Join(clusterK8sDir, r))
			}
		case "Service":
			checkClusterService(t, d, o, bindPort, env)
		case "PodDisruptionBudget":
			var pdb struct {
				Spec struct {
					MinAvailable   any `yaml:"minAvailable"`
					MaxUnavailable any `yaml:"maxUnavailable"`
					Selector       struct {
						MatchLabels map[string]string `yaml:"matchLabels"`
					} `yaml:"selector"`
				} `yaml:"spec"`
			}
			decode(t, d, &pdb)
			if pdb.Spec.MinAvailable != n/2+1 || pdb.Spec.MaxUnavailable != nil || !selects(pdb.Spec.Selector.MatchLabels, labels) {
				t.Errorf("%s: minAvailable %v, maxUnavailable %v, selector %v; want minAvailable %d (a majority) selecting the pods",
					d.file, pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable, pdb.Spec.Selector.MatchLabels, n/2+1)
			}
		case "Certificate":
			checkCertificate(t, d, tlsSecret, peers)
		case "Ingress":
			t.Errorf("%s: an Ingress; nothing of incidentbot's may be public", d.file)
		}
	}
	for _, want := range []string{"StatefulSet/" + o.name, "Service/" + o.set.Spec.ServiceName, "Service/incidentbot-alerts", "PodDisruptionBudget/incidentbot",
		"ConfigMap/incidentbot-config", "Secret/incidentbot-cluster-tls", "Certificate/incidentbot-cluster-tls"} {
		if !found[want] {
			t.Errorf("%s: no %s", clusterK8sDir, want)
		}
	}
	for _, d := range o.docs {
		if example := strings.Contains(d.file, "example"); d.kind != "Kustomization" && example == listed[d.file] {
			t.Errorf("kustomization.yaml: %s is listed %v; want every file but the examples applied", d.file, listed[d.file])
		}
	}
}

// checkClusterService checks the headless peers Service (the StatefulSet's
// serviceName), and the alert receiver's as the single node's.
func checkClusterService(t *testing.T, d k8sDoc, o *clusterObjects, bindPort string, env map[string]string) {
	t.Helper()
	var svc struct {
		Spec struct {
			Type                     string            `yaml:"type"`
			ClusterIP                string            `yaml:"clusterIP"`
			PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
			Selector                 map[string]string `yaml:"selector"`
			Ports                    []struct {
				Port       int `yaml:"port"`
				TargetPort any `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	decode(t, d, &svc)
	switch d.name {
	case o.set.Spec.ServiceName:
		if svc.Spec.ClusterIP != "None" || !svc.Spec.PublishNotReadyAddresses || !selects(svc.Spec.Selector, o.ss.Spec.Template.Metadata.Labels) {
			t.Errorf("%s: clusterIP %q, publishNotReadyAddresses %v, selector %v; want a headless Service selecting the pods, ready or not (none is before a quorum forms)",
				d.file, svc.Spec.ClusterIP, svc.Spec.PublishNotReadyAddresses, svc.Spec.Selector)
		}
		if len(svc.Spec.Ports) != 1 || strconv.Itoa(svc.Spec.Ports[0].Port) != bindPort || o.containerPort(portString(svc.Spec.Ports[0].TargetPort)) != bindPort {
			t.Errorf("%s: ports %+v; want one, port and target the bind port %s", d.file, svc.Spec.Ports, bindPort)
		}
	case "incidentbot-alerts":
		checkAlertService(t, d, o.k8sObjects, env)
		if svc.Spec.Type != "ClusterIP" {
			t.Errorf("%s: type %q, want ClusterIP", d.file, svc.Spec.Type)
		}
	default:
		t.Errorf("%s: Service %s; want only %s and incidentbot-alerts", d.file, d.name, o.set.Spec.ServiceName)
	}
}

// containerPort is the number of the container port named or numbered p.
func (o *clusterObjects) containerPort(p string) string {
	for _, cp := range o.c.Ports {
		if cp.Name == p || strconv.Itoa(cp.ContainerPort) == p {
			return strconv.Itoa(cp.ContainerPort)
		}
	}
	return ""
}

// checkCertificate checks that cert-manager's example issues the TLS Secret
// for server and client auth, naming every peer.
func checkCertificate(t *testing.T, d k8sDoc, secret string, peers []config.Peer) {
	t.Helper()
	var c struct {
		Spec struct {
			SecretName string   `yaml:"secretName"`
			DNSNames   []string `yaml:"dnsNames"`
			Usages     []string `yaml:"usages"`
		} `yaml:"spec"`
	}
	if decode(t, d, &c); d.name != secret {
		return // the CA's
	}
	if c.Spec.SecretName != secret || !slices.Contains(c.Spec.Usages, "server auth") || !slices.Contains(c.Spec.Usages, "client auth") {
		t.Errorf("%s: Certificate %s issues Secret %q with usages %q; want %s, server auth and client auth (every node is both)", d.file, d.name, c.Spec.SecretName, c.Spec.Usages, secret)
	}
	for _, p := range peers {
		if host, _, _ := net.SplitHostPort(p.Addr); !slices.Contains(c.Spec.DNSNames, host) {
			t.Errorf("%s: dnsNames %q lack peer %s", d.file, c.Spec.DNSNames, host)
		}
	}
}
