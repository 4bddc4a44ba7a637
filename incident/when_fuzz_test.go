package incident_test

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/incident"
)

// FuzzParseWhen checks that ParseWhen never panics, that every time it
// accepts is UTC and within its window (at most 5 minutes ahead of now, at
// most 30 days behind), and that every refusal is a short, readable
// ErrInvalidInput. now is fuzzed too, within 2000–2100, in UTC or not.
func FuzzParseWhen(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, nowSec int64) {
		const from, span = 946684800, 100 * 365 * 24 * 3600 // 2000-01-01, about a century
		sec := nowSec % span
		if sec < 0 {
			sec += span
		}
		now := time.Unix(from+sec, 0).UTC()
		if nowSec%2 != 0 {
			now = now.In(time.FixedZone("CEST", 2*3600))
		}
		got, err := incident.ParseWhen(s, now)
		if err != nil {
			if !errors.Is(err, incident.ErrInvalidInput) {
				t.Fatalf("ParseWhen(%q) error %v is not ErrInvalidInput", s, err)
			}
			msg := err.Error()
			if !utf8.ValidString(msg) {
				t.Fatalf("ParseWhen(%q) error %q is not UTF-8", s, msg)
			}
			if len(msg) > 300 {
				t.Fatalf("ParseWhen(%q) error is %d bytes: %q", s, len(msg), msg)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseWhen(%q) = %s, not in UTC", s, got)
		}
		if got.After(now.Add(5 * time.Minute)) {
			t.Fatalf("ParseWhen(%q) = %s, more than 5 minutes after now %s", s, got, now)
		}
		if got.Before(now.Add(-30 * 24 * time.Hour)) {
			t.Fatalf("ParseWhen(%q) = %s, more than 30 days before now %s", s, got, now)
		}
	})
}
