package incident

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// StatusUpdate is a customer-facing update that was posted.
type StatusUpdate struct {
	At       time.Time `json:"at"`
	Status   Status    `json:"status"`
	Text     string    `json:"text"`
	By       User      `json:"by"`
	Channels []string  `json:"channels,omitempty"`
}

// DraftState is where an update preview stands.
type DraftState string

// The states of an update draft. Only a pending draft can be posted, which
// is what makes Post take effect once however often it is clicked.
const (
	DraftPending   DraftState = "pending"
	DraftPosted    DraftState = "posted"
	DraftCancelled DraftState = "cancelled"
)

// UpdateDraft is an update shown as a preview in the incident channel.
type UpdateDraft struct {
	ID     int        `json:"id"`
	Status Status     `json:"status"`
	Text   string     `json:"text"`
	By     User       `json:"by"`
	At     time.Time  `json:"at"`
	State  DraftState `json:"state"`
	// PreviewTS is the preview message, once posted, so it can be updated.
	PreviewTS string `json:"preview_ts,omitempty"`
}

// AddDraft records a new pending draft and returns it.
func (inc *Incident) AddDraft(status Status, text string, by User, at time.Time) *UpdateDraft {
	id := 1
	if n := len(inc.Drafts); n > 0 {
		id = inc.Drafts[n-1].ID + 1
	}
	inc.Drafts = append(inc.Drafts, UpdateDraft{ID: id, Status: status, Text: text, By: by, At: at, State: DraftPending})
	return &inc.Drafts[len(inc.Drafts)-1]
}

// Draft returns draft id.
func (inc *Incident) Draft(id int) (*UpdateDraft, error) {
	for i := range inc.Drafts {
		if inc.Drafts[i].ID == id {
			return &inc.Drafts[i], nil
		}
	}
	return nil, Problemf(ErrNotFound, "%s has no update draft %d", inc.Ref(), id)
}

// PostDraft publishes a pending draft: it becomes an update and the
// incident's status follows it. posted is false when the draft was already
// posted or cancelled (a second click, a redelivery): nothing changes.
func (inc *Incident) PostDraft(id int, by User, at time.Time, channels []string) (posted bool, err error) {
	d, err := inc.Draft(id)
	if err != nil || d.State != DraftPending {
		return false, err
	}
	switch {
	case d.Status == inc.Status:
	case d.Status == Resolved:
		if err := inc.Resolve(at, ""); err != nil {
			return false, err
		}
	case inc.Status == Resolved:
		if err := inc.Reopen(); err != nil {
			return false, err
		}
		if d.Status != Investigating {
			if err := inc.SetStatus(d.Status, at); err != nil {
				return false, err
			}
		}
	default:
		if err := inc.SetStatus(d.Status, at); err != nil {
			return false, fmt.Errorf("this update says %s: %w", d.Status, err)
		}
	}
	d.State = DraftPosted
	inc.Updates = append(inc.Updates, StatusUpdate{At: at, Status: d.Status, Text: d.Text, By: by, Channels: channels})
	inc.Reminder++
	return true, nil
}

// CancelDraft drops a pending draft; it reports false if it was not pending.
func (inc *Incident) CancelDraft(id int) (bool, error) {
	d, err := inc.Draft(id)
	if err != nil || d.State != DraftPending {
		return false, err
	}
	d.State = DraftCancelled
	return true, nil
}

// LastUpdate is when the last update was posted, or the declaration.
func (inc *Incident) LastUpdate() time.Time {
	if n := len(inc.Updates); n > 0 {
		return inc.Updates[n-1].At
	}
	return inc.Times.Declared
}

// Horizon groups follow-up actions the way published reports do.
type Horizon string

// The horizons of follow-up actions.
const (
	ShortTerm Horizon = "short-term"
	MidTerm   Horizon = "mid-term"
	Future    Horizon = "future"
	// Unsorted is a follow-up whose text named no horizon.
	Unsorted Horizon = ""
)

// FollowUp is an action to take after the incident.
type FollowUp struct {
	Text    string    `json:"text"`
	Owner   User      `json:"owner,omitempty"`
	Horizon Horizon   `json:"horizon,omitempty"`
	By      User      `json:"by"`
	At      time.Time `json:"at"`
	// Source is the message it came from, when captured by reaction.
	Source string `json:"source,omitempty"`
}

var horizonWords = []struct {
	re *regexp.Regexp
	h  Horizon
}{
	{regexp.MustCompile(`(?i)^\s*\[?(short[- ]?term|now|immediate)\]?\s*[:\-–]?\s*`), ShortTerm},
	{regexp.MustCompile(`(?i)^\s*\[?(mid[- ]?term|medium[- ]?term|next)\]?\s*[:\-–]?\s*`), MidTerm},
	{regexp.MustCompile(`(?i)^\s*\[?(future|long[- ]?term|later)\]?\s*[:\-–]?\s*`), Future},
}

// ParseHorizon reads a leading horizon from a follow-up's text
// ("short-term: add an expiry alert") and returns the rest.
func ParseHorizon(text string) (Horizon, string) {
	for _, w := range horizonWords {
		if loc := w.re.FindStringIndex(text); loc != nil {
			return w.h, strings.TrimSpace(text[loc[1]:])
		}
	}
	return Unsorted, strings.TrimSpace(text)
}

// AddFollowUp records a follow-up; a second capture of the same message
// (Source) is ignored and reported false.
func (inc *Incident) AddFollowUp(f FollowUp) bool {
	if f.Source != "" {
		for _, x := range inc.FollowUps {
			if x.Source == f.Source {
				return false
			}
		}
	}
	inc.FollowUps = append(inc.FollowUps, f)
	return true
}

// AddServices records affected services, keeping order and dropping repeats.
func (inc *Incident) AddServices(services ...string) (added []string) {
	for _, s := range services {
		s = strings.TrimSpace(strings.Trim(s, ","))
		if s == "" {
			continue
		}
		dup := false
		for _, x := range inc.Services {
			if strings.EqualFold(x, s) {
				dup = true
			}
		}
		if !dup {
			inc.Services = append(inc.Services, s)
			added = append(added, s)
		}
	}
	return added
}
