package incident_test

// Regression tests: each pins a defect found in review (behaviour the code
// documented but did not have) so it cannot come back.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// Validate promises that an over-long title's tail is moved into the
// description "so that nothing typed is lost". The character at position
// MaxTitle (the 201st) is in neither the title nor the description.
func TestRegressionValidateLongTitleLosesNothing(t *testing.T) {
	tests := []struct {
		name  string
		title string
	}{
		{"digits", strings.Repeat("0123456789", 25)},
		{"words", strings.Repeat("abcdefghi ", 19) + "0123456789WXYZ and the rest of the sentence"},
		{"accents", strings.Repeat("é", incident.MaxTitle) + "XYZ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := incident.Declaration{Title: tc.title, By: ana}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			kept := strings.TrimSuffix(d.Title, "…") + strings.TrimPrefix(d.Description, "…")
			if kept != tc.title {
				typed, got := []rune(tc.title), []rune(kept)
				i := 0
				for i < len(got) && typed[i] == got[i] {
					i++
				}
				t.Errorf("typed %d characters; title + description hold %d: %q at position %d was lost (title ends %q, description %q)",
					len(typed), len(got), typed[i], i+1, string([]rune(d.Title)[incident.MaxTitle-5:]), d.Description)
			}
		})
	}
}

// LoadTemplates documents: "A broken override is an error at start, not at
// the moment someone resolves an incident." An override that parses but
// names a field the view does not have (a typo) loads fine and then fails
// every postmortem.
func TestRegressionLoadTemplatesAcceptsOverrideThatCannotRender(t *testing.T) {
	for _, text := range []string{
		"# {{.Ref}}: {{.Titel}}\n",             // typo in a field name
		"{{range .Timeline}}{{.Txt}}{{end}}\n", // typo inside a range
	} {
		t.Run(text, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, incident.PostmortemTemplate), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			tmpl, err := incident.LoadTemplates(dir)
			if err != nil {
				return // refused at start, as documented
			}
			if _, rerr := tmpl.PostmortemString(resolvedIncident(t)); rerr != nil {
				t.Errorf("LoadTemplates accepted an override that fails every render: %v", rerr)
			}
		})
	}
}

// Slug documents that accents are folded ("Café" → "cafe"). Text whose
// accents are combining marks (Unicode NFD, as some keyboards and pasted
// text produce) looks the same to the user but is split into words at each
// accent: "Zürich" becomes "zu-rich".
func TestRegressionSlugDecomposedAccents(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"Zürich", "Zu\u0308rich outage", "zurich-outage"},
		{"Paiement échoué", "Paiement e\u0301choue\u0301", "paiement-echoue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := incident.Slug(tc.text, 80); got != tc.want {
				t.Errorf("Slug(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
