package incident

import (
	"fmt"
	"strings"
	"time"
)

// UpdateView is what a customer status-update template sees. Texts are in
// Slack's format, as stored; the caller makes the result safe to post.
type UpdateView struct {
	Ref, Title, Status string
	Services           []string
	// Started is when impact began (or the earliest key time known).
	Started string
	// NextUpdate is when the next update is promised.
	NextUpdate string
	// Message is what the responder added.
	Message string
}

// UpdateTemplate is the file name of the template for a status.
func UpdateTemplate(s Status) string { return "update-" + string(s) + ".tmpl" }

// NewUpdateView prepares the view of an update for status s. every is how
// often updates are promised (0: no promise beyond "soon").
func NewUpdateView(inc *Incident, s Status, message string, now time.Time, every time.Duration) UpdateView {
	start, _ := inc.Times.ImpactStart()
	next := "our next update soon"
	if every > 0 {
		next = now.Add(every).UTC().Format("15:04 UTC")
	}
	return UpdateView{Ref: inc.Ref(), Title: inc.Title, Status: s.Title(), Services: inc.Services,
		Started: start.UTC().Format("15:04 UTC on 2 January"), NextUpdate: next, Message: strings.TrimSpace(message)}
}

// Update renders the customer update for status s.
func (t *Templates) Update(s Status, v UpdateView) (string, error) {
	if !s.Valid() {
		return "", fmt.Errorf("update template for %q: %w", s, ErrInvalidInput)
	}
	var b strings.Builder
	if err := t.set.ExecuteTemplate(&b, UpdateTemplate(s), v); err != nil {
		return "", fmt.Errorf("render %s: %w", UpdateTemplate(s), err)
	}
	return strings.TrimSpace(b.String()), nil
}
