package incident

import (
	"fmt"
	"io"
	"os"
)

// MaxPolicyFileSize caps the escalation file. Parsing YAML takes about 15
// times the file's size, so a wrong file (a log, a dump) would be an OOM kill
// with no message under a 256 MiB pod limit; a real file is a few KiB.
const MaxPolicyFileSize = 1 << 20

// readPolicyFile reads the escalation file for LoadPolicies, refusing one
// over MaxPolicyFileSize before parsing it. It reads at most one byte past
// the limit whatever stat says, since a FIFO, a /proc file or a file still
// being written has no reliable size.
func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("escalation file: %w", err) // an *fs.PathError names the path
	}
	defer f.Close()
	const what = "point INCIDENTBOT_ESCALATION_FILE at the policies' YAML file, which is a few KiB"
	if st, err := f.Stat(); err == nil && st.Size() > MaxPolicyFileSize {
		return nil, fmt.Errorf("escalation file %s is %d bytes, over the limit of %d (1 MiB): %s", path, st.Size(), MaxPolicyFileSize, what)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("escalation file: %w", err)
	}
	if len(data) > MaxPolicyFileSize {
		return nil, fmt.Errorf("escalation file %s is more than %d bytes, over the limit (1 MiB): %s", path, MaxPolicyFileSize, what)
	}
	return data, nil
}
