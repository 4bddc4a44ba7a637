package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// withStatusChannel adds a #status-page channel the bot posts updates to.
func withStatusChannel(h *harness) {
	h.cfg.StatusChannel = h.fake.AddChannel("status-page", false, h.alice, h.fake.BotUserID())
}

// updatePreview waits for the newest pending update preview in channel.
func (h *harness) updatePreview(channel string) slackfake.Message {
	h.t.Helper()
	var found slackfake.Message
	h.waitFor("an update preview", func() bool {
		msgs := h.fake.Messages(channel)
		for i := len(msgs) - 1; i >= 0; i-- {
			if strings.Contains(string(msgs[i].Blocks), `"update_post"`) {
				found = msgs[i]
				return true
			}
		}
		return false
	})
	return found
}

func TestUpdateTemplatesForEachStatus(t *testing.T) {
	tests := []struct {
		status string
		want   string
	}{
		{"investigating", "We are currently investigating an issue affecting Dashboard and User API"},
		{"identified", "We have identified the cause of the issue affecting Dashboard and User API"},
		{"monitoring", "A fix has been implemented and we are monitoring the results"},
		{"resolved", "This incident has been resolved and Dashboard and User API are working as expected again"},
	}
	for _, tc := range tests {
		t.Run(tc.status, func(t *testing.T) {
			h := newHarness(t, withStatusChannel)
			ch := h.declared(1, "declare sev2 Domain expired")
			h.slash(h.alice, ch.ID, "impact Dashboard, User API")
			h.slash(h.alice, ch.ID, "update "+tc.status+" Our registrar confirmed the renewal.")
			p := h.updatePreview(ch.ID)
			for _, part := range []string{tc.want, "Our registrar confirmed the renewal.", "update_edit", "update_cancel"} {
				if !strings.Contains(p.Text+string(p.Blocks), part) {
					t.Errorf("preview lacks %q:\n%s", part, p.Blocks)
				}
			}
			if n := len(botMessages(h.fake, h.cfg.StatusChannel, "")); n != 0 {
				t.Errorf("%d posts in the status channel before Post was clicked", n)
			}
		})
	}
}

func TestUpdatePreviewEditPostOnce(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	ch := h.declared(1, "declare sev2 Domain expired")
	h.slash(h.alice, ch.ID, "update identified First wording")
	p := h.updatePreview(ch.ID)

	// Edit opens a form with the text; saving it changes the preview.
	h.click(h.alice, ch.ID, p.TS, "update_edit")
	var view slackfake.View
	h.waitFor("the edit form", func() bool {
		for _, v := range h.fake.Views() {
			if v.CallbackID == "update_edit" && !v.Closed {
				view = v
				return true
			}
		}
		return false
	})
	if !strings.Contains(string(view.JSON), "First wording") {
		t.Errorf("the edit form does not hold the draft's text:\n%s", view.JSON)
	}
	h.submit(h.alice, view.ID, map[string]map[string]string{"text": {"text": "Second wording & more"}})
	h.waitMessageAt(ch.ID, p.TS, "the preview to show the edit", func(m slackfake.Message) bool {
		return strings.Contains(string(m.Blocks), "Second wording")
	})

	// Two clicks and a redelivered click post once.
	// (Two people click before the preview loses its buttons.)
	first := h.fake.ClickButton(h.alice, ch.ID, p.TS, "update_post")
	second := h.fake.ClickButton(h.bob, ch.ID, p.TS, "update_post")
	h.waitAck(first)
	h.waitAck(second)
	h.waitAck(h.fake.Redeliver(first))
	h.idle()
	posts := botMessages(h.fake, h.cfg.StatusChannel, "")
	if len(posts) != 1 {
		t.Fatalf("%d posts in the status channel after two clicks and a redelivery, want 1", len(posts))
	}
	if !strings.Contains(posts[0].Text, "Second wording & more") && !strings.Contains(posts[0].Text, "Second wording &amp; more") {
		t.Errorf("posted text = %q, want the edited wording", posts[0].Text)
	}
	m, _ := h.fake.Message(ch.ID, p.TS)
	if strings.Contains(string(m.Blocks), "update_post") || !strings.Contains(string(m.Blocks), "posted") {
		t.Errorf("the preview still offers Post after posting:\n%s", m.Blocks)
	}
	h.view(func(tx *store.Tx) error {
		inc, err := tx.Incident(1)
		if err != nil {
			return err
		}
		if inc.Status != incident.Identified || len(inc.Updates) != 1 {
			t.Errorf("status %s with %d updates, want identified with 1", inc.Status, len(inc.Updates))
		}
		entries, err := tx.Timeline(1)
		found := false
		for _, e := range entries {
			found = found || e.Event == "update"
		}
		if !found {
			t.Error("the posted update is not on the timeline")
		}
		return err
	})
}

func TestUpdateCancelPostsNothing(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	ch := h.declared(1, "declare sev2 Domain expired")
	h.slash(h.alice, ch.ID, "update investigating")
	p := h.updatePreview(ch.ID)
	h.click(h.alice, ch.ID, p.TS, "update_cancel")
	h.waitMessageAt(ch.ID, p.TS, "the preview to lose its buttons", func(m slackfake.Message) bool {
		return !strings.Contains(string(m.Blocks), "update_post") && strings.Contains(string(m.Blocks), "cancelled")
	})
	h.idle()
	if n := len(botMessages(h.fake, h.cfg.StatusChannel, "")); n != 0 {
		t.Errorf("%d posts after Cancel, want 0", n)
	}
}

func TestResolvedUpdateResolvesAndUploadsEverySection(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	ch := h.declared(1, "declare sev1 Domain expired")
	h.slash(h.alice, ch.ID, "impact Dashboard, User API")
	h.slash(h.alice, ch.ID, "followup short-term: alert on expiring domains <@"+h.bob+"|bob>")
	ts := h.fake.PostMessage(h.alice, ch.ID, "future: audit on-call access to every service")
	h.joined(h.bob, ch.ID) // reactions count from people in the channel
	h.fake.AddReaction(h.bob, ch.ID, ts, "memo")
	h.ExpectMessage(ch.ID) // let the reaction land
	h.waitMessageAt(ch.ID, ts, "the memo follow-up", func(m slackfake.Message) bool {
		return len(m.Reactions["white_check_mark"]) > 0
	})
	h.slash(h.alice, ch.ID, "update identified Renewal payment failed.")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.idle()
	h.slash(h.alice, ch.ID, "update resolved All services work again.")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	doc := string(h.ExpectUpload("INC-1-postmortem.md").Content)
	for _, part := range []string{"## Summary", "## Impact", "## Key times", "## Timeline", "## Responders and paging",
		"## Customer communication", "## Root cause", "## Resolution", "## Lessons learned", "## Follow-up actions",
		"Dashboard, User API", "Renewal payment failed.", "All services work again.",
		"**Short-term**", "alert on expiring domains — owner: bob", "**Future**", "audit on-call access"} {
		if !strings.Contains(doc, part) {
			t.Errorf("the draft lacks %q:\n%s", part, doc)
		}
	}
	h.view(func(tx *store.Tx) error {
		inc, err := tx.Incident(1)
		if err == nil && inc.Status != incident.Resolved {
			t.Errorf("status after a posted resolved update = %s", inc.Status)
		}
		return err
	})
	// /incident postmortem uploads a regenerated draft.
	h.slash(h.alice, ch.ID, "postmortem")
	h.waitFor("a second upload", func() bool {
		n := 0
		for _, f := range h.fake.Files() {
			if f.Name == "INC-1-postmortem.md" {
				n++
			}
		}
		return n == 2
	})
}

func TestUpdateTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "update-investigating.tmpl"),
		[]byte("ACME STATUS: looking into {{.Title}}. {{.Message}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withStatusChannel, func(h *harness) { h.cfg.TemplatesDir = dir })
	ch := h.declared(1, "declare sev2 Search slow")
	h.slash(h.alice, ch.ID, "update investigating More soon.")
	if p := h.updatePreview(ch.ID); !strings.Contains(string(p.Blocks), "ACME STATUS: looking into Search slow. More soon.") {
		t.Errorf("the override was not used:\n%s", p.Blocks)
	}
}

func TestUpdateNeverPingsEveryone(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	ch := h.declared(1, "declare sev2 <!channel> outage")
	h.slash(h.alice, ch.ID, "update investigating <!here> <!everyone> @channel heads up")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.idle()
	live := regexp.MustCompile(`<!(channel|here|everyone)|(?i)@(channel|here|everyone)\b`)
	for _, c := range []string{ch.ID, h.cfg.StatusChannel, h.announce} {
		for _, m := range h.fake.Messages(c) {
			if m.BotID != "" && live.MatchString(m.Text+string(m.Blocks)) {
				t.Errorf("the bot posted a live special mention in %s: %q", c, m.Text)
			}
		}
	}
	if len(botMessages(h.fake, h.cfg.StatusChannel, "")) != 1 {
		t.Errorf("the update was not posted")
	}
}

func TestUpdateReminderFiresSnoozesAndResets(t *testing.T) {
	h := newHarness(t, withStatusChannel, withSimClock, func(h *harness) { h.cfg.UpdateEvery = 30 * time.Minute })
	ch := h.declared(1, "declare sev2 Domain expired")
	reminders := func() int {
		n := 0
		for _, m := range h.fake.Messages(ch.ID) {
			if strings.Contains(string(m.Blocks), "update_snooze") {
				n++
			}
		}
		return n
	}
	h.FastForward(29 * time.Minute)
	if n := reminders(); n != 0 {
		t.Fatalf("%d reminders before 30 minutes passed", n)
	}
	h.FastForward(2 * time.Minute)
	h.waitFor("a reminder", func() bool { return reminders() == 1 })
	var nudge slackfake.Message
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(string(m.Blocks), "update_snooze") {
			nudge = m
		}
	}
	if !strings.Contains(nudge.Text, "No customer update") {
		t.Errorf("reminder text = %q", nudge.Text)
	}
	// Snooze: on the timeline, and quiet for 15 minutes.
	h.click(h.alice, ch.ID, nudge.TS, "update_snooze")
	h.idle()
	h.FastForward(10 * time.Minute)
	if n := reminders(); n != 1 {
		t.Errorf("%d reminders 10 minutes into a 15-minute snooze, want 1", n)
	}
	h.FastForward(6 * time.Minute)
	h.waitFor("the reminder after the snooze", func() bool { return reminders() == 2 })
	// Posting an update resets the clock.
	h.slash(h.alice, ch.ID, "update investigating Still on it.")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.idle()
	h.FastForward(20 * time.Minute)
	if n := reminders(); n != 2 {
		t.Errorf("%d reminders 20 minutes after an update, want still 2", n)
	}
	h.view(func(tx *store.Tx) error {
		entries, err := tx.Timeline(1)
		snoozed := false
		for _, e := range entries {
			snoozed = snoozed || e.Event == "reminder" && strings.Contains(e.Text, "snoozed")
		}
		if !snoozed {
			t.Error("the snooze is not on the timeline")
		}
		return err
	})
}
