package incident

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTitle is the longest title kept, in characters. Slack's channel topic and
// header blocks truncate long text; the full text a user typed beyond this is
// kept in the description rather than lost.
const MaxTitle = 200

// User is a Slack user as the domain sees it: an id and the name shown for it.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Role is a responsibility someone holds during an incident.
type Role string

// The roles an incident can have.
const (
	RoleLead   Role = "lead"
	RoleComms  Role = "comms"
	RoleScribe Role = "scribe"
)

// Incident is one incident: what is known about it now. Its timeline is kept
// apart because it can grow to many thousands of entries.
type Incident struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Severity    Severity `json:"severity"`
	Status      Status   `json:"status"`
	Private     bool     `json:"private,omitempty"`

	ChannelID   string `json:"channel_id,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
	// SummaryTS is the timestamp of the pinned summary message in the channel.
	SummaryTS string `json:"summary_ts,omitempty"`
	// Topic is the channel topic as the bot last set it. Slack posts a
	// line in the channel for every conversations.setTopic, so the topic
	// is only set when its text changes.
	Topic string `json:"topic,omitempty"`

	DeclaredBy User          `json:"declared_by"`
	Roles      map[Role]User `json:"roles,omitempty"`

	Times KeyTimes `json:"times"`
	// SeverityLog records every severity the incident has had, oldest first,
	// for peak severity and time at each severity.
	SeverityLog []SeverityChange `json:"severity_log,omitempty"`

	Services       []string `json:"services,omitempty"`
	ResolutionNote string   `json:"resolution_note,omitempty"`

	// Updates are the customer-facing status updates posted, oldest first.
	Updates []StatusUpdate `json:"updates,omitempty"`
	// Drafts are update previews waiting for Post, Edit or Cancel.
	Drafts []UpdateDraft `json:"drafts,omitempty"`
	// FollowUps are actions captured during the incident for afterwards.
	FollowUps []FollowUp `json:"follow_ups,omitempty"`
	// CustomerChannels also receive posted status updates.
	CustomerChannels []string `json:"customer_channels,omitempty"`
	// Reminder counts what happened since the last update reminder was
	// scheduled; a timer carrying an older value is stale and does nothing.
	Reminder int `json:"reminder,omitempty"`
	// Escalations are the runs of paging, oldest first.
	// Alert is the alert it was declared from, 0 if none.
	Alert       int64       `json:"alert,omitempty"`
	Escalations Escalations `json:"escalations,omitempty"`
	// Members are the people in the channel, as far as the bot has seen.
	Members Members `json:"members,omitzero"`
}

// SeverityChange is one entry in an incident's severity history.
type SeverityChange struct {
	At       time.Time `json:"at"`
	Severity Severity  `json:"severity"`
	By       User      `json:"by"`
}

// Ref returns the incident's reference, e.g. "INC-42".
func (inc *Incident) Ref() string { return Ref(inc.ID) }

// Ref formats an incident number as its reference, e.g. "INC-42".
func Ref(id int64) string { return "INC-" + strconv.FormatInt(id, 10) }

// ParseRef reads "INC-42", "inc-42", "#42" or "42".
func ParseRef(text string) (int64, error) {
	t := strings.TrimSpace(text)
	for _, p := range []string{"INC-", "inc-", "Inc-", "#"} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			t = rest
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, Invalid(fmt.Sprintf("%q is not an incident reference.", text), "Use the form INC-42.")
	}
	return n, nil
}

// Open reports whether the incident is not resolved.
func (inc *Incident) Open() bool { return inc.Status != Resolved }

// Lead returns the incident lead: the lead role, or whoever declared it.
func (inc *Incident) Lead() User {
	if u, ok := inc.Roles[RoleLead]; ok {
		return u
	}
	return inc.DeclaredBy
}

// PeakSeverity returns the worst severity the incident has had.
func (inc *Incident) PeakSeverity() Severity {
	peak := inc.Severity
	for _, c := range inc.SeverityLog {
		if c.Severity.WorseThan(peak) {
			peak = c.Severity
		}
	}
	return peak
}

// Declaration is what a user gives to open an incident.
type Declaration struct {
	Title       string
	Description string
	Severity    Severity
	Private     bool
	Services    []string
	By          User
	At          time.Time
}

// Validate checks a declaration and normalises it: trims the title, applies
// the default severity, and moves an over-long title's tail into the
// description so that nothing typed is lost.
func (d *Declaration) Validate() error {
	d.Title = strings.Join(strings.Fields(d.Title), " ")
	if d.Title == "" {
		return Invalid("An incident needs a title.", "Type /incident declare sev2 Checkout is failing for EU customers")
	}
	if d.Severity == 0 {
		d.Severity = DefaultSeverity
	}
	if !d.Severity.Valid() {
		return Invalid(fmt.Sprintf("%d is not a severity.", int(d.Severity)), "Use sev1, sev2, sev3 or sev4.")
	}
	if utf8.RuneCountInString(d.Title) > MaxTitle {
		runes := []rune(d.Title)
		rest := string(runes[MaxTitle-1:])
		d.Title = string(runes[:MaxTitle-1]) + "…"
		d.Description = strings.TrimSpace("…" + rest + "\n\n" + d.Description)
	}
	if d.By.ID == "" {
		return fmt.Errorf("declaration without a declarer: %w", ErrInvalidInput)
	}
	return nil
}

// New opens incident id from a validated declaration.
func New(id int64, d Declaration) *Incident {
	return &Incident{
		ID:          id,
		Title:       d.Title,
		Description: d.Description,
		Severity:    d.Severity,
		Status:      Investigating,
		Private:     d.Private,
		DeclaredBy:  d.By,
		Roles:       map[Role]User{RoleLead: d.By},
		Times:       KeyTimes{Declared: d.At},
		SeverityLog: []SeverityChange{{At: d.At, Severity: d.Severity, By: d.By}},
		Services:    d.Services,
	}
}

// Resolve marks the incident resolved at the given time with an optional note.
func (inc *Incident) Resolve(at time.Time, note string) error {
	if inc.Status == Resolved {
		return Problemf(ErrResolved, "%s was already resolved at %s", inc.Ref(), FormatTime(inc.Times.Resolved))
	}
	inc.Status = Resolved
	inc.Times.Resolved = at
	if note = strings.TrimSpace(note); note != "" {
		inc.ResolutionNote = note
	}
	return nil
}
