package handlers_test

// A golden test of every identifier the handlers persist: job kinds, lanes
// and payloads (they wait in the outbox of existing databases), and the
// action ids, block ids, button values, callback ids and private_metadata
// of what the bot posts and opens in Slack (they live on in messages and
// modals already shown, and come back in clicks and submissions). It drives
// the real handlers through one long scenario that runs every job kind and
// every button and form there is, against the fake Slack, and compares what
// it saw with testdata/golden/identifiers.golden.
//
// It uses only the handlers' exported API, so it still applies after the
// package is split up. Regenerate the file after an intended change with
//
//	go test ./handlers -run TestPersistedIdentifiers -update
//
// and read the diff: every changed line is a format that old databases or
// old Slack messages still hold.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/handlers/alerts"
	"github.com/incidentbot/incidentbot/handlers/comms"
	"github.com/incidentbot/incidentbot/handlers/incidents"
	"github.com/incidentbot/incidentbot/handlers/paging"
	"github.com/incidentbot/incidentbot/handlers/timeline"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/identifiers.golden from what the handlers do")

const goldenFile = "testdata/golden/identifiers.golden"

// allJobKinds is every job kind there is: the job… constants of jobs.go,
// paging.go and updates.go. A kind added without being exercised here fails
// the test.
var allJobKinds = []string{
	"create_channel", "invite", "post", "post_summary", "update_summary", "pin", "topic", "respond",
	"ephemeral", "open_view", "upload_postmortem", "react", "fetch_message",
	"page_dm", "page_group", "page_provider", "page_update_dm", "page_escalate",
	"alert_post", "alert_update", "alert_quiet",
	"update_preview", "update_refresh_preview", "update_remind", "fetch_followup", "confirm_pin", "learn_name",
}

// allButtonIDs are the action ids of every button the bot posts (paging.go,
// updates.go); the scenario clicks each of them.
var allButtonIDs = []string{
	"page_ack", "page_decline", "alert_ack", "alert_declare", "alert_resolve",
	"update_post", "update_edit", "update_cancel", "update_start", "update_snooze", "update_skip",
}

// allFieldIDs are the action ids of the modals' inputs (declare.go,
// updates.go), which submissions are read by.
var allFieldIDs = []string{"title", "severity", "description", "private", "text"}

// allCallbackIDs are the callback ids of every modal (declare.go, updates.go);
// the scenario submits each of them.
var allCallbackIDs = []string{"declare", "update_edit"}

// The people of the scenario. Fixed ids keep the golden file readable.
const (
	alice  = "U0ALICE01" // declares and runs the incident
	bob    = "U0BOB0001" // on call first (platform, level 1), then comms
	carol  = "U0CAROL01" // database on call, and in the on-call group
	dave   = "U0DAVE001" // in the on-call group, paged directly too
	oncall = "S0ONCALL1" // user group: carol and dave
)

const (
	pagerDutyKey = "R0UTINGKEY42"
	opsgenieVar  = "OPSGENIE_API_KEY"
)

// t0 is when the scenario starts; the clock only moves when it says so.
var t0 = time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)

// testClock is the handlers' and the fake's clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// providerSink is PagerDuty, Opsgenie and a webhook: it records every
// request; the webhook answers 400, so a page fails for good.
type providerSink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
}

func newProviderSink(t *testing.T) *providerSink {
	p := &providerSink{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		line := r.Method + " " + r.URL.RequestURI()
		if auth := r.Header.Get("Authorization"); auth != "" {
			line += " authorization=" + auth
		}
		p.mu.Lock()
		p.reqs = append(p.reqs, line+" "+canonicalJSON(data))
		p.mu.Unlock()
		if r.URL.Path == "/hook" {
			http.Error(w, `{"message":"no such hook"}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success"}`))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *providerSink) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.reqs
	p.reqs = nil
	return out
}

// golden runs the scenario and writes down what it sees.
type golden struct {
	t     *testing.T
	ctx   context.Context
	clock *testClock
	fake  *slackfake.Server
	prov  *providerSink
	db    *store.DB
	h     *handlers.Handlers
	out   bytes.Buffer

	envelopes int // envelopes of the fake already delivered
	calls     int // Web API calls already written down

	// alerts is the alert receiver; routes its routes, whose channel is
	// set once the scenario makes it (alertScenario).
	alerts http.Handler
	routes []incident.AlertRoute

	kinds     map[string]bool // job kinds run
	actions   map[string]bool // action ids the bot posted
	callbacks map[string]bool // callback ids the bot opened
	clicked   map[string]bool // action ids clicked
	submitted map[string]bool // callback ids submitted
}

func newGolden(t *testing.T) *golden {
	clock := &testClock{t: t0}
	fake := slackfake.New(slackfake.Options{Now: clock.now})
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
	prov := newProviderSink(t)

	policy := fmt.Sprintf(`policies:
  - name: platform
    description: Platform on-call, then the on-call group and the providers
    levels:
      - targets: [%s]
        timeout: 5m
      - targets: [%s, "pagerduty:%s", "opsgenie:%s", "webhook:%s/hook"]
        timeout: 10m
  - name: database
    levels:
      - targets: [%s]
        timeout: 15m
severity_defaults:
  sev1: database
`, bob, oncall, pagerDutyKey, opsgenieVar, prov.srv.URL, carol)
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(name string) string {
		if name == opsgenieVar {
			return "opsgenie-secret"
		}
		return ""
	}
	providers := builtin.Set(builtin.Options{PagerDutyURL: prov.srv.URL, OpsgenieURL: prov.srv.URL, Getenv: getenv})
	policies, err := incident.LoadPolicies(file, providers.Check)
	if err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(filepath.Join(t.TempDir(), "incidentbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	g := &golden{
		t: t, ctx: context.Background(), clock: clock, fake: fake, prov: prov, db: db,
		kinds: map[string]bool{}, actions: map[string]bool{}, callbacks: map[string]bool{},
		clicked: map[string]bool{}, submitted: map[string]bool{},
	}
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
	// The alert routes, built here and given their channel later (the
	// module shares the slice), so the channel ids of the steps before the
	// alerts stay what they were before alerts existed.
	g.routes = goldenAlertRoutes()
	pager := paging.New(paging.Config{Policies: policies, Providers: providers})
	incs := incidents.New()
	alerting := alerts.New(alerts.Config{Routes: g.routes, Tokens: map[string][]string{goldenAlertToken: {"quiet", "platform"}},
		Pager: pager, Declarer: incs})
	g.alerts = alerting.Receiver()
	// As cmd/incidentbot's newApp wires it, with the fake's workspace.
	announce := fake.AddChannel("incidents", false, alice, fake.BotUserID())
	status := fake.AddChannel("status-page", false, alice, fake.BotUserID())
	h, err := handlers.New(handlers.Config{
		AnnounceChannel: announce,
		TimelineEmojis:  []string{"pushpin"},
		ConfirmEmoji:    "white_check_mark",
		TimelinePrefix:  "TL:",
		BotUserID:       fake.BotUserID(),
		TeamID:          fake.TeamID(),
	}, handlers.Deps{DB: db, API: api, Now: clock.now, Log: zerolog.Nop()},
		incs, timeline.New(),
		comms.New(comms.Config{StatusChannel: status, FollowUpEmoji: "memo", UpdateEvery: 30 * time.Minute}),
		pager, alerting)
	if err != nil {
		t.Fatal(err)
	}
	// As auth.test tells the bot: permalinks are built locally, and pins of
	// messages seen arriving are confirmed with confirm_pin.
	h.SetTeamURL("https://" + "fake" + ".slack.com/")
	g.h = h
	return g
}

func (g *golden) printf(format string, args ...any) { fmt.Fprintf(&g.out, format, args...) }

// step is one thing people do; then everything it causes runs.
func (g *golden) step(what string, act func()) {
	g.t.Helper()
	g.printf("\n== %s %s\n", g.clock.now().Format("15:04"), what)
	act()
	g.settle()
}

// advance moves the clock on and runs the timers that fall due.
func (g *golden) advance(d time.Duration) {
	g.t.Helper()
	g.clock.advance(d)
	g.printf("\n== %s (clock +%s)\n", g.clock.now().Format("15:04"), d)
	g.settle()
}

// settle is the pump: it delivers the envelopes the fake has queued (what
// people did, and the events of the bot's own calls), then runs one due job,
// and so on until nothing is left to deliver and no job is due.
func (g *golden) settle() {
	g.t.Helper()
	for range 10000 {
		if g.deliver() || g.runOne() {
			continue
		}
		return
	}
	g.t.Fatal("the scenario does not settle")
}

// deliver hands every new envelope of the fake to Handle, each in its own
// transaction, as the bot does (it decodes them as socketmode does).
func (g *golden) deliver() bool {
	g.t.Helper()
	envs := g.fake.Envelopes()
	if g.envelopes == len(envs) {
		return false
	}
	for _, info := range envs[g.envelopes:] {
		g.envelopes++
		env := g.decode(info)
		if env == nil {
			continue // what socketmode would not decode, the bot acks unread
		}
		var ack any
		err := g.db.Update(func(tx *store.Tx) error {
			var err error
			ack, err = g.h.Handle(tx, env)
			return err
		})
		if err != nil {
			g.t.Fatalf("Handle %s %s: %v", info.Type, info.EventType, err)
		}
		if ack != nil {
			g.printAck(ack)
		}
	}
	return true
}

func (g *golden) decode(info slackfake.EnvelopeInfo) *bot.Envelope {
	var req socketmode.Request
	if err := json.Unmarshal(info.Frame, &req); err != nil {
		g.t.Fatalf("decode envelope: %v", err)
	}
	env := &bot.Envelope{ID: req.EnvelopeID, Type: req.Type, Payload: req.Payload,
		RetryAttempt: req.RetryAttempt, ReceivedAt: g.clock.now()}
	switch req.Type {
	case string(socketmode.EventTypeEventsAPI):
		ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			return nil
		}
		env.Data = ev
	case string(socketmode.EventTypeSlashCommand):
		var sc slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &sc); err != nil {
			g.t.Fatalf("decode slash command: %v", err)
		}
		env.Data = sc
	case string(socketmode.EventTypeInteractive):
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			g.t.Fatalf("decode interaction: %v", err)
		}
		env.Data = cb
	default:
		return nil
	}
	return env
}

// printAck writes down an ack payload's shape: its fields but the text, and
// the block ids an "errors" response_action names.
func (g *golden) printAck(ack any) {
	var m map[string]any
	raw, _ := json.Marshal(ack)
	if json.Unmarshal(raw, &m) != nil {
		g.printf("ack %s\n", raw)
		return
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		switch v := m[k].(type) {
		case string:
			if k != "text" {
				parts = append(parts, k+"="+v)
			}
		case map[string]any:
			parts = append(parts, k+"=["+strings.Join(sortedKeys(v), ",")+"]")
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	g.printf("ack %s\n", strings.Join(parts, " "))
}

// runOne runs the first due job, as the dispatcher would: lanes run in
// order, and a lane whose head waits for its time holds the jobs behind
// it. Of the lanes ready, the one with the oldest job goes first. The
// job's outcome (or, on an error, GiveUp) is committed with its removal.
func (g *golden) runOne() bool {
	g.t.Helper()
	var jobs []store.Job
	if err := g.db.View(func(tx *store.Tx) error {
		var err error
		jobs, err = tx.Jobs()
		return err
	}); err != nil {
		g.t.Fatal(err)
	}
	heads := map[string]bool{}
	for _, job := range jobs {
		if heads[job.Lane] {
			continue
		}
		heads[job.Lane] = true
		if !job.NotBefore.After(g.clock.now()) {
			g.run(job)
			return true
		}
	}
	return false
}

func (g *golden) run(job store.Job) {
	g.t.Helper()
	g.kinds[job.Kind] = true
	g.printf("job %s\n", jobLine(job))
	commit, runErr := g.h.Run(g.ctx, job)
	g.printCalls()
	err := g.db.Update(func(tx *store.Tx) error {
		if runErr != nil {
			if err := g.h.GiveUp(tx, job, runErr); err != nil {
				return err
			}
		} else if commit != nil {
			if err := commit(tx); err != nil {
				return err
			}
		}
		_, err := tx.DeleteJob(job.Seq)
		return err
	})
	if err != nil {
		g.t.Fatalf("commit %s job: %v", job.Kind, err)
	}
	if runErr != nil {
		g.printf("  gave up: %v\n", runErr)
	}
}

// jobLine is a job as the outbox keeps it: kind | lane | payload, and
// whether it is throttled or waits for a time (relative to its creation).
func jobLine(job store.Job) string {
	line := job.Kind + " | " + job.Lane + " | " + string(job.Payload)
	if job.Throttled {
		line += " | throttled"
	}
	if !job.NotBefore.IsZero() {
		line += " | not_before=created+" + job.NotBefore.Sub(job.Created).String()
	}
	return line
}

// callParamsSkipped are Web API arguments that are content, not identifiers.
var callParamsSkipped = map[string]bool{
	"token": true, "text": true, "blocks": true, "view": true, "topic": true,
	"initial_comment": true, "length": true,
}

// printCalls writes down the Web API calls and provider requests the last
// job made: each call's arguments but its content, and every identifier in
// the blocks or view it sent.
func (g *golden) printCalls() {
	calls := g.fake.Calls("")
	for _, c := range calls[g.calls:] {
		var args []string
		for _, k := range sortedKeys(c.Params) {
			if !callParamsSkipped[k] {
				args = append(args, k+"="+strings.Join(c.Params[k], ","))
			}
		}
		line := "  slack " + c.Method
		if len(args) > 0 {
			line += " " + strings.Join(args, " ")
		}
		if c.Error != "" {
			line += " -> error " + c.Error
		}
		g.printf("%s\n", line)
		if b := c.Params.Get("blocks"); b != "" {
			g.printIdentifiers("blocks", b)
		}
		if v := c.Params.Get("view"); v != "" {
			g.printIdentifiers("view", v)
		}
	}
	g.calls = len(calls)
	for _, r := range g.prov.take() {
		g.printf("  provider %s\n", r)
	}
}

// identifierKeys are the fields of blocks and views that Slack hands back
// to the bot in clicks and submissions.
var identifierKeys = []string{"callback_id", "private_metadata", "external_id", "block_id", "action_id", "value"}

func (g *golden) printIdentifiers(path, raw string) {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		g.t.Fatalf("decode %s: %v", path, err)
	}
	var lines []string
	walkIdentifiers(path, v, &lines)
	for _, l := range lines {
		g.printf("    %s\n", l)
	}
}

// walkIdentifiers lists, depth first, every object holding an identifier:
// its path, its type and the identifiers. It notes the action and callback
// ids it meets.
func walkIdentifiers(path string, v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		var ids []string
		for _, k := range identifierKeys {
			if s, ok := x[k].(string); ok {
				ids = append(ids, k+"="+s)
			}
		}
		if len(ids) > 0 {
			typ, _ := x["type"].(string)
			*out = append(*out, strings.TrimSpace(path+" "+typ)+" "+strings.Join(ids, " "))
		}
		for _, k := range sortedKeys(x) {
			switch x[k].(type) {
			case map[string]any, []any:
				walkIdentifiers(path+"."+k, x[k], out)
			}
		}
	case []any:
		for i, e := range x {
			walkIdentifiers(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	}
}

// noteIdentifiers records the action and callback ids in what the bot sent.
func (g *golden) noteIdentifiers() {
	for _, c := range g.fake.Calls("") {
		for _, k := range []string{"blocks", "view"} {
			var v any
			if json.Unmarshal([]byte(c.Params.Get(k)), &v) == nil {
				collect(v, "action_id", g.actions)
				collect(v, "callback_id", g.callbacks)
			}
		}
	}
}

func collect(v any, key string, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x[key].(string); ok {
			into[s] = true
		}
		for _, e := range x {
			collect(e, key, into)
		}
	case []any:
		for _, e := range x {
			collect(e, key, into)
		}
	}
}

// click clicks the button actionID on the newest message in channel that
// has it.
func (g *golden) click(user, channel, actionID string) {
	g.t.Helper()
	msgs := g.fake.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(string(msgs[i].Blocks), `"action_id":"`+actionID+`"`) {
			g.clicked[actionID] = true
			g.fake.ClickButton(user, channel, msgs[i].TS, actionID)
			return
		}
	}
	g.t.Fatalf("no message in %s has a button %s", channel, actionID)
}

// submit submits the newest open view with callbackID.
func (g *golden) submit(user, callbackID string, values map[string]map[string]string) {
	g.t.Helper()
	views := g.fake.Views()
	for i := len(views) - 1; i >= 0; i-- {
		if v := views[i]; v.CallbackID == callbackID && !v.Closed && v.User == user {
			g.submitted[callbackID] = true
			g.fake.SubmitView(user, v.ID, values)
			return
		}
	}
	g.t.Fatalf("no open view %s of %s", callbackID, user)
}

// channel returns the id of the channel whose name starts with prefix.
func (g *golden) channel(prefix string) string {
	g.t.Helper()
	for _, c := range g.fake.Channels() {
		if strings.HasPrefix(c.Name, prefix) {
			return c.ID
		}
	}
	g.t.Fatalf("no channel %s…", prefix)
	return ""
}

func TestPersistedIdentifiersGolden(t *testing.T) {
	g := newGolden(t)
	f := g.fake
	general := f.AddChannel("general", false, alice, bob, carol, dave)
	acme := f.AddChannel("acme-shared", false, alice, f.BotUserID())

	// Declaring by command: the channel and everything that follows it.
	g.step("alice: /incident declare sev2 … in #general", func() {
		f.SlashCommand(alice, general, "declare sev2 Checkout is failing for EU customers")
	})
	inc := g.channel("inc-1-")

	// The timeline: reactions, TL:, follow-ups, a mention in a thread.
	var deploy, config string
	g.step("alice posts two messages and pins both with :pushpin:", func() {
		deploy = f.PostMessage(alice, inc, "Deploy 4312 went out at 09:55")
		// With a file, so the bot reads it (fetch_message): the event of a
		// file share does not carry its files.
		config = f.PostMessage(alice, inc, "Config change 77 went out at 09:57",
			slackfake.WithFiles(slackfake.File{Name: "diff.txt", Title: "config diff", Content: []byte("-a\n+b\n")}))
		f.AddReaction(alice, inc, deploy, "pushpin")
		f.AddReaction(alice, inc, config, "pushpin")
	})
	g.step("alice takes her :pushpin: off the second", func() { f.RemoveReaction(alice, inc, config, "pushpin") })
	g.step("alice: TL: message", func() { f.PostMessage(alice, inc, "TL: rolled back deploy 4312") })
	g.step("alice reacts :memo: to a follow-up", func() {
		ts := f.PostMessage(alice, inc, "short-term: alert on the checkout error rate <@"+bob+">")
		f.AddReaction(alice, inc, ts, "memo")
	})
	g.step("alice mentions the bot in a thread", func() {
		parent := f.PostMessage(alice, inc, "Looking at the dashboards")
		f.PostMessage(alice, inc, "<@"+f.BotUserID()+"> note error rate is back to normal", slackfake.InThread(parent))
	})

	// Commands that change the incident.
	g.step("alice: /incident note --at 09:50 …", func() { f.SlashCommand(alice, inc, "note --at 09:50 Alerts fired") })
	g.step("alice: /incident status identified (the topic call fails: GiveUp)", func() {
		f.FailNext("conversations.setTopic", 1, slackfake.Fault{Error: "too_long"})
		f.SlashCommand(alice, inc, "status identified")
	})
	g.step("alice: /incident comms @bob", func() { f.SlashCommand(alice, inc, "comms <@"+bob+">") })
	g.step("alice: /incident impact …", func() { f.SlashCommand(alice, inc, "impact Checkout, Payments") })
	g.step("alice: /incident customers #acme-shared", func() { f.SlashCommand(alice, inc, "customers <#"+acme+">") })
	g.step("alice: /incident followup …", func() { f.SlashCommand(alice, inc, "followup mid-term: load test checkout <@"+carol+">") })
	g.step("alice: /incident started 09:45", func() { f.SlashCommand(alice, inc, "started 09:45") })

	// Paging: an automatic page acknowledged, a policy page declined into
	// its second level (a group and the providers, one of which fails) and
	// acknowledged there, and a direct page that runs out and is
	// acknowledged late.
	g.step("alice: /incident severity sev1 (pages policy database)", func() { f.SlashCommand(alice, inc, "severity sev1") })
	g.step("carol: Acknowledge", func() { g.click(carol, f.DM(carol), "page_ack") })
	g.step("alice: /incident page platform …", func() { f.SlashCommand(alice, inc, "page platform Checkout is down again") })
	g.step("bob: Decline (level 2: group and providers)", func() { g.click(bob, f.DM(bob), "page_decline") })
	g.step("carol: Acknowledge", func() { g.click(carol, f.DM(carol), "page_ack") })
	g.step("alice: /incident page @dave …", func() { f.SlashCommand(alice, inc, "page <@"+dave+"> please look at the database") })
	g.advance(5 * time.Minute)
	g.advance(5 * time.Minute)
	g.step("dave: Acknowledge (late)", func() { g.click(dave, f.DM(dave), "page_ack") })

	// Customer updates: preview, edit in the modal, post; another cancelled.
	g.step("alice: /incident update monitoring …", func() { f.SlashCommand(alice, inc, "update monitoring A fix is deployed.") })
	g.step("alice: Edit", func() { g.click(alice, inc, "update_edit") })
	g.step("alice submits the edit", func() {
		g.submit(alice, "update_edit", map[string]map[string]string{"text": {"text": "A fix is deployed; we are watching checkout."}})
	})
	g.step("alice: Post", func() { g.click(alice, inc, "update_post") })
	g.step("alice: /incident update monitoring … again", func() { f.SlashCommand(alice, inc, "update monitoring Still watching.") })
	g.step("alice: Cancel", func() { g.click(alice, inc, "update_cancel") })

	// Reminders: the stale one, then one with its three buttons.
	g.advance(20 * time.Minute)
	g.advance(10 * time.Minute)
	g.step("alice: Snooze", func() { g.click(alice, inc, "update_snooze") })
	g.step("alice: Skip", func() { g.click(alice, inc, "update_skip") })
	g.step("alice: Write an update", func() { g.click(alice, inc, "update_start") })

	// The end: postmortem, resolution, the timers left.
	g.step("alice: /incident postmortem", func() { f.SlashCommand(alice, inc, "postmortem") })
	g.step("alice: /incident resolve …", func() { f.SlashCommand(alice, inc, "resolve Rolled back and verified") })
	g.advance(2 * time.Hour)

	// Declaring with the form: a refused submission, then a good one.
	g.step("alice: /incident declare (the form)", func() { f.SlashCommand(alice, general, "declare") })
	g.step("alice submits the form without a title", func() {
		g.submit(alice, "declare", map[string]map[string]string{"title": {"title": ""}})
	})
	g.step("alice submits the form", func() {
		g.submit(alice, "declare", map[string]map[string]string{
			"title": {"title": "Search is slow"}, "severity": {"severity": "sev3"},
			"description": {"description": "p99 latency is 4s"},
		})
	})

	g.alertScenario()

	var pending []store.Job
	if err := g.db.View(func(tx *store.Tx) error {
		var err error
		pending, err = tx.Jobs()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	g.printf("\n== left in the outbox\n")
	for _, job := range pending {
		g.kinds[job.Kind] = true
		g.printf("job %s\n", jobLine(job))
	}

	g.printf("\n== records\n")
	for id := int64(1); id <= 2; id++ {
		g.printRecord(id)
	}

	g.printAlerts()

	g.printf("\n== ids\n")
	for _, c := range f.Channels() {
		name := "#" + c.Name
		if c.IsIM {
			name = "dm " + c.User
		}
		g.printf("%s %s\n", c.ID, name)
	}

	got := g.normalise(g.out.String())
	g.compare(got)

	g.noteIdentifiers()
	checkSet(t, "job kinds run", g.kinds, allJobKinds)
	checkSet(t, "action ids posted", g.actions, append(slices.Clone(allButtonIDs), allFieldIDs...))
	checkSet(t, "action ids clicked", g.clicked, allButtonIDs)
	checkSet(t, "callback ids opened", g.callbacks, allCallbackIDs)
	checkSet(t, "callback ids submitted", g.submitted, allCallbackIDs)
}

// printRecord writes down the identifiers the handlers stored in an
// incident's record: where its messages are, the timeline's event names and
// source keys, and what pages and drafts point at.
func (g *golden) printRecord(id int64) {
	g.t.Helper()
	var rec *report.Record
	if err := g.db.View(func(tx *store.Tx) error {
		var err error
		rec, err = report.Load(tx, id)
		return err
	}); err != nil {
		g.t.Fatal(err)
	}
	inc := rec.Incident
	g.printf("incident %d channel_id=%s channel_name=%s summary_ts=%s reminder=%d customer_channels=%v\n",
		inc.ID, inc.ChannelID, inc.ChannelName, inc.SummaryTS, inc.Reminder, inc.CustomerChannels)
	for _, e := range rec.Timeline {
		line := "  entry " + string(e.Kind)
		for _, kv := range [][2]string{{"event", e.Event}, {"author", e.Author.ID}, {"source", e.Source},
			{"pinned_by", strings.Join(e.PinnedBy, ",")}} {
			if kv[1] != "" {
				line += " " + kv[0] + "=" + kv[1]
			}
		}
		if e.Pending {
			line += " pending"
		}
		if e.Deleted {
			line += " deleted"
		}
		g.printf("%s\n", line)
	}
	for _, f := range inc.FollowUps {
		g.printf("  follow_up horizon=%s owner=%s by=%s source=%s\n", f.Horizon, f.Owner.ID, f.By.ID, f.Source)
	}
	for _, d := range inc.Drafts {
		g.printf("  draft %d status=%s state=%s preview_ts=%s\n", d.ID, d.Status, d.State, d.PreviewTS)
	}
	for _, e := range inc.Escalations {
		g.printf("  escalation %d policy=%s state=%s step=%d level=%d round=%d acked_by=%s\n",
			e.ID, e.Policy, e.State, e.Step, e.Level, e.Round, e.AckedBy.ID)
		for _, p := range e.Pages {
			g.printf("    page %d target=%s user=%s group=%s step=%d state=%s channel=%s ts=%s\n",
				p.ID, p.Target, p.User.ID, p.Group, p.Step, p.State, p.Channel, p.TS)
		}
	}
}

// normalise replaces what changes from run to run: the ports of the fake
// Slack and of the fake providers, in response_urls, webhook targets and
// upload URLs.
func (g *golden) normalise(s string) string {
	// A provider lane is a hash of its target, whose URL has the port in it.
	webhookLane := bot.ProviderLane("webhook:" + g.prov.srv.URL + "/hook")
	return strings.NewReplacer(g.fake.URL(), "http://slack.test", g.prov.srv.URL, "http://provider.test",
		webhookLane, "provider:<hash of the webhook target>").Replace(s)
}

func (g *golden) compare(got string) {
	t := g.t
	const header = "# Persisted identifiers of incidentbot's handlers: written by TestPersistedIdentifiersGolden.\n" +
		"# Regenerate with: go test ./handlers -run TestPersistedIdentifiers -update\n" +
		"# Each changed line is a format that existing databases or Slack messages still hold.\n"
	got = header + got
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b {
			t.Fatalf("persisted identifiers differ from %s at line %d:\n got: %s\nwant: %s\n"+
				"If the change is intended (and old databases and messages still work), regenerate with -update and review the diff.",
				goldenFile, i+1, a, b)
		}
	}
}

func checkSet(t *testing.T, what string, got map[string]bool, want []string) {
	t.Helper()
	var missing, extra []string
	for _, w := range want {
		if !got[w] {
			missing = append(missing, w)
		}
	}
	for _, k := range sortedKeys(got) {
		if !slices.Contains(want, k) {
			extra = append(extra, k)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("%s: missing %v, not in the list %v (update the scenario or the list)", what, missing, extra)
	}
}

// canonicalJSON re-encodes a JSON body with sorted keys; other bodies are
// returned as they are.
func canonicalJSON(data []byte) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return string(data)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
