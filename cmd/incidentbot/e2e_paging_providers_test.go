// Paging beyond one person by DM: user groups, PagerDuty and Opsgenie,
// what is shown of their secrets, and pages that cannot be delivered.

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// pgKey is the PagerDuty routing key of the provider tests: a secret.
const pgKey = "R0UTINGKEY0SECRET42"

// pgRequest is one request a fake provider received.
type pgRequest struct {
	Path, Auth string
	Status     int // what the fake answered
	Body       struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Alias       string `json:"alias"`
		Note        string `json:"note"`
		Payload     struct {
			Summary string `json:"summary"`
		} `json:"payload"`
	}
}

// pgProvider is a fake PagerDuty and Opsgenie. answer picks the status
// (and headers) of the n-th request (from 0) to a path.
type pgProvider struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []pgRequest
	counts map[string]int
}

func newPGProvider(t *testing.T, answer func(path string, n int, w http.ResponseWriter) int) *pgProvider {
	p := &pgProvider{counts: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req pgRequest
		data, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(data, &req.Body)
		req.Path, req.Auth = r.URL.Path, r.Header.Get("Authorization")
		p.mu.Lock()
		n := p.counts[req.Path]
		p.counts[req.Path]++
		p.mu.Unlock()
		req.Status = answer(req.Path, n, w)
		p.mu.Lock()
		p.reqs = append(p.reqs, req)
		p.mu.Unlock()
		w.WriteHeader(req.Status)
		if req.Status >= 400 {
			fmt.Fprint(w, `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}`)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// requests returns what the fake received at path ("" for all).
func (p *pgProvider) requests(path string) []pgRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pgRequest
	for _, r := range p.reqs {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// pgEvents returns the PagerDuty events of one action.
func (p *pgProvider) pdEvents(action string) []pgRequest {
	var out []pgRequest
	for _, r := range p.requests("/v2/enqueue") {
		if r.Body.EventAction == action {
			out = append(out, r)
		}
	}
	return out
}

// pgProviderPolicy: PagerDuty (and Opsgenie) at level 1 for 5m, then carol.
func pgProviderPolicy(targets string) string {
	return `policies:
  - name: pd
    levels:
      - targets: [` + targets + `]
        timeout: 5m
      - targets: [` + pgCarol + `]
        timeout: 5m
`
}

func pgWithProvider(p *pgProvider, giveUp time.Duration) harnessOption {
	return func(h *harness) {
		h.cfg.PagerdutyURL, h.cfg.OpsgenieURL = p.srv.URL, p.srv.URL
		h.deps.ProviderGiveUp = giveUp
		h.deps.Getenv = func(k string) string {
			if k == "OG_KEY" {
				return "og-secret-value"
			}
			return ""
		}
	}
}

// pgNoSecrets checks that nothing in the channel or on the timeline shows
// the routing key.
func (h *harness) pgNoSecrets(channel string, id int64) {
	h.t.Helper()
	for _, m := range h.fake.Messages(channel) {
		if strings.Contains(m.Text+string(m.Blocks), pgKey) || strings.Contains(m.Text, "og-secret-value") {
			h.t.Errorf("the channel shows a secret: %s", m.Text)
		}
	}
	for _, e := range h.tlEntries(id) {
		if strings.Contains(e.Text, pgKey) {
			h.t.Errorf("the timeline shows the routing key: %s", e.Text)
		}
	}
}

func TestPagingProviderRetriesThenDelivers(t *testing.T) {
	prov := newPGProvider(t, func(path string, n int, _ http.ResponseWriter) int {
		if path == "/v2/enqueue" && n < 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	h, _ := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`", "opsgenie:OG_KEY"`), pgWithProvider(prov, 0))
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd Checkout returns 500s")
	h.messageWith(ch.ID, ":pager: Paging policy pd", "`pagerduty:R0U…`", "`opsgenie:OG_KEY`")
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
	for _, p := range h.lcIncident(1).Escalations[0].Pages {
		if p.State != incident.PageSent {
			t.Errorf("page of %s is %s, want sent", p.Target.Redacted(), p.State)
		}
	}
	if n := len(h.pgPosts(ch.ID, "Could not page")); n != 0 {
		t.Errorf("%d failure posts for a page that got through", n)
	}

	// Someone reached by PagerDuty acknowledges in the channel.
	if text := ackText(h.slash(h.bob, ch.ID, "ack")); text != "" {
		t.Errorf("ack answered %q", text)
	}
	h.messageWith(ch.ID, "Page acknowledged by <@"+h.bob+">")
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
	if h.lcIncident(1).Times.Acknowledged.IsZero() {
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
	h.pgNoSecrets(ch.ID, 1)
}

func TestPagingProviderRefusesPage(t *testing.T) {
	prov := newPGProvider(t, func(string, int, http.ResponseWriter) int { return http.StatusBadRequest })
	h, clock := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`"`), pgWithProvider(prov, 0))
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd")
	warn := h.messageWith(ch.ID, ":warning: Could not page `pagerduty:R0U…`", "400")
	if !strings.Contains(warn.Text, "Event object is invalid") {
		t.Errorf("the warning does not say what PagerDuty said: %s", warn.Text)
	}
	h.waitFor("the page_failed entry", func() bool { return h.lcHasEvent(1, "page_failed", "pagerduty:R0U…") })
	h.idle()
	if n := len(prov.requests("")); n != 1 {
		t.Errorf("%d requests for a page refused with 400, want 1 (no retry)", n)
	}
	if p := h.lcIncident(1).Escalations[0].Pages[0]; p.State != incident.PageFailed || p.Error == "" {
		t.Errorf("page state %s error %q, want failed with the reason", p.State, p.Error)
	}

	// The escalation goes on without PagerDuty.
	h.pgTick(clock, 5*time.Minute)
	dm := h.pgPage(pgCarol, "INC-1", 1)
	h.waitAck(h.fake.ClickButton(pgCarol, h.fake.DM(pgCarol), dm.TS, "page_ack"))
	h.slash(h.alice, ch.ID, "resolve")
	h.messageWith(ch.ID, "INC-1 resolved")
	h.idle()
	if n := len(prov.requests("")); n != 1 {
		t.Errorf("%d requests after ack and resolve, want 1: a failed page is not acknowledged or resolved", n)
	}
	if n := len(h.pgPosts(ch.ID, "Could not")); n != 1 {
		t.Errorf("%d failure posts, want 1", n)
	}
	h.pgNoSecrets(ch.ID, 1)
}

func TestPagingProviderGivesUpAfterRateLimits(t *testing.T) {
	prov := newPGProvider(t, func(_ string, _ int, w http.ResponseWriter) int {
		w.Header().Set("Retry-After", "1")
		return http.StatusTooManyRequests
	})
	h, clock := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`"`), pgWithProvider(prov, 2*time.Minute))
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd")
	h.waitFor("the bot to retry", func() bool { return len(prov.requests("")) >= 2 })
	if n := len(h.pgPosts(ch.ID, "Could not page")); n != 0 {
		t.Fatalf("gave up before ProviderGiveUp passed: %d posts", n)
	}

	clock.Advance(2*time.Minute + time.Second)
	h.app.bot.Kick()
	warn := h.messageWith(ch.ID, ":warning: Could not page `pagerduty:R0U…`", "still failing after 2m", "429")
	h.waitFor("the page_failed entry", func() bool { return h.lcHasEvent(1, "page_failed", "429") })
	h.idle()
	n := len(prov.requests(""))
	h.pgTick(clock, time.Minute)
	if m := len(prov.requests("")); m != n {
		t.Errorf("%d more requests after giving up", m-n)
	}
	if strings.Contains(warn.Text, pgKey) {
		t.Errorf("the warning shows the routing key: %s", warn.Text)
	}
	// The escalation goes on.
	h.pgTick(clock, 3*time.Minute)
	h.pgPage(pgCarol, "INC-1", 1)
	h.pgNoSecrets(ch.ID, 1)
}

// A person Slack will not DM is reported, and the next level is paged.
func TestPagingDMFailureIsReported(t *testing.T) {
	h, clock := pgHarness(t, pgPlatform(0))
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.fake.FailNext("conversations.open", 1, slackfake.Fault{Error: "user_disabled"})
	h.slash(h.alice, ch.ID, "page platform")
	h.messageWith(ch.ID, ":warning: Could not page <@"+pgCarol+">", "user_disabled")
	h.waitFor("the page_failed entry", func() bool { return h.lcHasEvent(1, "page_failed", "user_disabled") })
	h.pgTick(clock, 5*time.Minute)
	h.pgPage(pgDave, "INC-1", 1)
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 0, pgDave: 1})
}

func TestPagingUserGroups(t *testing.T) {
	policy := `policies:
  - name: teams
    levels:
      - targets: [S0ONCALL1, S0BACKUP1]
        timeout: 5m
`
	h, _ := pgHarness(t, policy, func(h *harness) {
		h.fake.AddUserGroup("S0ONCALL1", "oncall", pgCarol, pgDave)
		h.fake.AddUserGroup("S0BACKUP1", "backup", pgCarol, pgErin)
	})
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page teams")
	for _, u := range []string{pgCarol, pgDave, pgErin} {
		h.pgPage(u, "INC-1", 1)
	}
	h.idle()
	// carol is in both groups of the level: one DM.
	h.pgExpectPages("INC-1", map[string]int{pgCarol: 1, pgDave: 1, pgErin: 1})
	if dm := h.pgPage(pgDave, "INC-1", 1); !strings.Contains(string(dm.Blocks), "through user group S0ONCALL1") {
		t.Errorf("dave's page does not say which group: %s", dm.Blocks)
	}
	h.messageWith(ch.ID, ":pager: Paging policy teams", "user group S0ONCALL1", "user group S0BACKUP1")

	// Named directly, with a person who is also in the group.
	ch2 := h.declared(2, "declare sev2 Search is slow")
	h.slash(h.alice, ch2.ID, "page <!subteam^S0ONCALL1|@oncall> <@"+pgCarol+"> <@"+pgErin+"|erin> Search p99 is 8s")
	for _, u := range []string{pgCarol, pgDave, pgErin} {
		h.pgPage(u, "INC-2", 1)
	}
	h.idle()
	h.pgExpectPages("INC-2", map[string]int{pgCarol: 1, pgDave: 1, pgErin: 1})
	post := h.messageWith(ch2.ID, ":pager: Paging direct page", "Search p99 is 8s")
	for _, ch := range []string{ch.ID, ch2.ID} {
		for _, m := range h.pgPosts(ch, "") {
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
	h, _ := pgHarness(t, pgPlatform(0), func(h *harness) { h.fake.AddUserGroup("S0EMPTY01", "empty") })
	ch := h.declared(1, "declare sev2 Checkout is down")
	h.slash(h.alice, ch.ID, "page <!subteam^S0GHOST01|@ghost> <!subteam^S0EMPTY01|@empty> <@"+pgCarol+">")
	h.pgPage(pgCarol, "INC-1", 1)
	h.messageWith(ch.ID, ":warning: Could not page user group S0GHOST01", "no_such_subteam")
	h.messageWith(ch.ID, ":warning: User group S0EMPTY01 has no members")
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
	h, _ := pgHarness(t, policy, func(h *harness) {
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
	wallClock := func(h *harness) { h.deps.Clock = nil } // the wait and the give-up on one clock
	h, _ := pgHarness(t, pgProviderPolicy(`"pagerduty:`+pgKey+`"`), pgWithProvider(prov, time.Second), wallClock)
	ch := h.declared(1, "declare sev1 Checkout is down")
	h.slash(h.alice, ch.ID, "page pd")
	h.messageWith(ch.ID, ":warning: Could not page `pagerduty:R0U…`", "still failing after", "429")
	if n := len(prov.requests("")); n < 2 {
		t.Errorf("%d requests: the page was given up without trying again when the time was up", n)
	}
}
