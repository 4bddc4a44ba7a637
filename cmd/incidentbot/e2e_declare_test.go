package main

import (
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

func TestDeclareFromText(t *testing.T) {
	h := newHarness(t)
	ack := h.slash(h.alice, h.general, "declare sev2 Config updates not propagating to FRA")
	if !containsAll(ack, "INC-1", "SEV2", "Config updates not propagating to FRA") {
		t.Fatalf("ack should confirm the declaration, got %s", ack)
	}
	ch := h.incidentChannel(1)
	if ch.Name != "inc-1-config-updates-not-propagating-to-fra" {
		t.Errorf("channel name = %q", ch.Name)
	}
	h.waitFor("alice to be invited", func() bool {
		c, _ := h.fake.Channel(ch.ID)
		return strings.Contains(strings.Join(c.Members, ","), h.alice)
	})
	summary := h.ExpectMessage(ch.ID, "INC-1", "SEV2", "Investigating")
	h.waitMessageAt(ch.ID, summary.TS, "the summary to be pinned", func(m slackfake.Message) bool { return m.Pinned })
	h.ExpectMessage(h.announce, "INC-1 declared", "SEV2", "<#"+ch.ID+">")
	h.ExpectEphemeral(h.alice, "INC-1 is open", "<#"+ch.ID+">")
	h.waitFor("the topic", func() bool {
		c, _ := h.fake.Channel(ch.ID)
		return strings.Contains(c.Topic, "SEV2") && strings.Contains(c.Topic, "Investigating")
	})
}

func TestDeclareWithoutTitleOpensModal(t *testing.T) {
	h := newHarness(t)
	h.slash(h.alice, h.general, "declare")
	h.waitFor("the declare modal", func() bool { return len(h.fake.Views()) == 1 })
	view := h.fake.Views()[0]

	// An empty title is refused inline, next to the field; nothing is declared.
	ack := h.submit(h.alice, view.ID, map[string]map[string]string{
		"title": {"title": "   "}, "severity": {"severity": "sev1"}})
	if !containsAll(ack, `"response_action":"errors"`, `"title"`, "needs a title") {
		t.Fatalf("empty title should be refused inline, ack = %s", ack)
	}

	if ack := h.submit(h.alice, view.ID, map[string]map[string]string{
		"title": {"title": "Checkout <failing> & slow"}, "severity": {"severity": "sev1"},
		"description": {"description": "EU customers get 502s"}}); ack != "" && ack != "null" {
		t.Fatalf("a valid form should close the modal (empty ack), got %s", ack)
	}
	ch := h.incidentChannel(1)
	if ch.Name != "inc-1-checkout-failing-slow" {
		t.Errorf("channel = %q", ch.Name)
	}
	h.ExpectMessage(ch.ID, "SEV1", "Checkout &lt;failing&gt; &amp; slow", "EU customers get 502s")
	// The declarer hears where to go by DM, since a form has no response_url.
	h.ExpectDM(h.alice, "INC-1 is open", "<#"+ch.ID+">")
}

func TestDeclareRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ name, text, want string }{
		{"bad severity", "declare sev5 Everything is down", "sev1, sev2, sev3 or sev4"},
		{"unknown option", "declare --public DB down", "--private"},
		{"unknown subcommand", "delcare sev1 DB down", "don't know the command"},
		{"help", "", "/incident declare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := h.slash(h.alice, h.general, tc.text)
			if !strings.Contains(ack, tc.want) || !strings.Contains(ack, "ephemeral") {
				t.Errorf("reply to %q = %s, want an ephemeral containing %q", tc.text, ack, tc.want)
			}
		})
	}
	h.idle()
	if n := len(h.fake.Calls("conversations.create")); n != 0 {
		t.Errorf("bad input created %d channels", n)
	}
}

func TestChannelNameTakenPicksAnother(t *testing.T) {
	h := newHarness(t)
	h.fake.AddChannel("inc-1-database-down", false, h.bob)
	h.slash(h.alice, h.general, "declare Database down")
	ch := h.incidentChannel(1)
	h.waitFor("the incident channel", func() bool {
		c, ok := h.fake.ChannelByName("inc-1-database-down-2")
		return ok && c.Creator == h.fake.BotUserID()
	})
	_ = ch
}

func TestPrivateIncidentIsNotAnnounced(t *testing.T) {
	h := newHarness(t)
	h.slash(h.alice, h.general, "declare --private sev2 Payroll export leaking data")
	ch := h.incidentChannel(1)
	if !ch.IsPrivate {
		t.Errorf("channel %s should be private", ch.Name)
	}
	h.ExpectMessage(ch.ID, "INC-1")
	h.idle()
	for _, m := range h.fake.Messages(h.announce) {
		if strings.Contains(m.Text, "INC-1") {
			t.Errorf("private incident announced: %q", m.Text)
		}
	}
}
