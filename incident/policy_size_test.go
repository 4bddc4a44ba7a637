package incident_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// TestLoadPoliciesRefusesAnOversizedFile: a 50 MB file once took 750 MiB to
// parse, an OOM kill under the pod's 256 MiB limit with no message. A file
// over the limit is refused before it is parsed, with an error naming the
// file, its size and the limit; a file at the limit still loads.
func TestLoadPoliciesRefusesAnOversizedFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "escalation.yaml")
	// Valid YAML all the way (a comment), so only the size can refuse it.
	body := "policies:\n  - name: platform\n    levels:\n      - targets: [U0123ABCD]\n        timeout: 5m\n"
	data := []byte(body + "#" + strings.Repeat("x", 50<<20) + "\n")
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := incident.LoadPolicies(big, env)
	if err == nil {
		t.Fatalf("a %d-byte escalation file loaded; want it refused", len(data))
	}
	for _, want := range []string{big, strconv.Itoa(len(data)) + " bytes", "1 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// Exactly at the limit: padded with a comment, it loads.
	pad := incident.MaxPolicyFileSize - len(body) - 2
	at := []byte(body + "#" + strings.Repeat("x", pad) + "\n")
	if len(at) != incident.MaxPolicyFileSize {
		t.Fatalf("test file is %d bytes, want %d", len(at), incident.MaxPolicyFileSize)
	}
	if err := os.WriteFile(big, at, 0o600); err != nil {
		t.Fatal(err)
	}
	if ps, err := incident.LoadPolicies(big, env); err != nil || len(ps.List) != 1 {
		t.Errorf("a file of exactly %d bytes: %v, %v; want one policy", len(at), ps, err)
	}
}

// TestLoadPoliciesStopsReadingAtTheLimit: a file whose size stat cannot
// tell (a FIFO, a /proc file, one still being written) is read no further
// than the limit.
func TestLoadPoliciesStopsReadingAtTheLimit(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := incident.LoadPolicies("/dev/zero", env)
	if err == nil || !strings.Contains(err.Error(), "/dev/zero") || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("LoadPolicies(/dev/zero) = %v; want an error naming the file and the 1 MiB limit", err)
	}
}
