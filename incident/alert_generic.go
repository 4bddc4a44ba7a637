package incident

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"sort"
	"strings"
	"time"
)

// genericPayload is the small JSON any system can send.
type genericPayload struct {
	DedupKey string         `json:"dedup_key"`
	Status   string         `json:"status"`
	Summary  string         `json:"summary"`
	Severity string         `json:"severity"`
	Source   string         `json:"source"`
	Details  map[string]any `json:"details"`
	Links    []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
}

// MaxDedupKey is the longest generic dedup_key accepted, in bytes.
const MaxDedupKey = 255

// DecodeGeneric reads the generic JSON:
//
//	{"dedup_key": "backup-db1", "status": "firing", "summary": "Backup failed",
//	 "severity": "error", "source": "cron", "details": {"team": "platform"},
//	 "links": [{"href": "https://…", "text": "Runbook"}]}
//
// dedup_key and status are required, and summary while firing. The group
// holds one alert whose fingerprint is the dedup_key. Its labels are the
// string values of details, then severity and source (so routes can match
// {"team": "platform"} in details); every detail is an annotation, non-string
// values as JSON. The generic JSON carries no time: StartsAt is zero and the
// receiver uses the time it received the alert.
func DecodeGeneric(body []byte) (*AlertGroup, error) {
	const name = "Generic alert"
	var p genericPayload
	if err := decodeJSON(body, &p); err != nil {
		return nil, payloadError(name, err.Error())
	}
	key := strings.TrimSpace(p.DedupKey)
	switch {
	case key == "":
		return nil, payloadError(name, `"dedup_key" is missing.`)
	case len(key) > MaxDedupKey:
		return nil, payloadError(name, fmt.Sprintf(`"dedup_key" is %d bytes, over the limit of %d.`, len(key), MaxDedupKey))
	}
	status, err := parseAlertStatus(`"status"`, p.Status)
	if err != nil {
		return nil, payloadError(name, err.Error())
	}
	summary := oneLine(p.Summary)
	if summary == "" && status == AlertFiring {
		return nil, payloadError(name, `"summary" is missing; a firing alert needs one.`)
	}
	labels := map[string]string{}
	ann := map[string]string{}
	for k, v := range p.Details {
		if s, ok := v.(string); ok {
			labels[k], ann[k] = s, s
			continue
		}
		b, _ := json.Marshal(v) // a decoded JSON value always marshals
		ann[k] = string(b)
	}
	if p.Severity != "" {
		labels["severity"] = strings.TrimSpace(p.Severity)
	}
	if p.Source != "" {
		labels["source"] = strings.TrimSpace(p.Source)
	}
	if summary != "" {
		ann["summary"] = summary
	}
	a := Alert{
		Fingerprint: key, Status: status, Labels: labels, Annotations: ann,
		Summary: summary, Description: strings.TrimSpace(ann["description"]),
		RunbookURL: httpURL(ann["runbook_url"]),
	}
	for _, l := range p.Links {
		a.Links = appendLinks(a.Links, AlertLink{l.Href, oneLine(l.Text)})
	}
	return &AlertGroup{
		Source: SourceGeneric, Key: key, Status: status, Labels: labels,
		Alerts: []Alert{a}, Title: summary,
	}, nil
}

// decodeJSON unmarshals body into v, turning encoding/json's errors into
// sentences that name the position or field but never quote the body.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("The body is empty.")
	}
	err := json.Unmarshal(body, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return fmt.Errorf("The body is not valid JSON (syntax error at byte %d).", syntax.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("The body is JSON %s, not an object.", typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("%q is JSON %s, not %s.", typ.Field, typ.Value, jsonKind(typ.Type.Kind().String()))
	default:
		return errors.New("The body is not valid JSON (it ends too early).")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	default:
		return "a number"
	}
}

func payloadError(source, problem string) error {
	return Invalid(source+" payload: "+problem, "")
}

func sourceName(source string) string {
	switch source {
	case SourceAlertmanager:
		return "Alertmanager"
	case SourceGrafana:
		return "Grafana"
	}
	return "Generic alert"
}

// parseAlertStatus reads "firing" or "resolved", in any case.
func parseAlertStatus(field, s string) (AlertStatus, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "firing":
		return AlertFiring, nil
	case "resolved":
		return AlertResolved, nil
	case "":
		return "", fmt.Errorf("%s is missing; it is firing or resolved.", field)
	}
	return "", fmt.Errorf("%s is %s, not firing or resolved.", field, quoteShort(s))
}

// parseAlertTime reads an RFC 3339 time; empty and Go's zero time
// (0001-01-01T00:00:00Z, Alertmanager's "not ended") give the zero time.
func parseAlertTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time.", field)
	}
	if t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t, nil
}

// quoteShort quotes s for an error message, cut to 32 bytes at a rune edge.
func quoteShort(s string) string {
	if len(s) <= 32 {
		return fmt.Sprintf("%q", s)
	}
	cut := 32
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// mergeLabels returns a new map of a's entries overridden by b's; nil when both are empty.
func mergeLabels(a, b map[string]string) map[string]string {
	if len(a)+len(b) == 0 {
		return nil
	}
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// labelsFingerprint identifies an alert that came without a fingerprint by
// its sorted labels (FNV-1a, 16 hex digits like Alertmanager's).
func labelsFingerprint(labels map[string]string) string {
	h := fnv.New64a()
	for _, k := range sortedKeys(labels) {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func formatValues(values map[string]float64) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, values[k])
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendLinks appends the links whose URL is an absolute http(s) URL.
func appendLinks(links []AlertLink, add ...AlertLink) []AlertLink {
	for _, l := range add {
		if u := httpURL(l.URL); u != "" {
			if l.Text == "" {
				l.Text = "Link"
			}
			links = append(links, AlertLink{URL: u, Text: l.Text})
		}
	}
	return links
}

// httpURL returns s trimmed when it is an absolute http or https URL, else "".
func httpURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return s
}

// oneLine trims s and folds its whitespace runs, newlines included, into spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
