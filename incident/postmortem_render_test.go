package incident_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/incidentbot/incidentbot/incident"
)

// renderInputs are drafts of every shape: the goldens', an open incident
// with no timeline, hostile texts, and a long timeline.
func renderInputs(t *testing.T) map[string]incident.PostmortemInput {
	open := incident.New(9, incident.Declaration{Title: "Search slow", Severity: incident.Sev4, By: ana, At: at(17, 9, 0)})
	return map[string]incident.PostmortemInput{
		"resolved":   resolvedIncident(t),
		"reference":  stellateDomainExpiry(t),
		"empty":      {Incident: open, Now: at(17, 9, 45)},
		"hostile":    hostileIncident(2, 2000),
		"all hidden": {Incident: open, Now: at(17, 9, 45), Timeline: []incident.Entry{{Text: "x", Deleted: true}, {Text: "y", Pending: true}}},
		"long":       bigIncident(3000),
	}
}

func overrideWith(t *testing.T, text string) *incident.Templates {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, incident.PostmortemTemplate), text)
	tmpl, err := incident.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestPostmortemTimelineAsTheTemplateWroteIt renders each draft with the
// default template, whose timeline WriteTimeline writes, and with the
// default template as it was, which ranges over the Timeline lines itself
// (an override now): the drafts are the same, byte for byte. So is a
// team's copy of today's default, which gets Timeline lines too.
func TestPostmortemTimelineAsTheTemplateWroteIt(t *testing.T) {
	classic, err := os.ReadFile(filepath.Join("testdata", "postmortem-classic.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	current, err := os.ReadFile(filepath.Join("templates", incident.PostmortemTemplate))
	if err != nil {
		t.Fatal(err)
	}
	defaults := incident.MustLoadDefaults()
	others := map[string]*incident.Templates{"classic": overrideWith(t, string(classic)), "copy of the default": overrideWith(t, string(current))}
	for name, in := range renderInputs(t) {
		want := render(t, defaults, in)
		for other, tmpl := range others {
			if got := render(t, tmpl, in); got != want {
				t.Errorf("%s: the %s template renders otherwise:\n%s", name, other, lineDiff(want, got))
			}
		}
	}
}

// TestWriteTimelineOutsideTheRenderer executes the default template on a
// view from NewPostmortemView, as a caller of its own would: WriteTimeline
// then returns the list, and the draft is the one Templates.Postmortem writes.
func TestWriteTimelineOutsideTheRenderer(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("templates", incident.PostmortemTemplate))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := template.Must(template.New("pm").Funcs(template.FuncMap{
		"join": strings.Join, "inc": func(i int) int { return i + 1 },
	}).Parse(string(text)))
	for name, in := range renderInputs(t) {
		var b strings.Builder
		if err := tmpl.Execute(&b, incident.NewPostmortemView(in)); err != nil {
			t.Fatal(err)
		}
		if want := render(t, incident.MustLoadDefaults(), in); b.String() != want {
			t.Errorf("%s: the draft from NewPostmortemView differs:\n%s", name, lineDiff(want, b.String()))
		}
	}
	if s, err := (incident.PostmortemView{}).WriteTimeline(); s != "" || err != nil {
		t.Errorf("a zero view's timeline = %q, %v", s, err)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestPostmortemWriteError fails the writer before, inside and after the
// timeline: the error comes back, naming the incident.
func TestPostmortemWriteError(t *testing.T) {
	in := bigIncident(2000)
	size := len(render(t, incident.MustLoadDefaults(), in))
	for _, n := range []int{0, size / 2, size - 1} {
		err := incident.MustLoadDefaults().Postmortem(&failingWriter{n: n}, in)
		if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "INC-1") {
			t.Errorf("writer failing after %d of %d bytes: err = %v", n, size, err)
		}
	}
}

// TestPostmortemConcurrent renders drafts at once with one Templates, and
// one view at once: each draft is the one rendered alone (run with -race).
func TestPostmortemConcurrent(t *testing.T) {
	tmpl := incident.MustLoadDefaults()
	in := hostileIncident(3, 500)
	want := render(t, tmpl, in)
	view := incident.NewPostmortemView(in)
	wantList, err := view.WriteTimeline()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan [2]string)
	for range 4 {
		go func() {
			var b strings.Builder
			err := tmpl.Postmortem(&b, in)
			list, lerr := view.WriteTimeline()
			if err == nil {
				err = lerr
			}
			if err != nil {
				list = err.Error()
			}
			done <- [2]string{b.String(), list}
		}()
	}
	for range 4 {
		if got := <-done; got[0] != want || got[1] != wantList {
			t.Errorf("a draft rendered at the same time as others differs:\n%s", lineDiff(want, got[0]))
		}
	}
}
