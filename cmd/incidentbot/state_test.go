package main

// Reading the bot's database while it runs: incidents and their timelines.

import (
	"strings"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// view reads the database while the bot runs.
func (h *harness) view(fn func(*store.Tx) error) {
	h.t.Helper()
	if err := h.app.db.View(fn); err != nil {
		h.t.Fatalf("read database: %v", err)
	}
}

// storedIncident reads incident id from the database.
func (h *harness) storedIncident(id int64) *incident.Incident {
	h.t.Helper()
	var inc *incident.Incident
	h.view(func(tx *store.Tx) error {
		var err error
		inc, err = tx.Incident(id)
		return err
	})
	return inc
}

// timeline returns incident id's timeline as stored.
func (h *harness) timeline(id int64) []incident.Entry {
	h.t.Helper()
	var out []incident.Entry
	h.view(func(tx *store.Tx) error {
		var err error
		out, err = tx.Timeline(id)
		return err
	})
	return out
}

// timelineEntry returns the entry captured from the message at channel/ts.
func (h *harness) timelineEntry(id int64, channel, ts string) (incident.Entry, bool) {
	h.t.Helper()
	for _, e := range h.timeline(id) {
		if e.Source == channel+"/"+ts {
			return e, true
		}
	}
	return incident.Entry{}, false
}

// timelineNote returns the note entry with exactly this text.
func (h *harness) timelineNote(id int64, text string) (incident.Entry, bool) {
	h.t.Helper()
	for _, e := range h.timeline(id) {
		if e.Kind == incident.KindNote && e.Text == text {
			return e, true
		}
	}
	return incident.Entry{}, false
}

// waitEntry waits for the entry captured from channel/ts to satisfy cond.
func (h *harness) waitEntry(id int64, channel, ts, what string, cond func(incident.Entry) bool) incident.Entry {
	h.t.Helper()
	var e incident.Entry
	h.waitFor(what, func() bool {
		var ok bool
		e, ok = h.timelineEntry(id, channel, ts)
		return ok && cond(e)
	})
	return e
}

// hasEvent reports whether incident id's timeline has a bot event of this
// kind whose text contains text.
func (h *harness) hasEvent(id int64, event, text string) bool {
	h.t.Helper()
	for _, e := range h.timeline(id) {
		if e.Kind == incident.KindEvent && e.Event == event && strings.Contains(e.Text, text) {
			return true
		}
	}
	return false
}

// countEvents counts incident id's timeline events of a kind.
func (h *harness) countEvents(id int64, event string) int {
	h.t.Helper()
	n := 0
	for _, e := range h.timeline(id) {
		if e.Kind == incident.KindEvent && e.Event == event {
			n++
		}
	}
	return n
}

// countText counts incident id's entries with exactly this text.
func (h *harness) countText(id int64, text string) int {
	h.t.Helper()
	n := 0
	for _, e := range h.timeline(id) {
		if e.Text == text {
			n++
		}
	}
	return n
}

// summaryTS waits for incident id's summary to be posted and pinned, and
// returns its ts.
func (h *harness) summaryTS(id int64) string {
	h.t.Helper()
	var ts string
	h.waitFor("the pinned summary", func() bool {
		inc := h.storedIncident(id)
		if inc.SummaryTS == "" {
			return false
		}
		m, ok := h.fake.Message(inc.ChannelID, inc.SummaryTS)
		ts = inc.SummaryTS
		return ok && m.Pinned
	})
	return ts
}
