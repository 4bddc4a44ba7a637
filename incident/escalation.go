package incident

import (
	"fmt"
	"strings"
	"time"
)

// EscalationState is where an escalation is in its life.
type EscalationState string

// The states of an escalation. Only an active one pages anybody.
const (
	EscalationActive       EscalationState = "active"
	EscalationAcknowledged EscalationState = "acknowledged"
	// EscalationExhausted: every level and repeat was paged and nobody
	// acknowledged. A late acknowledgement still counts.
	EscalationExhausted EscalationState = "exhausted"
	// EscalationCancelled: the incident was resolved, or someone stopped it.
	EscalationCancelled EscalationState = "cancelled"
)

// PageState is what became of one page.
type PageState string

// The states of a page.
const (
	PageSending      PageState = "sending" // recorded, the DM or provider call not yet done
	PageSent         PageState = "sent"
	PageAcknowledged PageState = "acknowledged"
	PageDeclined     PageState = "declined"
	PageFailed       PageState = "failed"
	PageSkipped      PageState = "skipped" // the escalation ended before it went out
)

// DirectPageTimeout is how long a page of people named directly
// (/incident page @ana) waits before paging them again.
const DirectPageTimeout = 5 * time.Minute

// Escalation is one run of paging for an incident: a policy's levels (a
// copy, so editing the file does not change a running escalation), where it
// is, and every page it sent.
type Escalation struct {
	ID      int             `json:"id"`
	Policy  string          `json:"policy,omitempty"` // "" for a direct page
	Levels  []Level         `json:"levels"`
	Repeat  int             `json:"repeat,omitempty"`
	State   EscalationState `json:"state"`
	By      User            `json:"by"`
	Message string          `json:"message,omitempty"`
	Started time.Time       `json:"started"`
	// Level and Round say what was paged last (0-based). Step counts every
	// move, so a timer set for an earlier step knows it is stale.
	Level int       `json:"level"`
	Round int       `json:"round,omitempty"`
	Step  int       `json:"step"`
	Due   time.Time `json:"due,omitzero"` // when the next level is paged, while active
	Pages []Page    `json:"pages,omitempty"`

	AckedBy User      `json:"acked_by,omitzero"`
	AckedAt time.Time `json:"acked_at,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
}

// Page is one person or provider paged.
type Page struct {
	ID     int    `json:"id"`
	Target Target `json:"target"` // a user id, or a provider target
	User   User   `json:"user,omitzero"`
	// Group is the user group the person was paged through, if any.
	Group string `json:"group,omitempty"`
	// Schedule is the on-call schedule the person was paged through, if
	// any, and Override whether an override put them on call.
	Schedule string    `json:"schedule,omitempty"`
	Override bool      `json:"override,omitempty"`
	Level    int       `json:"level"`
	Round    int       `json:"round,omitempty"`
	Step     int       `json:"step"`
	At       time.Time `json:"at"`
	State    PageState `json:"state"`
	// Channel and TS locate the DM, so it can be updated.
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Name is how the escalation is called in messages.
func (e *Escalation) Name() string {
	if e.Policy == "" {
		return "direct page"
	}
	return "policy " + e.Policy
}

// Active reports whether the escalation may still page.
func (e *Escalation) Active() bool { return e.State == EscalationActive }

// Targets returns the targets of the level paged last.
func (e *Escalation) Targets() []Target {
	if e.Level < 0 || e.Level >= len(e.Levels) {
		return nil
	}
	return e.Levels[e.Level].Targets
}

// Escalations are the runs of paging of an incident or an alert, oldest
// first; an escalation's ID is its place in the list, from 1.
type Escalations []Escalation

// Start begins paging levels (a policy's, or one ad hoc level) at now. The
// caller pages Targets().
func (es *Escalations) Start(policy string, levels []Level, repeat int, by User, message string, now time.Time) (*Escalation, error) {
	if len(levels) == 0 || len(levels[0].Targets) == 0 {
		return nil, Invalid("Nobody to page.", "Name a policy (/incident oncall lists them), @someone or a @group.")
	}
	*es = append(*es, Escalation{
		ID: len(*es) + 1, Policy: policy, Levels: levels, Repeat: repeat, State: EscalationActive,
		By: by, Message: message, Started: now, Due: now.Add(levels[0].Timeout),
	})
	return &(*es)[len(*es)-1], nil
}

// Get returns escalation id; ref names its incident or alert in the error.
func (es Escalations) Get(ref string, id int) (*Escalation, error) {
	if id < 1 || id > len(es) {
		return nil, fmt.Errorf("%s escalation %d: %w", ref, id, ErrNotFound)
	}
	return &es[id-1], nil
}

// Escalated reports whether policy was ever paged.
func (es Escalations) Escalated(policy string) bool {
	for _, e := range es {
		if strings.EqualFold(e.Policy, policy) {
			return true
		}
	}
	return false
}

// Active returns the escalations still paging.
func (es Escalations) Active() []*Escalation {
	var out []*Escalation
	for i := range es {
		if es[i].Active() {
			out = append(out, &es[i])
		}
	}
	return out
}

// StartEscalation begins paging levels (a policy's, or one ad hoc level) at
// now. The caller pages Targets().
func (inc *Incident) StartEscalation(policy string, levels []Level, repeat int, by User, message string, now time.Time) (*Escalation, error) {
	return inc.Escalations.Start(policy, levels, repeat, by, message, now)
}

// Escalation returns escalation id of the incident.
func (inc *Incident) Escalation(id int) (*Escalation, error) {
	return inc.Escalations.Get(inc.Ref(), id)
}

// Escalated reports whether policy was ever paged for the incident.
func (inc *Incident) Escalated(policy string) bool { return inc.Escalations.Escalated(policy) }

// Advance moves to the next level, or round, at now. It returns false when
// the escalation is not active or has just run out: then it is exhausted.
func (e *Escalation) Advance(now time.Time) bool {
	if !e.Active() {
		return false
	}
	e.Step++
	e.Level++
	if e.Level >= len(e.Levels) {
		e.Level, e.Round = 0, e.Round+1
	}
	if e.Round > e.Repeat {
		e.Level, e.Round = len(e.Levels)-1, e.Repeat
		e.State, e.Ended, e.Due = EscalationExhausted, now, time.Time{}
		return false
	}
	e.Due = now.Add(e.Levels[e.Level].Timeout)
	return true
}

// AddPage records a page of the current step and returns it. A person
// already paged in this step (through two groups, say) is not paged twice,
// and a person who declined is not paged again by this escalation: then it
// returns nil.
func (e *Escalation) AddPage(p Page) *Page {
	if e.Declined(p.User.ID) {
		return nil
	}
	for _, old := range e.Pages {
		if old.Step == e.Step && old.Target == p.Target && old.User.ID == p.User.ID {
			return nil
		}
	}
	p.ID, p.Level, p.Round, p.Step = len(e.Pages)+1, e.Level, e.Round, e.Step
	if p.State == "" {
		p.State = PageSending
	}
	e.Pages = append(e.Pages, p)
	return &e.Pages[len(e.Pages)-1]
}

// Page returns page id of the escalation.
func (e *Escalation) Page(id int) (*Page, error) {
	if id < 1 || id > len(e.Pages) {
		return nil, fmt.Errorf("page %d: %w", id, ErrNotFound)
	}
	return &e.Pages[id-1], nil
}

// Acknowledge records that u acknowledged at now. It reports false when the
// escalation was already acknowledged or cancelled: then nothing changed.
// An exhausted escalation can still be acknowledged, late.
func (e *Escalation) Acknowledge(u User, now time.Time) bool {
	if e.State != EscalationActive && e.State != EscalationExhausted {
		return false
	}
	e.State, e.AckedBy, e.AckedAt, e.Due = EscalationAcknowledged, u, now, time.Time{}
	if e.Ended.IsZero() {
		e.Ended = now
	}
	for i := range e.Pages {
		if e.Pages[i].User.ID == u.ID && e.Pages[i].State != PageDeclined {
			e.Pages[i].State = PageAcknowledged
		}
	}
	return true
}

// Decline records that u declined their page. It reports whether the
// escalation should move on at once: the page was of the current step.
func (e *Escalation) Decline(u User) (moveOn bool) {
	for i := range e.Pages {
		p := &e.Pages[i]
		if p.User.ID != u.ID || p.State == PageDeclined || p.State == PageAcknowledged {
			continue
		}
		p.State = PageDeclined
		if p.Step == e.Step && e.Active() {
			moveOn = true
		}
	}
	return moveOn
}

// Declined reports whether user declined a page of this escalation; they
// are skipped for the rest of it (a new page reaches them again).
func (e *Escalation) Declined(user string) bool {
	if user == "" {
		return false
	}
	for _, p := range e.Pages {
		if p.User.ID == user && p.State == PageDeclined {
			return true
		}
	}
	return false
}

// Cancel stops the escalation at now; it reports false if it was not active.
func (e *Escalation) Cancel(now time.Time) bool {
	if !e.Active() {
		return false
	}
	e.State, e.Ended, e.Due = EscalationCancelled, now, time.Time{}
	return true
}

// Tried returns the people and providers paged, each once, in order.
func (e *Escalation) Tried() []Page {
	var out []Page
	seen := map[string]bool{}
	for _, p := range e.Pages {
		key := string(p.Target) + "/" + p.User.ID
		if !seen[key] && p.State != PageSkipped {
			seen[key] = true
			out = append(out, p)
		}
	}
	return out
}

// ActiveEscalations returns the escalations still paging.
func (inc *Incident) ActiveEscalations() []*Escalation { return inc.Escalations.Active() }

// pagingLines describes every escalation for the postmortem: who was paged
// when, who acknowledged, and how long it took.
func pagingLines(inc *Incident, name func(User) string, md func(string) string) []string {
	var lines []string
	for _, e := range inc.Escalations {
		head := fmt.Sprintf("**%s** %s by %s", FormatTime(e.Started), e.Name(), name(e.By))
		if e.Message != "" {
			head += ": " + md(e.Message)
		}
		switch e.State {
		case EscalationAcknowledged:
			head += fmt.Sprintf(" — acknowledged by %s at %s, %s after paging", name(e.AckedBy), FormatTime(e.AckedAt),
				FormatDuration(e.AckedAt.Sub(e.Started)))
		case EscalationExhausted:
			head += fmt.Sprintf(" — nobody acknowledged (ran out at %s)", FormatTime(e.Ended))
		case EscalationCancelled:
			head += fmt.Sprintf(" — stopped at %s", FormatTime(e.Ended))
		default:
			head += " — still paging"
		}
		for _, p := range e.Pages {
			who := p.Target.Redacted()
			if p.User.ID != "" {
				who = name(p.User)
			}
			if p.Schedule != "" {
				// Who was on call, and whether by an override, is what the
				// review asks of a schedule's page.
				via := "on call for schedule " + p.Schedule
				if p.Override {
					via += ", by an override"
				}
				who += " (" + via + ")"
			}
			line := fmt.Sprintf("\n  - %s level %d", FormatTime(p.At), p.Level+1)
			if p.Round > 0 {
				line += fmt.Sprintf(" (repeat %d)", p.Round)
			}
			line += ": " + who + " — " + string(p.State)
			if p.Error != "" {
				line += " (" + p.Error + ")"
			}
			head += line
		}
		lines = append(lines, head)
	}
	return lines
}
