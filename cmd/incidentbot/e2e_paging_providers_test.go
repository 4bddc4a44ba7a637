// Paging beyond one person by DM: user groups, PagerDuty and Opsgenie,
// what is shown of their secrets, and pages that cannot be delivered.

package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

func TestPagingProviderRetriesThenDelivers(t *testing.T) {
	prov := newPGProvider(t, func(path string, n int, _ http.ResponseWriter) int {
		if path == "/v2/enqueue" && n < 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	h := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`", "opsgenie:OG_KEY"`), pgWithProvider(prov, 0))
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd Checkout returns 500s")
	h.ExpectMessage(ch.ID, ":pager: Paging policy pd", "`pagerduty:R0U…`", "`opsgenie:OG_KEY`")
	h.waitFor("the trigger to get through", func() bool { return len(prov.pdEvents("trigger")) == 3 })
	h.idle()

	triggers := prov.pdEvents("trigger")
	if len(triggers) != 3 {
		t.Fatalf("%d triggers, want 2 refused and 1 accepted", len(triggers))
	}
	dedup := triggers[0].Body.DedupKey
	for i, r := range triggers {
		if want := []int{503, 503, 202}[i]; r.Status != want {
			t.Errorf("trigger %d answered %d, want %d", i+1, r.Status, want)
		}
		if r.Body.RoutingKey != pgKey || r.Body.DedupKey != dedup || !strings.Contains(dedup, "INC-1") {
			t.Errorf("trigger %d: routing_key %q dedup_key %q (first %q)", i+1, r.Body.RoutingKey, r.Body.DedupKey, dedup)
		}
		if !strings.Contains(r.Body.Payload.Summary, "[INC-1] Checkout is down") {
			t.Errorf("trigger %d summary = %q", i+1, r.Body.Payload.Summary)
		}
	}
	alerts := prov.requests("/v2/alerts")
	if len(alerts) != 1 || alerts[0].Body.Alias != dedup || alerts[0].Auth != "GenieKey og-secret-value" {
		t.Errorf("opsgenie alerts = %+v, want one with alias %q and the key from the env", alerts, dedup)
	}
	for _, p := range h.storedIncident(1).Escalations[0].Pages {
		if p.State != incident.PageSent {
			t.Errorf("page of %s is %s, want sent", p.Target.Redacted(), p.State)
		}
	}
	if n := len(botMessages(h.fake, ch.ID, "Could not page")); n != 0 {
		t.Errorf("%d failure posts for a page that got through", n)
	}

	// Someone reached by PagerDuty acknowledges in the channel.
	if text := ackText(h.slash(h.bob, ch.ID, "ack")); text != "" {
		t.Errorf("ack answered %q", text)
	}
	h.ExpectMessage(ch.ID, "Page acknowledged by <@"+h.bob+">")
	h.waitFor("the acknowledge event", func() bool { return len(prov.pdEvents("acknowledge")) == 1 })
	h.waitFor("the opsgenie acknowledge", func() bool {
		return len(prov.requests("/v2/alerts/"+dedup+"/acknowledge")) == 1
	})
	if ack := prov.pdEvents("acknowledge")[0]; ack.Body.DedupKey != dedup || ack.Body.RoutingKey != pgKey {
		t.Errorf("acknowledge sent dedup_key %q routing_key %q", ack.Body.DedupKey, ack.Body.RoutingKey)
	}
	// Opsgenie's alert log says who acknowledged, not who paged.
	if note := prov.requests("/v2/alerts/" + dedup + "/acknowledge")[0].Body.Note; !strings.Contains(note, "Acknowledged in Slack by bob") {
		t.Errorf("the Opsgenie acknowledge note is %q, want it to name bob", note)
	}
	if h.storedIncident(1).Times.Acknowledged.IsZero() {
		t.Error("Times.Acknowledged not set by /incident ack")
	}
	if text := ackText(h.slash(h.bob, ch.ID, "ack")); !strings.Contains(text, "Nothing to acknowledge") {
		t.Errorf("a second ack answered %q", text)
	}

	h.slash(h.alice, ch.ID, "resolve")
	h.waitFor("the resolve event", func() bool { return len(prov.pdEvents("resolve")) == 1 })
	h.waitFor("the opsgenie close", func() bool { return len(prov.requests("/v2/alerts/"+dedup+"/close")) == 1 })
	h.idle()
	if r := prov.pdEvents("resolve"); len(r) != 1 || r[0].Body.DedupKey != dedup {
		t.Errorf("resolve events = %+v, want one with dedup_key %q", r, dedup)
	}
	if n := len(prov.pdEvents("trigger")); n != 3 {
		t.Errorf("%d triggers after resolve, want still 3", n)
	}
}

func TestPagingProviderRefusesPage(t *testing.T) {
	prov := newPGProvider(t, func(string, int, http.ResponseWriter) int { return http.StatusBadRequest })
	h := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`"`), pgWithProvider(prov, 0))
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd")
	warn := h.ExpectMessage(ch.ID, ":warning: Could not page `pagerduty:R0U…`", "400")
	if !strings.Contains(warn.Text, "Event object is invalid") {
		t.Errorf("the warning does not say what PagerDuty said: %s", warn.Text)
	}
	h.waitFor("the page_failed entry", func() bool { return h.hasEvent(1, "page_failed", "pagerduty:R0U…") })
	h.idle()
	if n := len(prov.requests("")); n != 1 {
		t.Errorf("%d requests for a page refused with 400, want 1 (no retry)", n)
	}
	if p := h.storedIncident(1).Escalations[0].Pages[0]; p.State != incident.PageFailed || p.Error == "" {
		t.Errorf("page state %s error %q, want failed with the reason", p.State, p.Error)
	}

	// The escalation goes on without PagerDuty.
	h.FastForward(5 * time.Minute)
	dm := h.ExpectPage(pgCarol, "INC-1", 1)
	h.clickDM(pgCarol, dm.TS, "page_ack")
	h.slash(h.alice, ch.ID, "resolve")
	h.ExpectMessage(ch.ID, "INC-1 resolved")
	h.idle()
	if n := len(prov.requests("")); n != 1 {
		t.Errorf("%d requests after ack and resolve, want 1: a failed page is not acknowledged or resolved", n)
	}
	if n := len(botMessages(h.fake, ch.ID, "Could not")); n != 1 {
		t.Errorf("%d failure posts, want 1", n)
	}
}

func TestPagingProviderGivesUpAfterRateLimits(t *testing.T) {
	prov := newPGProvider(t, func(_ string, _ int, w http.ResponseWriter) int {
		w.Header().Set("Retry-After", "1")
		return http.StatusTooManyRequests
	})
	h := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`"`), pgWithProvider(prov, 2*time.Minute))
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd")
	h.waitFor("the bot to retry", func() bool { return len(prov.requests("")) >= 2 })
	if n := len(botMessages(h.fake, ch.ID, "Could not page")); n != 0 {
		t.Fatalf("gave up before ProviderGiveUp passed: %d posts", n)
	}

	h.FastForward(2*time.Minute + time.Second)
	warn := h.ExpectMessage(ch.ID, ":warning: Could not page `pagerduty:R0U…`", "still failing after 2m", "429")
	h.waitFor("the page_failed entry", func() bool { return h.hasEvent(1, "page_failed", "429") })
	h.idle()
	n := len(prov.requests(""))
	h.FastForward(time.Minute)
	if m := len(prov.requests("")); m != n {
		t.Errorf("%d more requests after giving up", m-n)
	}
	if strings.Contains(warn.Text, pgKey) {
		t.Errorf("the warning shows the routing key: %s", warn.Text)
	}
	// The escalation goes on.
	h.FastForward(3 * time.Minute)
	h.ExpectPage(pgCarol, "INC-1", 1)
}

// A person Slack will not DM is reported, and the next level is paged.
func TestPagingDMFailureIsReported(t *testing.T) {
	h := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.fake.FailNext("conversations.open", 1, slackfake.Fault{Error: "user_disabled"})
	h.slash(h.alice, ch.ID, "page platform")
	h.ExpectMessage(ch.ID, ":warning: Could not page <@"+pgCarol+">", "user_disabled")
	h.waitFor("the page_failed entry", func() bool { return h.hasEvent(1, "page_failed", "user_disabled") })
	h.FastForward(5 * time.Minute)
	h.ExpectPage(pgDave, "INC-1", 1)
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 0, pgDave: 1})
}

func TestPagingUserGroups(t *testing.T) {
	policy := `policies:
  - name: teams
    levels:
      - targets: [S0ONCALL1, S0BACKUP1]
        timeout: 5m
`
	h := pgHarness(t, policy, func(h *harness) {
		h.fake.AddUserGroup("S0ONCALL1", "oncall", pgCarol, pgDave)
		h.fake.AddUserGroup("S0BACKUP1", "backup", pgCarol, pgErin)
	})
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page teams")
	for _, u := range []string{pgCarol, pgDave, pgErin} {
		h.ExpectPage(u, "INC-1", 1)
	}
	h.idle()
	// carol is in both groups of the level: one DM.
	h.ExpectPageCounts("INC-1", map[string]int{pgCarol: 1, pgDave: 1, pgErin: 1})
	if dm := h.ExpectPage(pgDave, "INC-1", 1); !strings.Contains(string(dm.Blocks), "through user group S0ONCALL1") {
		t.Errorf("dave's page does not say which group: %s", dm.Blocks)
	}
	h.ExpectMessage(ch.ID, ":pager: Paging policy teams", "user group S0ONCALL1", "user group S0BACKUP1")

	// Named directly, with a person who is also in the group.
	ch2 := h.declared(2, "declare sev2 Search is slow")
	h.slash(h.alice, ch2.ID, "page <!subteam^S0ONCALL1|@oncall> <@"+pgCarol+"> <@"+pgErin+"|erin> Search p99 is 8s")
	for _, u := range []string{pgCarol, pgDave, pgErin} {
		h.ExpectPage(u, "INC-2", 1)
	}
	h.idle()
	h.ExpectPageCounts("INC-2", map[string]int{pgCarol: 1, pgDave: 1, pgErin: 1})
	post := h.ExpectMessage(ch2.ID, ":pager: Paging direct page", "Search p99 is 8s")
	for _, ch := range []string{ch.ID, ch2.ID} {
		for _, m := range botMessages(h.fake, ch, "") {
			if strings.Contains(m.Text, "<!subteam") {
				t.Errorf("a post pings the whole group: %s", m.Text)
			}
		}
	}
	if !strings.Contains(post.Text, "user group S0ONCALL1") {
		t.Errorf("the direct page post does not name the group: %s", post.Text)
	}
}

// A group Slack does not know, or one with nobody in it, is reported.
func TestPagingGroupProblemsAreReported(t *testing.T) {
	h := pgHarness(t, pgPlatform(0), func(h *harness) { h.fake.AddUserGroup("S0EMPTY01", "empty") })
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <!subteam^S0GHOST01|@ghost> <!subteam^S0EMPTY01|@empty> <@"+pgCarol+">")
	h.ExpectPage(pgCarol, "INC-1", 1)
	h.ExpectMessage(ch.ID, ":warning: Could not page user group S0GHOST01", "no_such_subteam")
	h.ExpectMessage(ch.ID, ":warning: User group S0EMPTY01 has no members")
	h.idle()
	for _, m := range h.fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "<!subteam") {
			t.Errorf("a post pings a group: %s", m.Text)
		}
	}
}

func TestPagingOncallListsPoliciesRedacted(t *testing.T) {
	policy := `policies:
  - name: platform
    description: Platform on-call, then PagerDuty
    repeat: 1
    levels:
      - targets: [U0CAROL01]
        timeout: 5m
      - targets: [S0ONCALL1, "pagerduty:R0UTINGKEY0SECRET42", "opsgenie:OG_API_KEY", "webhook:https://hooks.example.com/page/s3cr3t-token?sig=abc"]
        timeout: 10m
  - name: database
    levels:
      - targets: [U0DAVE001]
        timeout: 30m
severity_defaults:
  sev1: platform
`
	h := pgHarness(t, policy, func(h *harness) {
		h.deps.Getenv = func(k string) string {
			if k == "OG_API_KEY" {
				return "og-secret-key-value"
			}
			return ""
		}
	})
	ack := h.slash(h.alice, h.general, "oncall")
	if !strings.Contains(ack, `"response_type":"ephemeral"`) {
		t.Errorf("oncall answered in public: %s", ack)
	}
	text := ackText(ack)
	for _, want := range []string{"platform", "Platform on-call, then PagerDuty", "<@" + pgCarol + ">", "5m", "10m",
		"user group S0ONCALL1", "pagerduty:R0U…", "opsgenie:OG_API_KEY", "webhook:https://hooks.example.com/…",
		"repeated 1 more time", "paged automatically for SEV1", "database", "<@" + pgDave + ">", "30m"} {
		if !strings.Contains(text, want) {
			t.Errorf("oncall lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{"UTINGKEY0SECRET42", "R0UT", "s3cr3t", "sig=abc", "/page", "og-secret-key-value", "<!subteam"} {
		if strings.Contains(text, secret) {
			t.Errorf("oncall shows %q:\n%s", secret, text)
		}
	}
}

// TestPagingProviderLongRetryAfterStillGivesUpOnTime: a provider that asks
// to be left alone for an hour is not waited for past ProviderGiveUp; the
// channel hears that the page failed when the give-up time is reached.
func TestPagingProviderLongRetryAfterStillGivesUpOnTime(t *testing.T) {
	prov := newPGProvider(t, func(_ string, _ int, w http.ResponseWriter) int {
		w.Header().Set("Retry-After", "3600")
		return http.StatusTooManyRequests
	})
	// The wait and the give-up on one clock.
	h := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`"`), pgWithProvider(prov, time.Second), withWallClock)
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd")
	h.ExpectMessage(ch.ID, ":warning: Could not page `pagerduty:R0U…`", "still failing after", "429")
	if n := len(prov.requests("")); n < 2 {
		t.Errorf("%d requests: the page was given up without trying again when the time was up", n)
	}
}
