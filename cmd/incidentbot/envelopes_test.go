package main

// What the fake delivered to the bot over Socket Mode, and what it acked.

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// envelope is the part of an envelope frame the tests look at.
type envelope struct {
	Payload struct {
		Text  string `json:"text"` // slash commands
		Event struct {
			Type string `json:"type"`
			User string `json:"user"`
			Text string `json:"text"`
			TS   string `json:"ts"`
			Item struct {
				Channel string `json:"channel"`
				TS      string `json:"ts"`
			} `json:"item"`
			Reaction string `json:"reaction"`
		} `json:"event"`
	} `json:"payload"`
}

func decodeEnvelope(t testing.TB, e slackfake.EnvelopeInfo) envelope {
	t.Helper()
	var d envelope
	if err := json.Unmarshal(e.Frame, &d); err != nil {
		t.Fatalf("envelope %s: %v", e.ID, err)
	}
	return d
}

// eventsAcked reports whether every Events API event the fake created
// (by event_id) has at least one acked delivery, and how many have not.
func eventsAcked(fake *slackfake.Server) (bool, int) {
	acked := map[string]bool{}
	for _, e := range fake.Envelopes() {
		if e.Type == "events_api" {
			acked[e.EventID] = acked[e.EventID] || e.Acked
		}
	}
	missing := 0
	for _, ok := range acked {
		if !ok {
			missing++
		}
	}
	return missing == 0, missing
}

// eventEnvelopes returns the deliveries of events of eventType about the
// message at ts (the item of a reaction, or the message itself).
func eventEnvelopes(t testing.TB, fake *slackfake.Server, eventType, ts string) []slackfake.EnvelopeInfo {
	t.Helper()
	var out []slackfake.EnvelopeInfo
	for _, e := range fake.Envelopes() {
		if e.Type != "events_api" || e.EventType != eventType {
			continue
		}
		d := decodeEnvelope(t, e)
		if d.Payload.Event.Item.TS == ts || d.Payload.Event.TS == ts {
			out = append(out, e)
		}
	}
	return out
}

// envelopes is eventEnvelopes in the harness's workspace.
func (h *harness) envelopes(eventType, ts string) []slackfake.EnvelopeInfo {
	h.t.Helper()
	return eventEnvelopes(h.t, h.fake, eventType, ts)
}

// anyAcked reports whether one of envs was acked.
func anyAcked(envs []slackfake.EnvelopeInfo) bool {
	return slices.ContainsFunc(envs, func(e slackfake.EnvelopeInfo) bool { return e.Acked })
}

// waitProcessed waits until the bot has acked (so committed) every delivery
// of events of eventType about the message at ts.
func (h *harness) waitProcessed(eventType, ts string) {
	h.t.Helper()
	h.waitFor(eventType+" events about "+ts+" to be acked", func() bool {
		envs := h.envelopes(eventType, ts)
		for _, e := range envs {
			if !e.Acked {
				return false
			}
		}
		return len(envs) > 0
	})
}

// slashText is the text Slack sent with a slash command: what the bot got.
func (h *harness) slashText(envelopeID string) string {
	h.t.Helper()
	for _, e := range h.fake.Envelopes() {
		if e.ID == envelopeID {
			return decodeEnvelope(h.t, e).Payload.Text
		}
	}
	h.t.Fatalf("no envelope %s", envelopeID)
	return ""
}
