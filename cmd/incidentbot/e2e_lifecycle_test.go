package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// These tests run an incident through its life from Slack: status,
// severity, roles, key times, reopen, listing, and who may change what;
// and check what responders see (channel messages, the pinned summary, the
// topic, the announce channel) and what the bot recorded.

func TestLifecycleStatus(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	summary := h.lcSummaryTS(1)

	before := time.Now()
	h.slash(h.alice, ch.ID, "status identified")
	after := time.Now()
	h.messageWith(ch.ID, "Status changed from Investigating to *Identified*", "<@"+h.alice+">")
	h.lcWaitSummary(ch.ID, summary, "*Status*\nIdentified")
	h.lcWaitTopic(ch.ID, "INC-1 SEV2 | Identified |")
	inc := h.lcIncident(1)
	if inc.Status != incident.Identified {
		t.Errorf("status = %s, want identified", inc.Status)
	}
	identified := inc.Times.Identified
	if identified.Before(before) || identified.After(after) {
		t.Errorf("identified key time = %s, want when the status changed (%s – %s)", identified, before, after)
	}
	if !h.lcHasEvent(1, "status", "Identified") {
		t.Errorf("no status event on the timeline: %+v", h.tlEntries(1))
	}

	h.slash(h.alice, ch.ID, "status monitoring")
	h.messageWith(ch.ID, "Status changed from Identified to *Monitoring*")
	h.lcWaitSummary(ch.ID, summary, "*Status*\nMonitoring")
	h.lcWaitTopic(ch.ID, "| Monitoring |")
	inc = h.lcIncident(1)
	if inc.Times.Mitigated.IsZero() {
		t.Errorf("monitoring did not set the mitigated key time")
	}
	mitigated := inc.Times.Mitigated

	// The fix did not hold: back to identified is allowed, and keeps the
	// first identified and mitigated times.
	h.slash(h.alice, ch.ID, "status identified")
	h.messageWith(ch.ID, "Status changed from Monitoring to *Identified*")
	h.lcWaitSummary(ch.ID, summary, "*Status*\nIdentified")
	inc = h.lcIncident(1)
	if inc.Status != incident.Identified || !inc.Times.Identified.Equal(identified) || !inc.Times.Mitigated.Equal(mitigated) {
		t.Errorf("after going back: status %s, identified %s (want %s), mitigated %s (want %s)",
			inc.Status, inc.Times.Identified, identified, inc.Times.Mitigated, mitigated)
	}

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"backwards", "status investigating", []string{":warning:", "identified", "investigating", "back"}},
		{"same", "status identified", []string{":warning:", "already identified"}},
		{"unknown", "status fixed", []string{":warning:", "not a status", "investigating, identified, monitoring or resolved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := h.slash(h.alice, ch.ID, tc.text)
			if out := ackText(ack); !containsAll(out, tc.want...) || !strings.Contains(ack, `"ephemeral"`) {
				t.Errorf("reply to %q = %s, want an ephemeral with %q", tc.text, ack, tc.want)
			}
		})
	}
	h.idle()
	if st := h.lcIncident(1).Status; st != incident.Identified {
		t.Errorf("a refused change moved the status to %s", st)
	}
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "to *Investigating*") {
			t.Errorf("a refused change was announced in the channel: %q", m.Text)
		}
	}

	out := ackText(h.slash(h.alice, ch.ID, "status"))
	if !containsAll(out, "INC-1", "Status *Identified*", "Key times (UTC)",
		"Identified: "+incident.FormatTime(identified), "Mitigated: "+incident.FormatTime(mitigated), "Resolved: not recorded") {
		t.Errorf("/incident status:\n%s", out)
	}

	h.slash(h.alice, ch.ID, "status resolved")
	h.messageWith(ch.ID, "INC-1 resolved")
	h.lcWaitSummary(ch.ID, summary, "Resolved")
	h.lcWaitTopic(ch.ID, "| Resolved |")
	if inc := h.lcIncident(1); inc.Status != incident.Resolved || inc.Times.Resolved.IsZero() {
		t.Errorf("status resolved left status %s, resolved at %s", inc.Status, inc.Times.Resolved)
	}
}

func TestLifecycleSeverity(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev3 Search is slow")
	summary := h.lcSummaryTS(1)
	h.messageWith(h.announce, "INC-1 declared")

	h.slash(h.alice, ch.ID, "severity sev1")
	h.messageWith(ch.ID, "Severity changed from SEV3 to *SEV1*", "<@"+h.alice+">")
	h.messageWith(h.announce, "INC-1 upgraded to SEV1", "Search is slow", "<#"+ch.ID+">")
	h.lcWaitSummary(ch.ID, summary, "*Severity*\nSEV1")
	h.lcWaitTopic(ch.ID, "INC-1 SEV1 |")
	if inc := h.lcIncident(1); inc.Severity != incident.Sev1 {
		t.Errorf("severity = %s, want SEV1", inc.Severity.Label())
	}
	if !h.lcHasEvent(1, "severity", "SEV1") {
		t.Errorf("no severity event on the timeline")
	}

	// A downgrade is said in the channel only.
	h.idle()
	announced := len(h.fake.Messages(h.announce))
	h.slash(h.alice, ch.ID, "severity sev2")
	h.messageWith(ch.ID, "Severity changed from SEV1 to *SEV2*")
	h.lcWaitSummary(ch.ID, summary, "*Severity*\nSEV2")
	h.idle()
	if msgs := h.fake.Messages(h.announce); len(msgs) != announced {
		t.Errorf("the downgrade was announced: %q", msgs[len(msgs)-1].Text)
	}

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown severity", "severity sev9", []string{":warning:", "sev9", "not a severity", "sev1, sev2, sev3 or sev4"}},
		{"no severity", "severity", []string{":warning:", "Which severity?", "/incident severity sev1"}},
		{"unchanged", "severity sev2", []string{":warning:", "already SEV2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := h.slash(h.alice, ch.ID, tc.text)
			if out := ackText(ack); !containsAll(out, tc.want...) || !strings.Contains(ack, `"ephemeral"`) {
				t.Errorf("reply to %q = %s, want an ephemeral with %q", tc.text, ack, tc.want)
			}
		})
	}
	if inc := h.lcIncident(1); inc.Severity != incident.Sev2 {
		t.Errorf("a refused change left severity %s", inc.Severity.Label())
	}
}

func TestLifecycleRoles(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	summary := h.lcSummaryTS(1)
	if c, _ := h.fake.Channel(ch.ID); strings.Contains(strings.Join(c.Members, ","), h.bob) {
		t.Fatalf("bob is already in the channel")
	}

	// Slack sends a mention in slash command text as <@U…|name>.
	h.slash(h.alice, ch.ID, "lead <@"+h.bob+"|bob>")
	h.messageWith(ch.ID, "<@"+h.bob+"> is now Lead", "<@"+h.alice+">")
	h.waitFor("bob to be invited", func() bool {
		c, _ := h.fake.Channel(ch.ID)
		return strings.Contains(strings.Join(c.Members, ","), h.bob)
	})
	h.lcWaitSummary(ch.ID, summary, "*Lead*\n<@"+h.bob+">")
	h.lcWaitTopic(ch.ID, "Lead: <@"+h.bob+">")
	if inc := h.lcIncident(1); inc.Lead().ID != h.bob {
		t.Errorf("lead = %+v, want bob", inc.Lead())
	}
	if !h.lcHasEvent(1, "role", "Lead") {
		t.Errorf("no role event on the timeline")
	}

	h.slash(h.alice, ch.ID, "comms <@"+h.alice+"|alice>")
	h.lcWaitSummary(ch.ID, summary, "*Comms*\n<@"+h.alice+">")

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"nobody", "lead", []string{":warning:", "Name one person to be lead", "/incident lead @"}},
		{"two people", "scribe <@" + h.alice + "|alice> <@" + h.bob + "|bob>", []string{":warning:", "one person", "/incident scribe @"}},
		{"already", "lead <@" + h.bob + "|bob>", []string{"<@" + h.bob + ">", "already lead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out := ackText(h.slash(h.alice, ch.ID, tc.text)); !containsAll(out, tc.want...) {
				t.Errorf("reply to %q = %q, want %q", tc.text, out, tc.want)
			}
		})
	}
}

func TestLifecycleKeyTimes(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	now := time.Now().UTC()
	started := now.Add(-50 * time.Minute).Truncate(time.Minute)
	detected := now.Add(-40 * time.Minute).Truncate(time.Minute)

	out := ackText(h.slash(h.alice, ch.ID, "started "+started.Format("15:04")))
	if !containsAll(out, "Recorded", "started", incident.FormatTime(started)) {
		t.Errorf("started reply = %q, want it to name %s", out, incident.FormatTime(started))
	}
	out = ackText(h.slash(h.alice, ch.ID, "detected "+detected.Format("15:04")))
	if !containsAll(out, "Recorded", "detected", incident.FormatTime(detected)) {
		t.Errorf("detected reply = %q, want it to name %s", out, incident.FormatTime(detected))
	}
	inc := h.lcIncident(1)
	if !inc.Times.Started.Equal(started) || !inc.Times.Detected.Equal(detected) {
		t.Errorf("key times started %s detected %s, want %s and %s", inc.Times.Started, inc.Times.Detected, started, detected)
	}
	if !h.lcHasEvent(1, "started", incident.FormatTime(started)) || !h.lcHasEvent(1, "detected", incident.FormatTime(detected)) {
		t.Errorf("the key times are not on the timeline")
	}
	if s := ackText(h.slash(h.alice, ch.ID, "status")); !containsAll(s, "Started: "+incident.FormatTime(started),
		"Detected: "+incident.FormatTime(detected), "Time to detect 10m") {
		t.Errorf("/incident status does not show the key times:\n%s", s)
	}

	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"detected before started", "detected " + now.Add(-60*time.Minute).Format("15:04"),
			[]string{":warning:", "Detection cannot come before impact started", incident.FormatTime(started)}},
		{"started after detected", "started " + now.Add(-35*time.Minute).Format("15:04"),
			[]string{":warning:", "cannot start after it was detected", incident.FormatTime(detected)}},
		{"no time", "started", []string{":warning:", "When was the incident started?", "/incident started 10:18"}},
		{"future", "started " + now.Add(3*time.Hour).Format("2006-01-02 15:04"), []string{":warning:", "in the future"}},
		{"not a time", "detected 25:99", []string{":warning:", "hour 25", "10:28"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out := ackText(h.slash(h.alice, ch.ID, tc.text)); !containsAll(out, tc.want...) {
				t.Errorf("reply to %q = %q, want %q", tc.text, out, tc.want)
			}
		})
	}
	if inc := h.lcIncident(1); !inc.Times.Started.Equal(started) || !inc.Times.Detected.Equal(detected) {
		t.Errorf("a refused time changed the key times: started %s detected %s", inc.Times.Started, inc.Times.Detected)
	}
}

func TestLifecycleReopen(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	summary := h.lcSummaryTS(1)

	if out := ackText(h.slash(h.alice, ch.ID, "reopen")); !containsAll(out, ":warning:", "INC-1 is not resolved", "investigating") {
		t.Errorf("reopen of an open incident = %q", out)
	}

	h.slash(h.alice, ch.ID, "resolve Rolled back")
	h.messageWith(ch.ID, "INC-1 resolved")
	h.lcWaitSummary(ch.ID, summary, "Resolved")

	// While resolved, changes are refused with the way back.
	for _, tc := range []struct{ text, want string }{
		{"status identified", "reopen"},
		{"severity sev1", "/incident reopen"},
		{"lead <@" + h.bob + "|bob>", "/incident reopen"},
	} {
		if out := ackText(h.slash(h.alice, ch.ID, tc.text)); !containsAll(out, ":warning:", "resolved", tc.want) {
			t.Errorf("%q on a resolved incident = %q, want a refusal mentioning %q", tc.text, out, tc.want)
		}
	}

	h.slash(h.alice, ch.ID, "reopen")
	h.messageWith(ch.ID, "Reopened by <@"+h.alice+">", "Investigating")
	h.lcWaitSummary(ch.ID, summary, "*Status*\nInvestigating")
	h.lcWaitTopic(ch.ID, "| Investigating |")
	inc := h.lcIncident(1)
	if inc.Status != incident.Investigating || !inc.Times.Resolved.IsZero() {
		t.Errorf("after reopen: status %s, resolved %s; want investigating and no resolved time", inc.Status, inc.Times.Resolved)
	}
	if !h.lcHasEvent(1, "reopened", "Reopened") {
		t.Errorf("no reopened event on the timeline")
	}

	// It runs as an open incident again.
	h.slash(h.alice, ch.ID, "status identified")
	h.messageWith(ch.ID, "Status changed from Investigating to *Identified*")
}

func TestLifecycleListAndPrivateIncidents(t *testing.T) {
	h := newHarness(t)
	pub := h.declared(1, "declare sev2 Public outage")
	h.slash(h.alice, h.general, "declare --private sev2 Payroll export leaking")
	priv := h.incidentChannel(2)
	h.messageWith(priv.ID, "INC-2")
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
	h.messageWith(priv.ID, "<@"+h.bob+"> is now Scribe")
	if out := ackText(h.slash(h.bob, h.general, "list")); !containsAll(out, "INC-2", "<#"+priv.ID+">") {
		t.Errorf("bob, now scribe of INC-2, does not see it:\n%s", out)
	}

	// Resolved incidents are not listed.
	h.slash(h.alice, pub.ID, "resolve")
	h.messageWith(pub.ID, "INC-1 resolved")
	if out := ackText(h.slash(h.bob, h.general, "list")); strings.Contains(out, "INC-1") {
		t.Errorf("a resolved incident is still listed:\n%s", out)
	}

	// Nothing about the private incident reaches the announce channel:
	// neither an upgrade nor its resolution.
	h.slash(h.alice, priv.ID, "severity sev1")
	h.messageWith(priv.ID, "Severity changed from SEV2 to *SEV1*")
	h.slash(h.alice, priv.ID, "resolve")
	h.messageWith(priv.ID, "INC-2 resolved")
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
	if inc := h.lcIncident(1); inc.Severity != incident.Sev2 || inc.Status != incident.Investigating || inc.Lead().ID != h.alice ||
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
	h.messageWith(ch.ID, "Severity changed from SEV2 to *SEV1*", "<@"+h.alice+">")
	if inc := h.lcIncident(1); inc.Severity != incident.Sev1 {
		t.Errorf("alice's change did not apply: %s", inc.Severity.Label())
	}
}

func TestLifecyclePinFetchSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Checkout failing")
	h.idle()

	// Slack cannot serve history when the message is pinned.
	h.fake.FailNext("conversations.history", 1000, slackfake.Fault{Status: 503})
	ts := h.fake.PostMessage(h.alice, ch.ID, "Rollback of 1.42 done")
	h.fake.AddReaction(h.alice, ch.ID, ts, "pushpin")
	h.waitFor("a failed history read", func() bool {
		for _, c := range h.fake.Calls("conversations.history") {
			if c.Status == 503 {
				return true
			}
		}
		return false
	})
	if e, ok := h.tlEntry(1, ch.ID, ts); !ok || !e.Pending {
		t.Fatalf("entry while history fails = %+v (found %v), want a pending entry", e, ok)
	}
	if out := ackText(h.slash(h.alice, ch.ID, "timeline")); !strings.Contains(out, "fetching the message") {
		t.Errorf("/incident timeline while fetching:\n%s", out)
	}

	h.stop()
	h.fake.ClearFaults()
	h.start()

	e := h.tlWaitEntry(1, ch.ID, ts, "the entry to be filled in after the restart", func(e incident.Entry) bool { return !e.Pending })
	if e.Text != "Rollback of 1.42 done" || e.Author.ID != h.alice || e.Link == "" || e.Deleted {
		t.Errorf("entry after restart = %+v", e)
	}
	h.tlWaitBotReaction(ch.ID, ts, "white_check_mark", true)
	if n := len(h.tlEntries(1)); n != 2 { // declared + the message
		t.Errorf("%d timeline entries after the restart, want 2: %+v", n, h.tlEntries(1))
	}
}

// lcIncident reads incident id from the database.
func (h *harness) lcIncident(id int64) *incident.Incident {
	h.t.Helper()
	var inc *incident.Incident
	h.view(func(tx *store.Tx) error {
		var err error
		inc, err = tx.Incident(id)
		return err
	})
	return inc
}

// lcSummaryTS waits for incident id's summary to be posted and pinned, and
// returns its ts.
func (h *harness) lcSummaryTS(id int64) string {
	h.t.Helper()
	var ts string
	h.waitFor("the pinned summary", func() bool {
		inc := h.lcIncident(id)
		if inc.SummaryTS == "" {
			return false
		}
		m, ok := h.fake.Message(inc.ChannelID, inc.SummaryTS)
		ts = inc.SummaryTS
		return ok && m.Pinned
	})
	return ts
}

// lcWaitSummary waits until the summary message at ts (updated in place)
// shows want in its blocks.
func (h *harness) lcWaitSummary(channel, ts, want string) {
	h.t.Helper()
	h.waitFor("the summary to show "+want, func() bool {
		m, ok := h.fake.Message(channel, ts)
		return ok && m.Pinned && strings.Contains(lcBlockText(m.Blocks), want)
	})
}

// lcWaitTopic waits until the channel topic contains want.
func (h *harness) lcWaitTopic(channel, want string) {
	h.t.Helper()
	h.waitFor("the topic to show "+want, func() bool {
		c, _ := h.fake.Channel(channel)
		return strings.Contains(c.Topic, want)
	})
}

// lcHasEvent reports whether incident id's timeline has a bot event of
// this kind whose text contains text.
func (h *harness) lcHasEvent(id int64, event, text string) bool {
	h.t.Helper()
	for _, e := range h.tlEntries(id) {
		if e.Kind == incident.KindEvent && e.Event == event && strings.Contains(e.Text, text) {
			return true
		}
	}
	return false
}

// lcBlockText joins every text in Block Kit JSON, one per line.
func lcBlockText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return b.String()
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
