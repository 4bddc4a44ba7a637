package incident_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/incident"
)

var ana = incident.User{ID: "U1", Name: "ana"}

func TestParseRef(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    int64
		wantErr bool
	}{
		{"reference", "INC-42", 42, false},
		{"lower case", "inc-42", 42, false},
		{"capitalised", "Inc-42", 42, false},
		{"hash", "#42", 42, false},
		{"bare number", "42", 42, false},
		{"spaces", "  INC-7 ", 7, false},
		{"zero", "INC-0", 0, true},
		{"negative", "INC--3", 0, true},
		{"letters", "abc", 0, true},
		{"empty", "", 0, true},
		{"prefix only", "INC-", 0, true},
		{"trailing text", "INC-42x", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := incident.ParseRef(tc.text)
			if tc.wantErr {
				var in *incident.InputError
				if !errors.As(err, &in) {
					t.Fatalf("ParseRef(%q) = %d, %v; want an *InputError", tc.text, got, err)
				}
				if !strings.Contains(in.Hint, "INC-42") {
					t.Errorf("hint %q does not show the form to type", in.Hint)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseRef(%q) = %d, %v; want %d", tc.text, got, err, tc.want)
			}
			if ref := incident.Ref(got); ref != "INC-"+strings.TrimLeft(strings.TrimSpace(tc.text), "INCinc-#") {
				t.Errorf("Ref(%d) = %q does not round-trip %q", got, ref, tc.text)
			}
		})
	}
}

func TestDeclarationValidate(t *testing.T) {
	long := strings.Repeat("é", incident.MaxTitle+50)
	tests := []struct {
		name      string
		d         incident.Declaration
		wantErr   bool
		wantTitle string
		wantSev   incident.Severity
	}{
		{"empty title", incident.Declaration{By: ana}, true, "", 0},
		{"blank title", incident.Declaration{Title: " \t\n ", By: ana}, true, "", 0},
		{"whitespace collapsed", incident.Declaration{Title: "  Checkout \n is\t\tdown  ", By: ana}, false, "Checkout is down", incident.Sev3},
		{"default severity", incident.Declaration{Title: "x", By: ana}, false, "x", incident.DefaultSeverity},
		{"severity kept", incident.Declaration{Title: "x", Severity: incident.Sev1, By: ana}, false, "x", incident.Sev1},
		{"invalid severity", incident.Declaration{Title: "x", Severity: 7, By: ana}, true, "", 0},
		{"no declarer", incident.Declaration{Title: "x"}, true, "", 0},
		{"title at the limit kept whole", incident.Declaration{Title: long[:2*incident.MaxTitle], By: ana}, false, long[:2*incident.MaxTitle], incident.Sev3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			err := d.Validate()
			if tc.wantErr {
				if !errors.Is(err, incident.ErrInvalidInput) {
					t.Fatalf("Validate() = %v, want an invalid-input error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if d.Title != tc.wantTitle || d.Severity != tc.wantSev {
				t.Errorf("after Validate: title %q, severity %v; want %q, %v", d.Title, d.Severity, tc.wantTitle, tc.wantSev)
			}
		})
	}
}

func TestDeclarationValidateEmptyTitleSaysWhatToType(t *testing.T) {
	d := incident.Declaration{By: ana}
	var in *incident.InputError
	if err := d.Validate(); !errors.As(err, &in) || !strings.Contains(in.Hint, "/incident declare") {
		t.Errorf("Validate() = %v, want an *InputError whose hint shows the command", err)
	}
}

func TestDeclarationValidateLongTitle(t *testing.T) {
	words := strings.Repeat("checkout fails ", 20) // 300 characters
	tests := []struct {
		name, title, desc string
	}{
		{"ascii", words + "TAIL-MARKER", ""},
		{"accents", strings.Repeat("é", 250) + "TAIL-MARKER", ""},
		{"with a description", words + "TAIL-MARKER", "Customers in the EU see errors."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := incident.Declaration{Title: tc.title, Description: tc.desc, By: ana}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if n := utf8.RuneCountInString(d.Title); n > incident.MaxTitle {
				t.Errorf("title is %d characters, over MaxTitle (%d)", n, incident.MaxTitle)
			}
			if !strings.HasSuffix(d.Title, "…") {
				t.Errorf("a cut title should end in an ellipsis: %q", d.Title)
			}
			if !strings.Contains(d.Description, "TAIL-MARKER") {
				t.Errorf("the title's tail was lost: description %q", d.Description)
			}
			if tc.desc != "" && !strings.HasSuffix(d.Description, tc.desc) {
				t.Errorf("the description given was lost: %q", d.Description)
			}
		})
	}
}

func TestNew(t *testing.T) {
	d := incident.Declaration{Title: "Checkout down", Severity: incident.Sev2, By: ana, At: at(17, 10, 22),
		Services: []string{"checkout"}, Private: true}
	inc := incident.New(7, d)
	if inc.Ref() != "INC-7" || inc.Status != incident.Investigating || !inc.Open() {
		t.Errorf("New: ref %s, status %s, open %v", inc.Ref(), inc.Status, inc.Open())
	}
	if inc.Lead() != ana || !inc.Times.Declared.Equal(d.At) || !inc.Private {
		t.Errorf("New: lead %v, declared %v, private %v", inc.Lead(), inc.Times.Declared, inc.Private)
	}
	if len(inc.SeverityLog) != 1 || inc.SeverityLog[0].Severity != incident.Sev2 {
		t.Errorf("New: severity log %+v", inc.SeverityLog)
	}
}

func TestIncidentLead(t *testing.T) {
	bo := incident.User{ID: "U2", Name: "bo"}
	inc := &incident.Incident{DeclaredBy: ana}
	if inc.Lead() != ana {
		t.Errorf("without a lead role, Lead() = %v, want the declarer", inc.Lead())
	}
	inc.Roles = map[incident.Role]incident.User{incident.RoleLead: bo}
	if inc.Lead() != bo {
		t.Errorf("Lead() = %v, want %v", inc.Lead(), bo)
	}
}

func TestIncidentResolve(t *testing.T) {
	inc := incident.New(7, incident.Declaration{Title: "x", Severity: incident.Sev3, By: ana, At: at(17, 10, 0)})
	if err := inc.Resolve(at(17, 11, 2), "  Rolled back.  "); err != nil {
		t.Fatal(err)
	}
	if inc.Open() || inc.Status != incident.Resolved || inc.ResolutionNote != "Rolled back." {
		t.Errorf("after Resolve: open %v, status %s, note %q", inc.Open(), inc.Status, inc.ResolutionNote)
	}

	err := inc.Resolve(at(17, 12, 0), "again")
	if !errors.Is(err, incident.ErrResolved) {
		t.Fatalf("second Resolve = %v, want ErrResolved", err)
	}
	var p *incident.Problem
	if !errors.As(err, &p) {
		t.Fatalf("second Resolve error is %T, want a *Problem", err)
	}
	for _, want := range []string{"INC-7", "2023-08-17 11:02 UTC"} {
		if !strings.Contains(p.Msg, want) {
			t.Errorf("message %q does not mention %q", p.Msg, want)
		}
	}
	if !inc.Times.Resolved.Equal(at(17, 11, 2)) || inc.ResolutionNote != "Rolled back." {
		t.Errorf("second Resolve changed the incident: resolved %v, note %q", inc.Times.Resolved, inc.ResolutionNote)
	}
}

func TestPeakSeverity(t *testing.T) {
	log := func(sevs ...incident.Severity) []incident.SeverityChange {
		var out []incident.SeverityChange
		for i, s := range sevs {
			out = append(out, incident.SeverityChange{At: at(17, 10, i), Severity: s})
		}
		return out
	}
	tests := []struct {
		name    string
		current incident.Severity
		log     []incident.SeverityChange
		want    incident.Severity
	}{
		{"no history", incident.Sev3, nil, incident.Sev3},
		{"never changed", incident.Sev2, log(incident.Sev2), incident.Sev2},
		{"escalated then eased", incident.Sev3, log(incident.Sev3, incident.Sev1, incident.Sev2, incident.Sev3), incident.Sev1},
		{"escalated", incident.Sev1, log(incident.Sev4, incident.Sev1), incident.Sev1},
		{"invalid entries ignored", incident.Sev4, log(0, incident.Sev4), incident.Sev4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inc := &incident.Incident{Severity: tc.current, SeverityLog: tc.log}
			if got := inc.PeakSeverity(); got != tc.want {
				t.Errorf("PeakSeverity() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	err := incident.Invalid("Bad thing.", "Type a good thing.")
	if err.Error() != "Bad thing. Type a good thing." || !errors.Is(err, incident.ErrInvalidInput) {
		t.Errorf("Invalid: %q, matches ErrInvalidInput %v", err, errors.Is(err, incident.ErrInvalidInput))
	}
	if got := incident.Invalid("Bad thing.", "").Error(); got != "Bad thing." {
		t.Errorf("Invalid without hint: %q", got)
	}
	p := incident.Problemf(incident.ErrNotFound, "%s does not exist", "INC-9")
	if p.Error() != "INC-9 does not exist" || !errors.Is(p, incident.ErrNotFound) || errors.Is(p, incident.ErrResolved) {
		t.Errorf("Problemf: %q", p)
	}
}
