package incident

import (
	"cmp"
	"slices"
	"time"
)

// EntryKind says where a timeline entry came from.
type EntryKind string

// The kinds of timeline entry.
const (
	// KindMessage is a chat message someone added with a timeline reaction.
	KindMessage EntryKind = "message"
	// KindNote is a line written with /incident note or the TL: prefix.
	KindNote EntryKind = "note"
	// KindEvent is something the bot did or recorded: declared, status changed, …
	KindEvent EntryKind = "event"
)

// Entry is one line of an incident's timeline.
type Entry struct {
	// Seq is assigned by the store and orders entries recorded at the same time.
	Seq uint64 `json:"seq"`
	// At is when it happened: a message's own timestamp, or the time a
	// backdated note names; not when it was recorded.
	At   time.Time `json:"at"`
	Kind EntryKind `json:"kind"`
	// Event names a bot event, e.g. "declared", "status", "resolved".
	Event  string `json:"event,omitempty"`
	Author User   `json:"author"`
	Text   string `json:"text"`
	Link   string `json:"link,omitempty"`
	Files  []Link `json:"files,omitempty"`
	// Source identifies a captured chat message ("C123/1692269160.000100"):
	// the key that keeps it on the timeline once however often it is pinned.
	Source string `json:"source,omitempty"`
	// PinnedBy lists who holds the entry on the timeline ("U123:pushpin");
	// when the last one removes their reaction, the entry goes.
	PinnedBy []string `json:"pinned_by,omitempty"`
	// Pending is true while the captured message is still being fetched.
	Pending bool `json:"pending,omitempty"`
	// History keeps earlier texts of an edited message, oldest first.
	History []Revision `json:"history,omitempty"`
	// Deleted marks a captured message deleted in Slack: kept for the record,
	// left out of the postmortem.
	Deleted    bool      `json:"deleted,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Link is a titled URL, e.g. a file attached to a message.
type Link struct {
	Title string `json:"title,omitempty"`
	URL   string `json:"url"`
}

// Revision is an earlier text of an edited entry.
type Revision struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// SortTimeline orders entries by when they happened, then by when they were
// recorded, so backdated notes land in their place.
func SortTimeline(entries []Entry) {
	slices.SortStableFunc(entries, func(a, b Entry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}

// Pin records that pinner (a "user:emoji" key) holds the entry on the
// timeline. It reports whether that is new.
func (e *Entry) Pin(pinner string) bool {
	if slices.Contains(e.PinnedBy, pinner) {
		return false
	}
	e.PinnedBy = append(e.PinnedBy, pinner)
	return true
}

// Unpin removes pinner and reports whether anyone still holds the entry.
func (e *Entry) Unpin(pinner string) (stillPinned bool) {
	e.PinnedBy = slices.DeleteFunc(e.PinnedBy, func(p string) bool { return p == pinner })
	return len(e.PinnedBy) > 0
}

// Edit replaces the entry's text, keeping the old text in its history.
// It reports whether anything changed.
func (e *Entry) Edit(at time.Time, text string) bool {
	if text == e.Text {
		return false
	}
	e.History = append(e.History, Revision{At: at, Text: e.Text})
	e.Text = text
	return true
}
