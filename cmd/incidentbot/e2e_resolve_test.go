package main

import (
	"strings"
	"testing"
)

func TestResolveUploadsPostmortemDraft(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Config updates not propagating")
	h.slash(h.alice, ch.ID, "resolve Switched back to the old infrastructure")

	h.ExpectMessage(ch.ID, "INC-1 resolved", "Switched back to the old infrastructure")
	h.ExpectMessage(h.announce, "INC-1 resolved")
	draft := h.ExpectUpload("INC-1-postmortem.md")
	if len(draft.Channels) != 1 || draft.Channels[0] != ch.ID {
		t.Errorf("draft shared to %v, want the incident channel %s", draft.Channels, ch.ID)
	}
	doc := string(draft.Content)
	for _, want := range []string{"# INC-1: Config updates not propagating", "SEV2", "Draft", "Declared", "Resolved",
		"Duration", "Switched back to the old infrastructure", "## Summary", "## Impact", "## Root cause",
		"## Follow-up actions", " UTC"} {
		if !strings.Contains(doc, want) {
			t.Errorf("draft lacks %q:\n%s", want, doc)
		}
	}
	h.waitFor("the summary to show resolved", func() bool {
		for _, m := range h.fake.Messages(ch.ID) {
			if m.Pinned && strings.Contains(string(m.Blocks), "Resolved") {
				return true
			}
		}
		return false
	})

	// Resolving twice says so, and how to reopen.
	ack := h.slash(h.alice, ch.ID, "resolve")
	if !containsAll(ack, "already resolved", "reopen") {
		t.Errorf("second resolve: %s", ack)
	}
}

func TestResolveOutsideIncidentChannel(t *testing.T) {
	h := newHarness(t)
	ack := h.slash(h.alice, h.general, "resolve")
	if !containsAll(ack, "not an incident channel", "/incident list") {
		t.Errorf("resolve in #general: %s", ack)
	}
}
