package main

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

func TestRedeliveredSlashCommandChangesNothing(t *testing.T) {
	h := newHarness(t)
	id := h.fake.SlashCommand(h.alice, h.general, "declare sev2 Database down")
	h.waitAck(id)
	again := h.fake.Redeliver(id)
	h.waitAck(again)
	h.incidentChannel(1)
	h.idle()
	h.view(func(tx *store.Tx) error {
		all, err := tx.Incidents()
		if len(all) != 1 {
			t.Errorf("%d incidents after a redelivery, want 1", len(all))
		}
		return err
	})
	if n := len(h.fake.Calls("conversations.create")); n != 1 {
		t.Errorf("conversations.create called %d times, want 1", n)
	}
}

func TestRateLimitStormIsRidden(t *testing.T) {
	h := newHarness(t)
	// Slack rate-limits every chat.postMessage three times, then 500s twice.
	h.fake.FailNext("chat.postMessage", 3, slackfake.Fault{Status: 429, RetryAfter: time.Second})
	h.fake.FailNext("conversations.create", 2, slackfake.Fault{Status: 500})
	start := time.Now()
	ack := h.slash(h.alice, h.general, "declare sev1 Edge down everywhere")
	if !strings.Contains(ack, "INC-1") {
		t.Fatalf("ack = %s", ack)
	}
	ch := h.incidentChannel(1)
	h.ExpectMessage(ch.ID, "INC-1", "SEV1")
	h.ExpectMessage(h.announce, "INC-1 declared")
	// Retry-After was honoured: the first post came no sooner than Slack asked.
	var posted []slackfake.Call
	for _, c := range h.fake.Calls("chat.postMessage") {
		if c.Status == 200 {
			posted = append(posted, c)
		}
	}
	if len(posted) == 0 || posted[0].Time.Sub(start) < time.Second {
		t.Errorf("a post went through before the Retry-After second had passed")
	}
}

func TestReconnectsAndKeepsWorking(t *testing.T) {
	h := newHarness(t)
	h.fake.Disconnect("refresh_requested")
	h.waitFor("a second connection", func() bool { return h.fake.Connections() >= 2 && h.fake.Connected() })
	h.fake.DropConnections()
	h.waitFor("a third connection", func() bool { return h.fake.Connections() >= 3 && h.fake.Connected() })
	ack := h.slash(h.alice, h.general, "declare sev3 After the reconnects")
	if !strings.Contains(ack, "INC-1") {
		t.Fatalf("ack after reconnect = %s", ack)
	}
	h.incidentChannel(1)
}

func TestRestartResumesAndNumbersContinue(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 First incident")
	// Slack is down when the second incident is declared: the ack still goes
	// out, the work waits in the database across a restart.
	h.fake.FailAll(slackfake.Fault{Status: 503})
	ack := h.slash(h.alice, ch.ID, "resolve Fixed the first")
	if ack != "" && ack != "null" {
		t.Fatalf("resolve ack = %s", ack)
	}
	h.slash(h.bob, h.general, "declare sev1 Second incident")
	// Restart while Slack is still down: the bot waits for it, then
	// delivers what it acked before.
	h.stop()
	h.launch()
	h.fake.ClearFaults()
	h.ExpectMessage(ch.ID, "INC-1 resolved", "Fixed the first")
	ch2 := h.incidentChannel(2)
	h.ExpectMessage(ch2.ID, "INC-2", "SEV1")
	h.view(func(tx *store.Tx) error {
		inc, err := tx.Incident(1)
		if err == nil && inc.Status != incident.Resolved {
			t.Errorf("INC-1 status = %s after restart", inc.Status)
		}
		return err
	})
}
