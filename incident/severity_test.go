package incident_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		name string
		text string
		want incident.Severity
	}{
		{"sev1", "sev1", incident.Sev1},
		{"sev2", "sev2", incident.Sev2},
		{"sev3", "sev3", incident.Sev3},
		{"sev4", "sev4", incident.Sev4},
		{"upper case", "SEV2", incident.Sev2},
		{"mixed case", "Sev1", incident.Sev1},
		{"priority form", "p2", incident.Sev2},
		{"upper priority form", "P1", incident.Sev1},
		{"short form", "s3", incident.Sev3},
		{"bare number", "2", incident.Sev2},
		{"surrounding spaces", "  sev4 ", incident.Sev4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := incident.ParseSeverity(tc.text)
			if err != nil {
				t.Fatalf("ParseSeverity(%q): %v", tc.text, err)
			}
			if got != tc.want {
				t.Errorf("ParseSeverity(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseSeverityRefused(t *testing.T) {
	for _, text := range []string{"sev5", "sev0", "high", "", "sev", "sev12", "5", "p0", "critical", "sev-1", "sev 1"} {
		t.Run(text, func(t *testing.T) {
			sev, err := incident.ParseSeverity(text)
			if err == nil {
				t.Fatalf("ParseSeverity(%q) = %v, want an error", text, sev)
			}
			var in *incident.InputError
			if !errors.As(err, &in) {
				t.Fatalf("ParseSeverity(%q) error %T %v, want an *InputError", text, err, err)
			}
			if !errors.Is(err, incident.ErrInvalidInput) {
				t.Errorf("ParseSeverity(%q) error does not match ErrInvalidInput", text)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"`+text+`"`) {
				t.Errorf("error %q does not quote what was typed (%q)", msg, text)
			}
			for _, s := range []string{"sev1", "sev2", "sev3", "sev4"} {
				if !strings.Contains(in.Hint, s) {
					t.Errorf("hint %q does not say to type %s", in.Hint, s)
				}
			}
		})
	}
}

func TestLooksLikeSeverity(t *testing.T) {
	tests := []struct {
		word string
		want bool
	}{
		{"sev1", true},
		{"SEV2", true},
		{"sev5", true},
		{"sev0", true},
		{"sev10", true},
		{"sev", false},
		{"sevx", false},
		{"severe", false},
		{"sev1!", false},
		{"p1", false},
		{"s1", false},
		{"1", false},
		{"", false},
		{"checkout", false},
	}
	for _, tc := range tests {
		t.Run(tc.word, func(t *testing.T) {
			if got := incident.LooksLikeSeverity(tc.word); got != tc.want {
				t.Errorf("LooksLikeSeverity(%q) = %v, want %v", tc.word, got, tc.want)
			}
		})
	}
}

func TestSeverityNames(t *testing.T) {
	tests := []struct {
		name  string
		sev   incident.Severity
		str   string
		label string
		valid bool
	}{
		{"sev1", incident.Sev1, "sev1", "SEV1", true},
		{"sev4", incident.Sev4, "sev4", "SEV4", true},
		{"zero", 0, "sev?(0)", "SEV?(0)", false},
		{"five", 5, "sev?(5)", "SEV?(5)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sev.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			if got := tc.sev.Label(); got != tc.label {
				t.Errorf("Label() = %q, want %q", got, tc.label)
			}
			if got := tc.sev.Valid(); got != tc.valid {
				t.Errorf("Valid() = %v, want %v", got, tc.valid)
			}
			if tc.valid && tc.sev.Meaning() == "" {
				t.Errorf("%v has no meaning to show users", tc.sev)
			}
		})
	}
	if incident.DefaultSeverity != incident.Sev3 {
		t.Errorf("DefaultSeverity = %v, want sev3", incident.DefaultSeverity)
	}
}
