package providertest

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that keeps what it is told to report.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestAssertNoSecret(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		texts   []string
		fails   int
	}{
		{"clean", []string{"SECRETKEY123"}, []string{"pagerduty answered 400: [redacted]"}, 0},
		{"leak", []string{"SECRETKEY123"}, []string{"ok", "key SECRETKEY123 is wrong"}, 1},
		{"leak in another case", []string{"SecretKey123"}, []string{"KEY SECRETKEY123"}, 1},
		{"two secrets in one text", []string{"abc1", "def2"}, []string{"abc1 def2"}, 2},
		{"empty secret ignored", []string{""}, []string{"anything"}, 0},
		{"no texts", []string{"x"}, nil, 0},
	}
	for _, tt := range tests {
		r := &recorder{TB: t}
		AssertNoSecret(r, tt.secrets, tt.texts...)
		if len(r.errors) != tt.fails {
			t.Errorf("%s: %d failures %q, want %d", tt.name, len(r.errors), r.errors, tt.fails)
		}
	}
}
