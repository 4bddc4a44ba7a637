package incident

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed templates/*.tmpl
var defaultTemplates embed.FS

// Template file names. A team overrides one by putting a file of the same
// name in its templates directory.
const (
	PostmortemTemplate = "postmortem.md.tmpl"
)

// Templates renders the documents incidentbot writes.
type Templates struct {
	set *template.Template
	// Overridden lists the files taken from the override directory.
	Overridden []string
}

var templateFuncs = template.FuncMap{
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
	"list": joinAnd, // "a, b and c", as people write it
}

// LoadTemplates parses the embedded defaults, then any file in dir with the
// same name as a default (dir may be empty). A broken override is an error
// at start, not at the moment someone resolves an incident.
func LoadTemplates(dir string) (*Templates, error) {
	set := template.New("incidentbot").Funcs(templateFuncs)
	names, err := fs.Glob(defaultTemplates, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	t := &Templates{}
	for _, path := range names {
		name := filepath.Base(path)
		text, err := defaultTemplates.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if dir != "" {
			override, err := os.ReadFile(filepath.Join(dir, name))
			switch {
			case err == nil:
				text = override
				t.Overridden = append(t.Overridden, name)
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("read template %s: %w", filepath.Join(dir, name), err)
			}
		}
		if _, err := set.New(name).Parse(string(text)); err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
	}
	t.set = set
	// A broken override is an error at start, not when someone resolves.
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// MustLoadDefaults returns the embedded templates; they are tested, so a
// failure is a build defect.
func MustLoadDefaults() *Templates {
	t, err := LoadTemplates("")
	if err != nil {
		panic(err)
	}
	return t
}

// Postmortem writes the postmortem draft for in (see renderPostmortem).
func (t *Templates) Postmortem(w io.Writer, in PostmortemInput) error {
	return t.renderPostmortem(w, in)
}

// PostmortemString renders the draft to a string.
func (t *Templates) PostmortemString(in PostmortemInput) (string, error) {
	var b strings.Builder
	// About 200 bytes an entry, so the draft is not copied as it grows.
	b.Grow(4096 + 200*len(in.Timeline))
	err := t.Postmortem(&b, in)
	return b.String(), err
}
