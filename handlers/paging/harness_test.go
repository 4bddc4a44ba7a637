package paging_test

import (
	"context"
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

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/handlers/paging"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
	"github.com/incidentbot/incidentbot/store"
)

// A small harness, as handlers/golden_test.go drives the handlers: the real
// handlers with the paging module, a fake Slack, a temporary store, a
// clock that moves only when told, and a pump that delivers what people do
// and runs the jobs that fall due, as the bot would.

// The people of the tests.
const (
	alice  = "U0ALICE01" // on call in schedule primary
	bob    = "U0BOB0001" // platform, level 1
	carol  = "U0CAROL01" // in the on-call group
	dave   = "U0DAVE001" // in the on-call group
	oncall = "S0ONCALL1" // user group: carol and dave
	empty  = "S0EMPTY01" // user group without members
)

const pagerDutyKey = "R0UTINGKEY42"

var t0 = time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// sink is PagerDuty and a webhook; the webhook answers 400, so its pages
// fail for good.
type sink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
}

func (s *sink) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reqs
	s.reqs = nil
	return out
}

// alertHook is a stand-in for the alerts module: it counts AlertChanged.
type alertHook struct {
	mu      sync.Mutex
	changed map[int64]int
}

func (*alertHook) Name() string { return "alerts" }

func (k *alertHook) Register(_ *handlers.Handlers, reg *handlers.Registry) {
	reg.Hooks(handlers.Hooks{AlertChanged: func(_ *handlers.Request, a *incident.AlertRecord) error {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.changed[a.ID]++
		return nil
	}})
}

func (k *alertHook) count(id int64) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.changed[id]
}

type harness struct {
	t         *testing.T
	clock     *clock
	fake      *slackfake.Server
	prov      *sink
	db        *store.DB
	h         *handlers.Handlers
	paging    *paging.Module
	hook      *alertHook
	alerts    string // the alert route's channel
	delivered int
	paged     []string // OnPaged: schedule/person
}

func newHarness(t *testing.T) *harness {
	c := &clock{t: t0}
	fake := slackfake.New(slackfake.Options{Now: c.now})
	t.Cleanup(fake.Close)
	for _, u := range []slackfake.User{
		{ID: alice, Name: "alice", RealName: "Alice Adams", DisplayName: "alice"},
		{ID: bob, Name: "bob", RealName: "Bob Brown", DisplayName: "bob"},
		{ID: carol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"},
		{ID: dave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"},
	} {
		fake.AddUser(u)
	}
	fake.AddUserGroup(oncall, "oncall", carol, dave)
	fake.AddUserGroup(empty, "nobody")
	prov := &sink{}
	prov.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		prov.mu.Lock()
		prov.reqs = append(prov.reqs, r.URL.Path+" "+string(data))
		prov.mu.Unlock()
		if r.URL.Path == "/hook" {
			http.Error(w, `{"message":"no such hook"}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success"}`))
	}))
	t.Cleanup(prov.srv.Close)

	file := filepath.Join(t.TempDir(), "escalation.yaml")
	policy := fmt.Sprintf(`policies:
  - name: platform
    levels:
      - targets: [%s]
        timeout: 5m
      - targets: [%s, "pagerduty:%s", "webhook:%s/hook"]
        timeout: 10m
  - name: hollow
    levels:
      - targets: [%s]
        timeout: 5m
schedules:
  - name: primary
    time_zone: UTC
    rotations:
      - name: weekly
        start: 2024-03-04T09:00
        shift: 1w
        participants: [%s]
  - name: later
    time_zone: UTC
    rotations:
      - name: weekly
        start: 2030-01-07T09:00
        shift: 1w
        participants: [%s]
`, bob, oncall, pagerDutyKey, prov.srv.URL, empty, alice, carol)
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	providers := builtin.Set(builtin.Options{PagerDutyURL: prov.srv.URL})
	policies, err := incident.LoadPolicies(file, providers.Check)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "incidentbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	x := &harness{t: t, clock: c, fake: fake, prov: prov, db: db, hook: &alertHook{changed: map[int64]int{}}}
	x.paging = paging.New(paging.Config{Policies: policies, Providers: providers,
		OnPaged: func(schedule, person string) { x.paged = append(x.paged, schedule+"/"+person) }})
	x.alerts = fake.AddChannel("alerts-platform", false, alice, bob, fake.BotUserID())
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
	h, err := handlers.New(handlers.Config{BotUserID: fake.BotUserID(), TeamID: fake.TeamID()},
		handlers.Deps{DB: db, API: api, Now: c.now, Log: zerolog.Nop()}, x.paging, x.hook)
	if err != nil {
		t.Fatal(err)
	}
	h.SetTeamURL("https://fake.slack.com/")
	x.h = h
	return x
}

// newAlert stores a firing alert of route platform, its message posted.
func (x *harness) newAlert(title string) *incident.AlertRecord {
	x.t.Helper()
	var a *incident.AlertRecord
	x.update(func(r *handlers.Request) error {
		id, err := r.Tx.NextAlertID()
		if err != nil {
			return err
		}
		a = &incident.AlertRecord{
			ID: id, Route: "platform", Key: incident.AlertKey("platform", "generic", title), Severity: incident.Sev2,
			Status: incident.AlertFiring, Received: r.Now, Updated: r.Now, Notifications: 1, Channel: x.alerts,
			TS:    fmt.Sprintf("1709632800.%06d", id),
			Group: incident.AlertGroup{Source: "generic", Key: title, Status: incident.AlertFiring, Title: title},
		}
		return r.Tx.PutAlert(a)
	})
	return a
}

// update runs fn in a transaction as the alerts module would.
func (x *harness) update(fn func(r *handlers.Request) error) {
	x.t.Helper()
	if err := x.h.Update(fn); err != nil {
		x.t.Fatal(err)
	}
}

// as runs fn with r.User set.
func (x *harness) as(user string, fn func(r *handlers.Request) error) {
	x.t.Helper()
	x.update(func(r *handlers.Request) error {
		r.User = incident.User{ID: user}
		return fn(r)
	})
}

func (x *harness) alert(id int64) *incident.AlertRecord {
	x.t.Helper()
	var a *incident.AlertRecord
	if err := x.db.View(func(tx *store.Tx) error {
		var err error
		a, err = tx.Alert(id)
		return err
	}); err != nil {
		x.t.Fatal(err)
	}
	return a
}

func (x *harness) jobs() []store.Job {
	x.t.Helper()
	var jobs []store.Job
	if err := x.db.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.Jobs()
		return err
	}); err != nil {
		x.t.Fatal(err)
	}
	return jobs
}

// advance moves the clock on and settles.
func (x *harness) advance(d time.Duration) {
	x.clock.mu.Lock()
	x.clock.t = x.clock.t.Add(d)
	x.clock.mu.Unlock()
	x.settle()
}

// settle delivers envelopes and runs due jobs until nothing is left to do,
// and fails the test on any post to a channel (an alert's paging posts
// nothing).
func (x *harness) settle() {
	x.t.Helper()
	for range 1000 {
		if x.deliver() || x.runOne() {
			continue
		}
		return
	}
	x.t.Fatal("does not settle")
}

func (x *harness) deliver() bool {
	x.t.Helper()
	envs := x.fake.Envelopes()
	if x.delivered == len(envs) {
		return false
	}
	for _, info := range envs[x.delivered:] {
		x.delivered++
		var req socketmode.Request
		if err := json.Unmarshal(info.Frame, &req); err != nil {
			x.t.Fatal(err)
		}
		if req.Type != string(socketmode.EventTypeInteractive) {
			continue // the events of the bot's own calls: nothing here follows them
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			x.t.Fatal(err)
		}
		env := &bot.Envelope{ID: req.EnvelopeID, Type: req.Type, Payload: req.Payload, ReceivedAt: x.clock.now(), Data: cb}
		if err := x.db.Update(func(tx *store.Tx) error { _, err := x.h.Handle(tx, env); return err }); err != nil {
			x.t.Fatalf("Handle: %v", err)
		}
	}
	return true
}

func (x *harness) runOne() bool {
	x.t.Helper()
	heads := map[string]bool{}
	for _, job := range x.jobs() {
		if heads[job.Lane] {
			continue
		}
		heads[job.Lane] = true
		if job.NotBefore.After(x.clock.now()) {
			continue
		}
		if job.Kind == "post" {
			x.t.Errorf("an alert's paging posted to a channel: %s", job.Payload)
		}
		commit, runErr := x.h.Run(context.Background(), job)
		if err := x.db.Update(func(tx *store.Tx) error {
			if runErr != nil {
				if err := x.h.GiveUp(tx, job, runErr); err != nil {
					return err
				}
			} else if commit != nil {
				if err := commit(tx); err != nil {
					return err
				}
			}
			_, err := tx.DeleteJob(job.Seq)
			return err
		}); err != nil {
			x.t.Fatalf("commit %s: %v", job.Kind, err)
		}
		return true
	}
	return false
}

// click clicks actionID on the newest message in user's DM that has it.
func (x *harness) click(user, actionID string) {
	x.t.Helper()
	dm := x.fake.DM(user)
	msgs := x.fake.Messages(dm)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(string(msgs[i].Blocks), `"action_id":"`+actionID+`"`) {
			x.fake.ClickButton(user, dm, msgs[i].TS, actionID)
			x.settle()
			return
		}
	}
	x.t.Fatalf("no message in %s's DM has a button %s", user, actionID)
}

// dm returns the newest message in user's DM: its text, then every string
// of its blocks (texts, action ids, values), a line each.
func (x *harness) dm(user string) string {
	x.t.Helper()
	msgs := x.fake.Messages(x.fake.DM(user))
	if len(msgs) == 0 {
		x.t.Fatalf("%s got no DM", user)
	}
	m := msgs[len(msgs)-1]
	var blocks any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		x.t.Fatal(err)
	}
	out := []string{m.Text}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(blocks)
	return strings.Join(out, "\n")
}
