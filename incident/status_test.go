package incident_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    incident.Status
		wantErr bool
	}{
		{"investigating", "investigating", incident.Investigating, false},
		{"identified", "identified", incident.Identified, false},
		{"monitoring", "monitoring", incident.Monitoring, false},
		{"resolved", "resolved", incident.Resolved, false},
		{"upper case", "MONITORING", incident.Monitoring, false},
		{"spaces", " Identified ", incident.Identified, false},
		{"unknown", "fixed", "", true},
		{"empty", "", "", true},
		{"prefix only", "invest", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := incident.ParseStatus(tc.text)
			if tc.wantErr {
				if !errors.Is(err, incident.ErrInvalidInput) {
					t.Fatalf("ParseStatus(%q) = %q, %v; want an invalid-input error", tc.text, got, err)
				}
				var in *incident.InputError
				if !errors.As(err, &in) || in.Hint == "" {
					t.Errorf("ParseStatus(%q) error %v gives no hint of what to type", tc.text, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseStatus(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
			}
		})
	}
}

func TestStatusTitle(t *testing.T) {
	for _, tc := range []struct{ s, want incident.Status }{
		{incident.Investigating, "Investigating"},
		{incident.Resolved, "Resolved"},
		{"", ""},
	} {
		if got := tc.s.Title(); got != string(tc.want) {
			t.Errorf("%q.Title() = %q, want %q", tc.s, got, tc.want)
		}
	}
}

// TestCanTransition covers every pair of the four statuses.
func TestCanTransition(t *testing.T) {
	const (
		I = incident.Investigating
		D = incident.Identified
		M = incident.Monitoring
		R = incident.Resolved
	)
	allowed := map[[2]incident.Status]bool{
		{I, D}: true, {I, M}: true, {I, R}: true,
		{D, M}: true, {D, R}: true,
		{M, R}: true,
		{M, D}: true, // the fix did not hold
	}
	for _, from := range incident.Statuses {
		for _, to := range incident.Statuses {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				err := incident.CanTransition(from, to)
				if allowed[[2]incident.Status{from, to}] {
					if err != nil {
						t.Errorf("CanTransition(%s, %s) = %v, want allowed", from, to, err)
					}
					return
				}
				if !errors.Is(err, incident.ErrInvalidTransition) {
					t.Errorf("CanTransition(%s, %s) = %v, want ErrInvalidTransition", from, to, err)
				}
			})
		}
	}
}

func TestCanTransitionUnknownStatus(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to incident.Status
	}{
		{"unknown from", "fixed", incident.Resolved},
		{"unknown to", incident.Investigating, "fixed"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := incident.CanTransition(tc.from, tc.to); !errors.Is(err, incident.ErrInvalidTransition) {
				t.Errorf("CanTransition(%q, %q) = %v, want ErrInvalidTransition", tc.from, tc.to, err)
			}
		})
	}
}
