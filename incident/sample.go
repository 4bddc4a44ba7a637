package incident

import (
	"fmt"
	"io"
	"time"
)

// sampleInput is a small but complete incident: every field a template can
// reach is set, so rendering it once at load time finds a typo in an override
// (a field the view does not have) before anyone resolves a real incident.
func sampleInput() PostmortemInput {
	at := func(min int) time.Time { return time.Date(2023, 8, 17, 10, min, 0, 0, time.UTC) }
	ana := User{ID: "U1", Name: "ana"}
	inc := New(1, Declaration{Title: "Sample incident", Severity: Sev2, By: ana, At: at(22), Services: []string{"api"}})
	inc.Times.Started, inc.Times.Detected = at(5), at(18)
	inc.Times.Acknowledged, inc.Times.Identified, inc.Times.Mitigated = at(23), at(40), at(52)
	inc.SeverityLog = append(inc.SeverityLog, SeverityChange{At: at(30), Severity: Sev1, By: ana})
	_ = inc.Resolve(at(59), "Rolled back.")
	return PostmortemInput{
		Incident: inc,
		Timeline: []Entry{
			{Seq: 1, At: at(22), Kind: KindEvent, Event: "declared", Author: ana, Text: "Incident declared"},
			{Seq: 2, At: at(24), Kind: KindMessage, Author: ana, Text: "errors up", Link: "https://example.invalid/p1",
				Files: []Link{{Title: "graph.png", URL: "https://example.invalid/graph.png"}}},
			{Seq: 3, At: at(41), Kind: KindNote, Author: ana, Text: "cause found"},
		},
		Names: map[string]string{"U1": "ana"},
		Now:   at(59),
	}
}

// check renders every template once with sample data.
func (t *Templates) check() error {
	in := sampleInput()
	if err := t.Postmortem(io.Discard, in); err != nil {
		return fmt.Errorf("template %s cannot render an incident: %w", PostmortemTemplate, err)
	}
	for _, s := range Statuses {
		if _, err := t.Update(s, NewUpdateView(in.Incident, s, "More soon.", in.Now, 30*time.Minute)); err != nil {
			return fmt.Errorf("template %s cannot render an update: %w", UpdateTemplate(s), err)
		}
	}
	return nil
}
