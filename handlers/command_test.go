package handlers

import (
	"errors"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Parsed
	}{
		{"empty is help", "", Parsed{Name: "help"}},
		{"blank is help", "  \t\n ", Parsed{Name: "help"}},
		{"question mark is help", "?", Parsed{Name: "help"}},
		{"subcommand alone", "resolve", Parsed{Name: "resolve"}},
		{"subcommand and args", "declare sev1 DB down", Parsed{Name: "declare", Args: "sev1 DB down"}},
		{"case-insensitive", "DeClArE sev2 x", Parsed{Name: "declare", Args: "sev2 x"}},
		{"args keep their case", "resolve Rolled BACK", Parsed{Name: "resolve", Args: "Rolled BACK"}},
		{"new", "new DB down", Parsed{Name: "declare", Args: "DB down"}},
		{"open", "open DB down", Parsed{Name: "declare", Args: "DB down"}},
		{"start", "Start DB down", Parsed{Name: "declare", Args: "DB down"}},
		{"close", "close fixed", Parsed{Name: "resolve", Args: "fixed"}},
		{"done", "DONE", Parsed{Name: "resolve"}},
		{"surrounding spaces", "   resolve   fixed it  ", Parsed{Name: "resolve", Args: "fixed it"}},
		{"tab after subcommand", "declare\tDB down", Parsed{Name: "declare", Args: "DB down"}},
		{"newline after subcommand", "declare\nDB down", Parsed{Name: "declare", Args: "DB down"}},
		{"newline, no space at all", "resolve\nRolled back", Parsed{Name: "resolve", Args: "Rolled back"}},
		{"blank lines after subcommand", "declare\n\n  DB down", Parsed{Name: "declare", Args: "DB down"}},
		{"alias before a newline", "close\nfixed", Parsed{Name: "resolve", Args: "fixed"}},
		{"unknown kept for the error", "Frobnicate now", Parsed{Name: "frobnicate", Args: "now"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseCommand(tc.text); got != tc.want {
				t.Errorf("ParseCommand(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}

// TestParseCommandKeepsLines checks a pasted multi-line note keeps its lines.
func TestParseCommandKeepsLines(t *testing.T) {
	got := ParseCommand("resolve Rolled back.\nCache flushed.")
	if got.Name != "resolve" || got.Args != "Rolled back.\nCache flushed." {
		t.Errorf("ParseCommand = %+v", got)
	}
}

func TestParseDeclare(t *testing.T) {
	tests := []struct {
		name string
		args string
		want DeclareArgs
	}{
		{"empty: open the form", "", DeclareArgs{}},
		{"title only", "Checkout is down", DeclareArgs{Title: "Checkout is down"}},
		{"severity then title", "sev1 Checkout is down", DeclareArgs{Severity: incident.Sev1, Title: "Checkout is down"}},
		{"upper-case severity", "SEV2 Checkout is down", DeclareArgs{Severity: incident.Sev2, Title: "Checkout is down"}},
		{"private then severity", "--private sev2 Payroll leak", DeclareArgs{Severity: incident.Sev2, Private: true, Title: "Payroll leak"}},
		{"severity then private", "sev2 --private Payroll leak", DeclareArgs{Severity: incident.Sev2, Private: true, Title: "Payroll leak"}},
		{"short private", "-p Payroll leak", DeclareArgs{Private: true, Title: "Payroll leak"}},
		{"upper-case option", "--PRIVATE sev4 x", DeclareArgs{Severity: incident.Sev4, Private: true, Title: "x"}},
		{"options without a title", "sev1 --private", DeclareArgs{Severity: incident.Sev1, Private: true}},
		{"extra spaces", "  sev3    DB   slow ", DeclareArgs{Severity: incident.Sev3, Title: "DB   slow"}},
		{"severity later in the title is kept", "Checkout sev1 outage", DeclareArgs{Title: "Checkout sev1 outage"}},
		{"option later in the title is kept", "Payroll --private leak", DeclareArgs{Title: "Payroll --private leak"}},
		{"severity word in the title after options", "sev2 sev1-like errors", DeclareArgs{Severity: incident.Sev2, Title: "sev1-like errors"}},
		{"p2 is a title word", "p2 Checkout down", DeclareArgs{Title: "p2 Checkout down"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDeclare(tc.args)
			if err != nil {
				t.Fatalf("ParseDeclare(%q): %v", tc.args, err)
			}
			if got != tc.want {
				t.Errorf("ParseDeclare(%q) = %+v, want %+v", tc.args, got, tc.want)
			}
		})
	}
}

func TestParseDeclareRefused(t *testing.T) {
	tests := []struct {
		name string
		args string
		// Every part must be in the message the user reads.
		want []string
	}{
		{"unknown option", "--urgent sev1 DB down", []string{`"--urgent"`, "--private"}},
		{"unknown option after severity", "sev1 --pirvate DB down", []string{`"--pirvate"`, "--private"}},
		{"two severities", "sev1 sev2 DB down", []string{"Two severities", "sev2"}},
		{"two severities around an option", "sev1 --private sev1 DB down", []string{"Two severities"}},
		{"sev5", "sev5 DB down", []string{`"sev5"`, "sev1, sev2, sev3 or sev4"}},
		{"sev0", "SEV0 DB down", []string{`"sev0"`, "sev1, sev2, sev3 or sev4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDeclare(tc.args)
			var in *incident.InputError
			if !errors.As(err, &in) {
				t.Fatalf("ParseDeclare(%q) = %v, want an *InputError", tc.args, err)
			}
			if in.Hint == "" {
				t.Errorf("error %q gives no hint of what to type", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
