package main

// The paging tests' fixtures: escalation policies and the on-call people
// they name, a harness with them on a simulated clock, page expectations,
// and a fake PagerDuty and Opsgenie.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// The on-call people of the paging tests; the escalation files name them.
const (
	pgCarol = "U0CAROL01"
	pgDave  = "U0DAVE001"
	pgErin  = "U0ERIN001"
)

// pgPlatform is a policy of two levels, carol for 5m then dave for 10m,
// run through repeat more times.
func pgPlatform(repeat int) string {
	return fmt.Sprintf(`policies:
  - name: platform
    description: Platform on-call
    repeat: %d
    levels:
      - targets: [%s]
        timeout: 5m
      - targets: [%s]
        timeout: 10m
`, repeat, pgCarol, pgDave)
}

// pgHarness starts the bot on a simulated clock (withSimClock) with an
// escalation file holding policy, and carol, dave and erin in the
// workspace. The test ends with AssertNoSecret: the escalation file's keys
// and the Slack tokens must not show anywhere.
func pgHarness(t *testing.T, policy string, opts ...harnessOption) *harness {
	t.Helper()
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(h *harness) {
		withSimClock(h)
		h.cfg.EscalationFile = file
		for _, u := range []slackfake.User{{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"},
			{ID: pgDave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"},
			{ID: pgErin, Name: "erin", RealName: "Erin Eck", DisplayName: "erin"}} {
			h.fake.AddUser(u)
		}
	}
	h := newHarness(t, append([]harnessOption{base}, opts...)...)
	h.policySecrets()
	return h
}

// pages are the page DMs user got about incident ref, oldest first.
func (h *harness) pages(user, ref string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range h.fake.Messages(h.fake.DM(user)) {
		if m.BotID != "" && strings.Contains(m.Text, "You are being paged for "+ref+" (") {
			out = append(out, m)
		}
	}
	return out
}

// ExpectPage waits for user's n-th page DM about ref and returns it.
func (h *harness) ExpectPage(user, ref string, n int) slackfake.Message {
	h.t.Helper()
	var m slackfake.Message
	h.waitFor(fmt.Sprintf("page DM %d of %s to %s", n, ref, user), func() bool {
		pages := h.pages(user, ref)
		if len(pages) >= n {
			m = pages[n-1]
			return true
		}
		return false
	})
	return m
}

// ExpectPageCounts checks how many page DMs about ref each user has.
func (h *harness) ExpectPageCounts(ref string, want map[string]int) {
	h.t.Helper()
	for user, n := range want {
		if got := len(h.pages(user, ref)); got != n {
			h.t.Errorf("%s got %d page DMs about %s, want %d", user, got, ref, n)
		}
	}
}

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

// pdEvents returns the PagerDuty events of one action.
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
