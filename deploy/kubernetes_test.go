package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/incidentbot/incidentbot/incident"
)

const k8sDir = "kubernetes"

type k8sDoc struct {
	file, kind, name string
	node             yaml.Node
}

type statefulSet struct {
	Spec struct {
		Replicas            *int   `yaml:"replicas"`
		PodManagementPolicy string `yaml:"podManagementPolicy"`
		Template            struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
					RunAsUser    *int  `yaml:"runAsUser"`
					FSGroup      *int  `yaml:"fsGroup"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []volume    `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []claim `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type claim struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom any    `yaml:"valueFrom"`
}

type container struct {
	Args    []string `yaml:"args"`
	Env     []envVar `yaml:"env"`
	EnvFrom []struct {
		SecretRef    *struct{ Name string } `yaml:"secretRef"`
		ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name  string      `yaml:"name"`
		Items []keyToPath `yaml:"items"`
	} `yaml:"configMap"`
}

type keyToPath struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
}

// k8sObjects is what the directory ships: the StatefulSet, the ConfigMaps'
// and Secrets' data by name (the Secret from its example), and all documents.
type k8sObjects struct {
	docs       []k8sDoc
	ss         statefulSet
	c          *container
	configMaps map[string]map[string]string
	secrets    map[string]map[string]string
}

func loadK8s(t *testing.T) *k8sObjects {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	o := &k8sObjects{configMaps: map[string]map[string]string{}, secrets: map[string]map[string]string{}}
	for _, f := range files {
		dec := yaml.NewDecoder(bytes.NewReader(readFile(t, f)))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s does not parse: %v", f, err)
			}
			var obj struct {
				Kind     string
				Metadata struct{ Name string }
				Data     map[string]string
				// A Secret's stringData; the example has no base64 data.
				StringData map[string]string `yaml:"stringData"`
			}
			if err := n.Decode(&obj); err != nil || obj.Kind == "" {
				t.Fatalf("%s: not a Kubernetes object: %v", f, err)
			}
			o.docs = append(o.docs, k8sDoc{filepath.Base(f), obj.Kind, obj.Metadata.Name, n})
			switch obj.Kind {
			case "StatefulSet":
				if err := n.Decode(&o.ss); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
			case "ConfigMap":
				o.configMaps[obj.Metadata.Name] = obj.Data
			case "Secret":
				o.secrets[obj.Metadata.Name] = obj.StringData
			}
		}
	}
	if cs := o.ss.Spec.Template.Spec.Containers; len(cs) != 1 {
		t.Fatalf("%s: want one StatefulSet with one container, found %d containers", k8sDir, len(cs))
	}
	o.c = &o.ss.Spec.Template.Spec.Containers[0]
	return o
}

// env is the container's environment as the kubelet builds it: every
// envFrom source in order, then env, which wins.
func (o *k8sObjects) env(t *testing.T) map[string]string {
	env := map[string]string{}
	for _, from := range o.c.EnvFrom {
		var data map[string]string
		var ok bool
		switch {
		case from.SecretRef != nil:
			data, ok = o.secrets[from.SecretRef.Name]
		case from.ConfigMapRef != nil:
			data, ok = o.configMaps[from.ConfigMapRef.Name]
		}
		if !ok {
			t.Fatalf("envFrom %+v: no such Secret or ConfigMap in %s (or its example)", from, k8sDir)
		}
		maps.Copy(env, data)
	}
	for _, e := range o.c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("env %s uses valueFrom, which this test cannot resolve: teach it", e.Name)
		}
		env[e.Name] = e.Value
	}
	return env
}

// mountPath is where the container mounts a volume ("" if it does not).
func (o *k8sObjects) mountPath(volume string) string {
	for _, m := range o.c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// lay lays out the container's mounts under a fresh root: each claim an
// empty directory, each ConfigMap volume as the kubelet writes it.
func (o *k8sObjects) lay(t *testing.T) string {
	root := t.TempDir()
	for _, m := range o.c.VolumeMounts {
		i := slices.IndexFunc(o.ss.Spec.Template.Spec.Volumes, func(v volume) bool { return v.Name == m.Name })
		switch {
		case slices.ContainsFunc(o.ss.Spec.VolumeClaimTemplates, func(c claim) bool { return c.Metadata.Name == m.Name }):
			mkdirs(t, root, m.MountPath)
		case i >= 0 && o.ss.Spec.Template.Spec.Volumes[i].ConfigMap != nil:
			cm := o.ss.Spec.Template.Spec.Volumes[i].ConfigMap
			data, ok := o.configMaps[cm.Name]
			if !ok {
				t.Fatalf("volume %s: no ConfigMap %s", m.Name, cm.Name)
			}
			mountConfigMap(t, filepath.Join(root, m.MountPath), data, cm.Items)
		default:
			t.Fatalf("volume %s: a kind of volume this test does not lay out: teach it", m.Name)
		}
	}
	return root
}

// mountConfigMap writes a ConfigMap volume into dir as the kubelet's atomic
// writer does: the files in a timestamped directory, ..data a symlink to it,
// and each top-level name a symlink through ..data. With items, only those
// keys are written, each at its path; a missing key fails the pod.
func mountConfigMap(t *testing.T, dir string, data map[string]string, items []keyToPath) {
	payload := maps.Clone(data)
	if len(items) > 0 {
		payload = map[string]string{}
		for _, it := range items {
			v, ok := data[it.Key]
			if !ok {
				t.Fatalf("configMap items: no key %s; the pod would not start", it.Key)
			}
			payload[it.Path] = v
		}
	}
	const stamp = "..2026_01_02_15_04_05.123456789"
	top := map[string]bool{}
	for p, v := range payload {
		file := filepath.Join(dir, stamp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
		top[strings.Split(p, "/")[0]] = true
	}
	if err := os.Symlink(stamp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range top {
		if err := os.Symlink(path.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKubernetesStarts: the StatefulSet's environment, with the Secret's
// keys from its example and the ConfigMap mounted as the kubelet mounts it,
// passes what the bot runs at start and `incidentbot check`.
func TestKubernetesStarts(t *testing.T) {
	o := loadK8s(t)
	root := o.lay(t)
	startup(t, "kubernetes/statefulset.yaml", rooted(o.env(t), root))
}

// TestKubernetesTemplateOverride follows configmap.yaml's recipe for a
// template override: the bot starts with it and uses it. Setting the
// directory without mapping a template there stops the bot, as the
// manifests warn.
func TestKubernetesTemplateOverride(t *testing.T) {
	o := loadK8s(t)
	vol := &o.ss.Spec.Template.Spec.Volumes[slices.IndexFunc(o.ss.Spec.Template.Spec.Volumes, func(v volume) bool { return v.ConfigMap != nil })]
	o.c.Env = append(o.c.Env, envVar{Name: "INCIDENTBOT_TEMPLATES_DIR", Value: path.Join(o.mountPath(vol.Name), "templates")})
	if _, problems := boot(t, rooted(o.env(t), o.lay(t))); !strings.Contains(strings.Join(problems, "\n"), "INCIDENTBOT_TEMPLATES_DIR must be an existing directory") {
		t.Errorf("INCIDENTBOT_TEMPLATES_DIR without the templates mapped: %q, want the bot to refuse", problems)
	}

	o.configMaps[vol.ConfigMap.Name]["postmortem.md.tmpl"] = "OVERRIDDEN {{.Ref}}\n"
	vol.ConfigMap.Items = []keyToPath{{"escalation.yaml", "escalation.yaml"}, {"postmortem.md.tmpl", "templates/postmortem.md.tmpl"}}
	cfg := startup(t, "kubernetes/statefulset.yaml with a template override", rooted(o.env(t), o.lay(t)))
	if tmpl, err := incident.LoadTemplates(cfg.TemplatesDir); err != nil || !slices.Equal(tmpl.Overridden, []string{"postmortem.md.tmpl"}) {
		t.Errorf("templates from %s: %v, %v; want postmortem.md.tmpl overridden", cfg.TemplatesDir, tmpl, err)
	}
}

// TestKubernetes checks what the start cannot: one pod at a time, the
// database on the claim, probes that reach the bot, and what is applied.
func TestKubernetes(t *testing.T) {
	o := loadK8s(t)
	spec := &o.ss.Spec
	pod := &spec.Template.Spec
	deref := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	for _, ch := range []struct {
		what      string
		got, want any
	}{
		// bbolt holds an exclusive lock: never two pods on one volume.
		{"spec.replicas", deref(spec.Replicas), 1},
		{"spec.podManagementPolicy", spec.PodManagementPolicy, "OrderedReady"},
		{"securityContext.runAsNonRoot", pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot, true},
		// The image's nonroot user; fsGroup makes the claim writable to it.
		{"securityContext.runAsUser", deref(pod.SecurityContext.RunAsUser), 65532},
		{"securityContext.fsGroup", deref(pod.SecurityContext.FSGroup), 65532},
		{"container args", strings.Join(o.c.Args, " "), "run"},
	} {
		if ch.got != ch.want {
			t.Errorf("statefulset.yaml: %s is %v, want %v", ch.what, ch.got, ch.want)
		}
	}

	env := o.env(t)
	if len(spec.VolumeClaimTemplates) != 1 || !under(env["INCIDENTBOT_DB"], o.mountPath(spec.VolumeClaimTemplates[0].Metadata.Name)) {
		t.Errorf("statefulset.yaml: INCIDENTBOT_DB %q is not on the volume claim's mount; the database would be lost with the pod", env["INCIDENTBOT_DB"])
	}
	host, port, err := net.SplitHostPort(env["INCIDENTBOT_HTTP_ADDR"])
	if err != nil || host == "127.0.0.1" || host == "localhost" || host == "::1" {
		t.Errorf("statefulset.yaml: INCIDENTBOT_HTTP_ADDR is %q; the kubelet's probes need e.g. 0.0.0.0:8080", env["INCIDENTBOT_HTTP_ADDR"])
	}
	for name, p := range map[string]*probe{"/healthz": o.c.LivenessProbe, "/readyz": o.c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || portString(p.HTTPGet.Port) != port {
			t.Errorf("statefulset.yaml: want a probe GET %s on port %s, have %+v", name, port, p)
		}
	}

	listed := map[string]bool{}
	for _, d := range o.docs {
		if d.kind != "Kustomization" {
			continue
		}
		var k struct{ Resources []string }
		if err := d.node.Decode(&k); err != nil {
			t.Fatal(err)
		}
		for _, r := range k.Resources {
			listed[r] = true
		}
	}
	for _, d := range o.docs {
		switch example := strings.Contains(d.file, "example"); {
		case d.kind == "Ingress":
			t.Errorf("%s: %s: Socket Mode dials out, and the alert receiver is for the cluster only; remove it", d.file, d.kind)
		case d.kind == "Service":
			checkAlertService(t, d, o, env)
		case d.kind != "Kustomization" && example == listed[d.file]:
			t.Errorf("kustomization.yaml: %s is listed %v; want every file but the examples (placeholders) applied", d.file, listed[d.file])
		}
	}
	for _, r := range slices.Sorted(maps.Keys(listed)) {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
	checkPlaceholderTokens(t, "kubernetes/secret.example.yaml", o.secrets["incidentbot-tokens"])
}

// portString renders a probe port, which YAML gives as a number or a name.
func portString(v any) string {
	if n, ok := v.(int); ok {
		return strconv.Itoa(n)
	}
	s, _ := v.(string)
	return s
}

// checkAlertService checks the one Service there may be: the alert
// receiver's, inside the cluster (ClusterIP), on the port
// INCIDENTBOT_ALERTS_ADDR listens on. Slack itself needs none.
func checkAlertService(t *testing.T, d k8sDoc, o *k8sObjects, env map[string]string) {
	t.Helper()
	var svc struct {
		Spec struct {
			Type     string            `yaml:"type"`
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	if err := d.node.Decode(&svc); err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(env["INCIDENTBOT_ALERTS_ADDR"])
	if err != nil {
		t.Errorf("%s: a Service, but INCIDENTBOT_ALERTS_ADDR is %q: nothing listens for it", d.file, env["INCIDENTBOT_ALERTS_ADDR"])
		return
	}
	if svc.Spec.Type != "" && svc.Spec.Type != "ClusterIP" {
		t.Errorf("%s: type %s; the alert receiver must stay inside the cluster (ClusterIP)", d.file, svc.Spec.Type)
	}
	for k, v := range svc.Spec.Selector {
		if o.ss.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("%s: selector %s=%s does not select the StatefulSet's pods", d.file, k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("%s: %d ports; want only the alert receiver's", d.file, len(svc.Spec.Ports))
	}
	target := svc.Spec.Ports[0].TargetPort
	found := false
	for _, p := range o.c.Ports {
		if (p.Name == target || strconv.Itoa(p.ContainerPort) == target) && strconv.Itoa(p.ContainerPort) == port {
			found = true
		}
	}
	if !found {
		t.Errorf("%s: targetPort %s is not the container port %s that INCIDENTBOT_ALERTS_ADDR listens on", d.file, target, port)
	}
}
