package main

// Who sees and who may change what: private incidents, the list, the bare
// command, INCIDENTBOT_RESPONDERS, and payloads from another workspace.

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

func TestLifecycleListAndPrivateIncidents(t *testing.T) {
	h := newHarness(t)
	pub := h.declared(1, "declare sev2 Public outage")
	h.slash(h.alice, h.general, "declare --private sev2 Payroll export leaking")
	priv := h.incidentChannel(2)
	h.ExpectMessage(priv.ID, "INC-2")
	if !priv.IsPrivate {
		t.Errorf("channel %s of a --private incident is public", priv.Name)
	}
	h.idle()
	if c, _ := h.fake.Channel(priv.ID); strings.Contains(strings.Join(c.Members, ","), h.bob) {
		t.Errorf("bob was put in the private channel")
	}
	for _, m := range h.fake.Messages(h.announce) {
		if strings.Contains(m.Text+string(m.Blocks), "INC-2") || strings.Contains(m.Text, "Payroll") {
			t.Errorf("the private incident was announced: %q", m.Text)
		}
	}

	out := ackText(h.slash(h.bob, h.general, "list"))
	if !containsAll(out, "INC-1", "Public outage", "<#"+pub.ID+">", "SEV2", "Investigating") {
		t.Errorf("bob's list lacks INC-1:\n%s", out)
	}
	if strings.Contains(out, "INC-2") || strings.Contains(out, "Payroll") || strings.Contains(out, priv.ID) {
		t.Errorf("bob, not part of the private incident, sees it:\n%s", out)
	}

	out = ackText(h.slash(h.alice, h.general, "list"))
	if !containsAll(out, "INC-1", "<#"+pub.ID+">", "INC-2", ":lock:", "<#"+priv.ID+">") {
		t.Errorf("alice, who declared INC-2, should see both:\n%s", out)
	}
	if strings.Index(out, "INC-2") > strings.Index(out, "INC-1") {
		t.Errorf("the list is not newest first:\n%s", out)
	}

	// A role holder is part of it too.
	h.slash(h.alice, priv.ID, "scribe <@"+h.bob+"|bob>")
	h.ExpectMessage(priv.ID, "<@"+h.bob+"> is now Scribe")
	if out := ackText(h.slash(h.bob, h.general, "list")); !containsAll(out, "INC-2", "<#"+priv.ID+">") {
		t.Errorf("bob, now scribe of INC-2, does not see it:\n%s", out)
	}

	// Resolved incidents are not listed.
	h.slash(h.alice, pub.ID, "resolve")
	h.ExpectMessage(pub.ID, "INC-1 resolved")
	if out := ackText(h.slash(h.bob, h.general, "list")); strings.Contains(out, "INC-1") {
		t.Errorf("a resolved incident is still listed:\n%s", out)
	}

	// Nothing about the private incident reaches the announce channel:
	// neither an upgrade nor its resolution.
	h.slash(h.alice, priv.ID, "severity sev1")
	h.ExpectMessage(priv.ID, "Severity changed from SEV2 to *SEV1*")
	h.slash(h.alice, priv.ID, "resolve")
	h.ExpectMessage(priv.ID, "INC-2 resolved")
	h.idle()
	for _, m := range h.fake.Messages(h.announce) {
		if strings.Contains(m.Text+string(m.Blocks), "INC-2") || strings.Contains(m.Text, "Payroll") {
			t.Errorf("the private incident was announced: %q", m.Text)
		}
	}
}

func TestLifecycleBareCommand(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")

	out := ackText(h.slash(h.alice, ch.ID, ""))
	if !containsAll(out, "INC-1", "SEV2", "Checkout failing", "Status *Investigating*", "Key times (UTC)", "Declared: ") {
		t.Errorf("/incident in the incident channel should show its summary:\n%s", out)
	}
	if strings.Contains(out, "/incident declare") {
		t.Errorf("/incident in the incident channel showed the help:\n%s", out)
	}

	out = ackText(h.slash(h.alice, h.general, ""))
	if !containsAll(out, "/incident declare", "/incident list", "/incident note") {
		t.Errorf("/incident outside an incident channel should show the help:\n%s", out)
	}

	// Incident commands outside an incident channel say where to run them.
	for _, text := range []string{"status", "status identified", "severity sev1", "lead <@" + h.bob + "|bob>",
		"started 10:18", "note Rolled back", "timeline", "reopen"} {
		if out := ackText(h.slash(h.alice, h.general, text)); !containsAll(out, ":warning:", "not an incident channel", "/incident list") {
			t.Errorf("%q in #general = %q", text, out)
		}
	}
}

func TestLifecycleRespondersOnly(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Responders = []string{h.alice} })
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.fake.JoinChannel(h.bob, ch.ID)

	for _, text := range []string{"severity sev1", "status identified", "lead <@" + h.bob + "|bob>",
		"started " + time.Now().UTC().Add(-time.Hour).Format("15:04"), "status resolved", "resolve Bob closed it"} {
		ack := h.slash(h.bob, ch.ID, text)
		if out := ackText(ack); !containsAll(out, ":warning:", "<@"+h.alice+">", "INCIDENTBOT_RESPONDERS") ||
			!strings.Contains(ack, `"ephemeral"`) {
			t.Errorf("bob's %q = %s, want an ephemeral refusal naming who may (alice)", text, ack)
		}
	}
	h.idle()
	if inc := h.storedIncident(1); inc.Severity != incident.Sev2 || inc.Status != incident.Investigating || inc.Lead().ID != h.alice ||
		!inc.Times.Started.IsZero() {
		t.Errorf("bob's refused commands changed the incident: %s %s lead %s started %s",
			inc.Severity.Label(), inc.Status, inc.Lead().ID, inc.Times.Started)
	}
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "changed from") || strings.Contains(m.Text, "is now Lead") || strings.Contains(m.Text, "resolved") {
			t.Errorf("a refused change was posted: %q", m.Text)
		}
	}

	// Reading is not changing: bob may still look.
	if out := ackText(h.slash(h.bob, ch.ID, "status")); !strings.Contains(out, "Key times (UTC)") {
		t.Errorf("bob's /incident status = %q", out)
	}

	h.slash(h.alice, ch.ID, "severity sev1")
	h.ExpectMessage(ch.ID, "Severity changed from SEV2 to *SEV1*", "<@"+h.alice+">")
	if inc := h.storedIncident(1); inc.Severity != incident.Sev1 {
		t.Errorf("alice's change did not apply: %s", inc.Severity.Label())
	}
}

// A payload from another workspace is acked (so Slack stops redelivering it)
// but never applied: no incident, no channel.
func TestPayloadFromAnotherTeamIsRefused(t *testing.T) {
	h := newHarness(t)
	h.fake.SendRaw([]byte(`{"envelope_id":"foreign-1","type":"slash_commands","accepts_response_payload":true,` +
		`"payload":{"token":"x","team_id":"T0OTHERTEAM","team_domain":"evil","channel_id":"` + h.general +
		`","user_id":"` + h.alice + `","command":"/incident","text":"declare sev1 Not ours","trigger_id":"1.2.foreign",` +
		`"response_url":"` + h.fake.URL() + `/hooks/foreign"}}`))
	h.declared(1, "declare sev2 Ours")
	h.idle()
	h.view(func(tx *store.Tx) error {
		all, err := tx.Incidents()
		if len(all) != 1 || all[0].Title != "Ours" {
			t.Errorf("incidents after a foreign payload: %d (want only ours)", len(all))
		}
		return err
	})
	if n := len(h.fake.Calls("conversations.create")); n != 1 {
		t.Errorf("conversations.create called %d times, want 1", n)
	}
}
