package main

// The real Prometheus Alertmanager as a test component: built from its Go
// module at a pinned release, so the alert receiver is tested against what
// Alertmanager really sends, not against our reading of its docs.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// alertmanagerVersion is the release tested against. Changing it rebuilds
// the binary (the cache is keyed by it).
const alertmanagerVersion = "v0.35.0"

const alertmanagerModule = "github.com/prometheus/alertmanager"

var amBuild struct {
	once sync.Once
	path string // the binary, when built
	skip string // why it cannot be built here (no go tool, no module proxy)
	fail string // why the build failed although it could run: a real failure
}

// alertmanagerBinary returns the path of an Alertmanager binary of
// alertmanagerVersion. It is built once per test process and kept in the
// user's cache directory, so later runs reuse it. The test is skipped only
// when the build is impossible here (no go tool, the module or its
// dependencies cannot be downloaded); a build that runs and fails fails it.
func alertmanagerBinary(t testing.TB) string {
	t.Helper()
	amBuild.once.Do(func() { amBuild.path, amBuild.skip, amBuild.fail = buildAlertmanager() })
	switch {
	case amBuild.skip != "":
		t.Skipf("the real Alertmanager %s cannot be built here: %s", alertmanagerVersion, amBuild.skip)
	case amBuild.fail != "":
		t.Fatalf("building the real Alertmanager %s: %s", alertmanagerVersion, amBuild.fail)
	}
	return amBuild.path
}

// buildAlertmanager returns the cached binary, or builds it: the module zip
// lacks the built web UI that ui/web.go embeds, so the module is copied to a
// writable directory, placeholder UI files are added, and it is built there.
func buildAlertmanager() (path, skip, fail string) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "incidentbot-test")
	path = filepath.Join(dir, "alertmanager-"+alertmanagerVersion)
	if out, err := exec.Command(path, "--version").CombinedOutput(); err == nil && strings.Contains(string(out), "version "+strings.TrimPrefix(alertmanagerVersion, "v")+" ") {
		return path, "", ""
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(gotool); err != nil {
			return "", "step 1, find the go tool: not on PATH nor in GOROOT/bin", ""
		}
	}
	// -mod=mod: the module's go.sum is used as it is but may be completed;
	// no VCS stamping, as the copy is not a checkout.
	env := append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off")
	run := func(dir string, args ...string) ([]byte, error) {
		cmd := exec.Command(gotool, args...)
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil { // -json reports a failed download on stdout
			return append(out, stderr.Bytes()...), err
		}
		return out, nil
	}
	mod := alertmanagerModule + "@" + alertmanagerVersion
	out, err := run("", "mod", "download", "-json", mod)
	var info struct{ Dir, Error string }
	if err != nil {
		if json.Unmarshal(out, &info) == nil && info.Error != "" {
			out = []byte(info.Error) // the reason, without the JSON around it
		}
		return "", fmt.Sprintf("step 2, go mod download -json %s, failed (%v): %s", mod, err, lastLines(out, 5)), ""
	}
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", "", fmt.Sprintf("go mod download -json %s: no Dir in %s", mod, lastLines(out, 5))
	}
	work, err := os.MkdirTemp("", "alertmanager-build-")
	if err != nil {
		return "", "", err.Error()
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	if err := os.CopyFS(src, os.DirFS(info.Dir)); err != nil { // the copy is writable: CopyFS creates 0666 files
		return "", "", fmt.Sprintf("copy %s: %v", info.Dir, err)
	}
	for _, ui := range []string{"elm", "mantine"} {
		p := filepath.Join(src, "ui", "app", "dist", ui, "index.html")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", "", err.Error()
		}
		if err := os.WriteFile(p, []byte("<!doctype html><title>Alertmanager (no UI in tests)</title>\n"), 0o644); err != nil {
			return "", "", err.Error()
		}
	}
	// The dependencies are downloaded first, on their own, so that a
	// network failure is told apart from a build that fails.
	if out, err := run(src, "mod", "download"); err != nil {
		return "", fmt.Sprintf("step 3, go mod download in the module's copy, failed (%v): %s", err, lastLines(out, 5)), ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err.Error()
	}
	// Built beside the cache entry and renamed into place, so another test
	// process never runs a half-written binary.
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	defer os.Remove(tmp)
	// The version is stamped as Alertmanager's release builds do, so that
	// --version tells a cached binary of this release from an older one.
	ldflags := "-ldflags=-X github.com/prometheus/common/version.Version=" + strings.TrimPrefix(alertmanagerVersion, "v")
	if out, err := run(src, "build", ldflags, "-o", tmp, "./cmd/alertmanager"); err != nil {
		return "", "", fmt.Sprintf("go build ./cmd/alertmanager failed (%v): %s", err, lastLines(out, 10))
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", "", err.Error()
	}
	return path, "", ""
}

// lastLines returns the last n lines of a command's output, for a message.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// alertmanagerProc is a running Alertmanager, killed when its test ends.
type alertmanagerProc struct {
	url string
	out *lockedBuffer // its log, shown when the test fails
}

// URL returns the base URL of its API, e.g. http://127.0.0.1:40123.
func (am *alertmanagerProc) URL() string { return am.url }

// startAlertmanager runs Alertmanager with one route to one webhook
// receiver at webhookURL, which it calls with the bearer token. Groups (by
// alertname) are sent 1s after their first alert and 1s after a change, so
// tests wait seconds, not minutes; resolutions are sent too.
func startAlertmanager(t *testing.T, webhookURL, token string) *alertmanagerProc {
	t.Helper()
	bin := alertmanagerBinary(t)
	dir := t.TempDir()
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // a JSON string is a YAML string
	config := `route:
  receiver: incidentbot
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: incidentbot
    webhook_configs:
      - url: ` + q(webhookURL) + `
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ` + q(token) + "\n"
	configFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t) // http_test.go
	cmd := exec.Command(bin, "--config.file="+configFile, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=") // no gossip: no peers, no port
	am := &alertmanagerProc{url: "http://" + addr, out: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = am.out, am.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Alertmanager: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("Alertmanager's log:\n%s", am.out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(am.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am
			}
		}
		select {
		case <-exited:
			t.Fatalf("Alertmanager exited before it was ready:\n%s", am.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager not ready at %s after 30s (last: %v):\n%s", am.url, err, am.out)
		}
	}
}

// alertmanagerAlert is one alert as Prometheus posts it to Alertmanager.
// A zero EndsAt is left out (Alertmanager then resolves it after its
// resolve_timeout); an EndsAt in the past resolves it.
type alertmanagerAlert struct {
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// Post sends alerts to Alertmanager's API (POST /api/v2/alerts).
func (am *alertmanagerProc) Post(t *testing.T, alerts ...alertmanagerAlert) {
	t.Helper()
	type wire struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations,omitempty"`
		StartsAt     string            `json:"startsAt,omitempty"`
		EndsAt       string            `json:"endsAt,omitempty"`
		GeneratorURL string            `json:"generatorURL,omitempty"`
	}
	stamp := func(at time.Time) string {
		if at.IsZero() {
			return ""
		}
		return at.UTC().Format(time.RFC3339Nano)
	}
	var list []wire
	for _, a := range alerts {
		list = append(list, wire{a.Labels, a.Annotations, stamp(a.StartsAt), stamp(a.EndsAt), a.GeneratorURL})
	}
	body, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post alerts to Alertmanager: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		t.Fatalf("post alerts to Alertmanager: %s: %s", resp.Status, msg)
	}
}

// lockedBuffer is a bytes.Buffer safe for a process's output and a test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// webhookCall is one request Alertmanager made to the webhook.
type webhookCall struct {
	auth string
	body []byte
}

// TestRealAlertmanagerWebhookDecodes: what the real Alertmanager sends, a
// firing notification and then its resolution, carries the bearer token and
// decodes with incident.DecodeAlertmanager.
func TestRealAlertmanagerWebhookDecodes(t *testing.T) {
	calls := make(chan webhookCall, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case calls <- webhookCall{r.Header.Get("Authorization"), body}:
		default: // the test stopped reading
		}
	}))
	t.Cleanup(hook.Close)
	const token = "am-test-0123456789abcdef0123456789abcdef"
	am := startAlertmanager(t, hook.URL+"/alerts/alertmanager", token)

	alert := alertmanagerAlert{
		Labels:       map[string]string{"alertname": "CheckoutDown", "team": "platform", "severity": "critical"},
		Annotations:  map[string]string{"summary": "Checkout is down", "description": "5xx above 50% for 5m"},
		StartsAt:     time.Now().Add(-time.Minute).Truncate(time.Second),
		GeneratorURL: "http://prometheus.example.com/graph?g0.expr=up",
	}
	am.Post(t, alert)
	firing := nextGroup(t, calls, token, incident.AlertFiring)
	if firing.Source != incident.SourceAlertmanager || strings.TrimSpace(firing.Key) == "" || len(firing.Alerts) != 1 {
		t.Fatalf("firing group: %+v", firing)
	}
	a := firing.Alerts[0]
	if a.Status != incident.AlertFiring || !reflect.DeepEqual(a.Labels, alert.Labels) || !reflect.DeepEqual(a.Annotations, alert.Annotations) ||
		a.Summary != "Checkout is down" || a.Description != "5xx above 50% for 5m" || !a.StartsAt.Equal(alert.StartsAt) || a.Fingerprint == "" {
		t.Errorf("firing alert: %+v", a)
	}
	if !reflect.DeepEqual(firing.GroupLabels, map[string]string{"alertname": "CheckoutDown"}) || firing.Labels["team"] != "platform" {
		t.Errorf("group labels %v, labels %v", firing.GroupLabels, firing.Labels)
	}
	if len(a.Links) == 0 || a.Links[0].URL != alert.GeneratorURL {
		t.Errorf("links %+v, want the generator URL", a.Links)
	}

	alert.EndsAt = time.Now()
	am.Post(t, alert)
	resolved := nextGroup(t, calls, token, incident.AlertResolved)
	if resolved.Key != firing.Key || len(resolved.Alerts) != 1 || resolved.Alerts[0].Status != incident.AlertResolved ||
		resolved.Alerts[0].Fingerprint != a.Fingerprint || resolved.Alerts[0].EndsAt.IsZero() {
		t.Errorf("resolved group: %+v (firing key %q)", resolved, firing.Key)
	}
}

// nextGroup waits up to 30s for a webhook call whose group has the status,
// checking each call's token and that it decodes; calls of another status
// (a repeated firing notification) are passed over.
func nextGroup(t *testing.T, calls <-chan webhookCall, token string, status incident.AlertStatus) *incident.AlertGroup {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case c := <-calls:
			if c.auth != "Bearer "+token {
				t.Fatalf("Authorization %q, want the bearer token", c.auth)
			}
			g, err := incident.DecodeAlertmanager(c.body)
			if err != nil {
				t.Fatalf("DecodeAlertmanager: %v\nbody: %s", err, c.body)
			}
			if g.Status == status {
				return g
			}
		case <-timeout:
			t.Fatalf("no %s notification from Alertmanager within 30s", status)
			return nil
		}
	}
}
