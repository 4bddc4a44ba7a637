package incident

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxPolicyFileSize caps the escalation file. Parsing YAML takes about 15
// times the file's size, so a wrong file (a log, a dump) would be an OOM kill
// with no message under a 256 MiB pod limit; a real file is a few KiB.
const MaxPolicyFileSize = 1 << 20

// LoadPolicies reads the escalation file at path; with no path there are no
// policies. A schedule's ical: path that is relative is read relative to the
// file's directory (where it is usually mounted beside it), not the bot's
// working directory.
func LoadPolicies(path string, check CheckTarget) (*Policies, error) {
	if path == "" {
		return &Policies{}, nil
	}
	data, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	ps, err := ParsePolicies(data, check)
	if err != nil {
		return nil, err
	}
	for i := range ps.Schedules {
		if s := &ps.Schedules[i]; s.ICal != "" && !strings.Contains(s.ICal, "://") && !filepath.IsAbs(s.ICal) {
			s.ICal = filepath.Join(filepath.Dir(path), s.ICal)
		}
	}
	return ps, nil
}

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

// The file as YAML decodes it, before it is checked.

type rawFile struct {
	Policies         []rawPolicy       `yaml:"policies"`
	Schedules        []rawSchedule     `yaml:"schedules"`
	SeverityDefaults map[string]string `yaml:"severity_defaults"`
	AlertRoutes      []rawAlertRoute   `yaml:"alert_routes"`
}

type rawPolicy struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Repeat      int        `yaml:"repeat"`
	Levels      []rawLevel `yaml:"levels"`
}

type rawLevel struct {
	Targets rawTargets `yaml:"targets"`
	Timeout string     `yaml:"timeout"`
}

// rawTargets decodes a list of scalars itself so that a misshapen target is
// reported without the library quoting (part of) a secret.
type rawTargets []string

func (r *rawTargets) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: targets must be a list, e.g. targets: [U0123ABCD, \"pagerduty:<routing key>\"]", n.Line)}}
	}
	te := &yaml.TypeError{}
	for i, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			te.Errors = append(te.Errors, fmt.Sprintf("line %d: target %d is not a single value: write e.g. \"pagerduty:<routing key>\" in quotes, with no space after the colon", item.Line, i+1))
		}
		*r = append(*r, item.Value)
	}
	if te.Errors != nil {
		return te
	}
	return nil
}

// typeNames turns the library's names for the private types into the user's terms.
var typeNames = strings.NewReplacer(append([]string{
	" not found in type incident.rawFile", " is unknown at the top level (fields: policies, schedules, severity_defaults, alert_routes)",
	" not found in type incident.rawPolicy", " is unknown in a policy (fields: name, description, repeat, levels)",
	" not found in type incident.rawLevel", " is unknown in a level (fields: targets, timeout)",
	"into incident.rawFile", "into the top level: it must be a mapping with policies:, schedules:, severity_defaults: and alert_routes:",
	"into []incident.rawPolicy", "into policies: it must be a list of policies, each starting with - name:",
	"into []incident.rawLevel", "into levels: it must be a list of levels, each starting with - targets:",
	"into incident.rawPolicy", "into a policy: it must be a mapping with name, description, repeat and levels",
	"into incident.rawLevel", "into a level: it must be a mapping with targets and timeout",
	"into map[string]string", "into severity_defaults: it must be a mapping such as sev1: platform",
	"into int", "into a whole number",
}, append(scheduleTypeNames, alertRouteTypeNames...)...)...)
