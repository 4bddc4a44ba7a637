package main

// The end-to-end harness: the real bot against the fake Slack, its
// configuration, its clock and its log. The other helpers of these tests
// are one file a concern:
//
//	wait_test.go           waiting: for a condition, for the bot to be idle, FastForward
//	slack_actions_test.go  what people do: slash commands, clicks, form submissions
//	envelopes_test.go      what the fake delivered to the bot and what it acked
//	expect_test.go         expectations on what people see (ExpectMessage, ExpectDM, …)
//	shown_test.go          reading what the bot showed (block texts, its posts, ack texts)
//	state_test.go          reading the bot's database (incidents, timelines)
//	http_test.go           the bot's HTTP endpoints (/metrics, /readyz, /backup)
//	secrets_test.go        AssertNoSecret
//	process_test.go        the bot as a child process (SIGKILL, SIGTERM, exit codes)
//	paging_fixture_test.go escalation policies, on-call people and a fake PagerDuty/Opsgenie

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/metrics"
)

// harness runs the real bot (newApp, as `run` wires it) against the fake
// Slack over a real WebSocket.
type harness struct {
	t        testing.TB
	fake     *slackfake.Server
	cfg      Config
	deps     appDeps
	app      *app
	cancel   context.CancelFunc
	done     chan error
	log      *logLines // every line the bot logged (JSON), across restarts
	clock    *simClock // the simulated clock (withSimClock); nil: the wall clock
	secrets  []string  // what must never show (Secret, AssertNoSecret)
	alice    string    // a responder
	bob      string    // another responder
	general  string    // a channel everyone is in
	announce string    // the announce channel
}

type harnessOption func(*harness)

// withConfig adjusts the configuration before the bot starts.
func withConfig(fn func(*Config)) harnessOption { return func(h *harness) { fn(&h.cfg) } }

// withBotConfig adjusts the bot's tuning before it starts.
func withBotConfig(fn func(*bot.Config)) harnessOption { return func(h *harness) { fn(&h.deps.Bot) } }

// simStart is when the simulated clock of withSimClock starts.
var simStart = time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)

// withSimClock runs the bot on a simulated clock starting at simStart, which
// moves only by h.FastForward.
func withSimClock(h *harness) {
	h.clock = newSimClock(simStart)
	h.deps.Clock = h.clock
}

// withWallClock undoes withSimClock.
func withWallClock(h *harness) {
	h.clock = nil
	h.deps.Clock = nil
}

// newHarness starts a fake workspace and the bot; both stop at test end.
func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := buildHarness(t, slackfake.Options{}, opts...)
	h.start()
	return h
}

// buildHarness makes the fake workspace (with options for the fake: automatic
// redelivery, ping interval) and the bot's configuration without starting
// the bot, for tests that start it their own way: call h.start.
func buildHarness(t testing.TB, fopts slackfake.Options, opts ...harnessOption) *harness {
	t.Helper()
	fake := slackfake.New(fopts)
	t.Cleanup(fake.Close)
	h := &harness{t: t, fake: fake, log: &logLines{}}
	h.alice = fake.AddUser(slackfake.User{Name: "alice", RealName: "Alice Adams", DisplayName: "alice"})
	h.bob = fake.AddUser(slackfake.User{Name: "bob", RealName: "Bob Brown", DisplayName: "bob"})
	h.general = fake.AddChannel("general", false, h.alice, h.bob)
	h.announce = fake.AddChannel("incidents", false, h.alice, h.bob, fake.BotUserID())
	h.cfg = Config{
		AppToken: fake.AppToken(), BotToken: fake.BotToken(), SlackApiURL: fake.APIURL(),
		DB: filepath.Join(t.TempDir(), "incidentbot.db"), AnnounceChannel: h.announce,
		TimelineEmoji: []string{"pushpin"}, ConfirmEmoji: "white_check_mark", TimelinePrefix: "TL:", LogFormat: "json", LogLevel: "debug",
	}
	h.deps = appDeps{
		// Fast retries and posts keep tests quick; the rate and backoff
		// themselves are tested on their own.
		Bot: bot.Config{PostInterval: 20 * time.Millisecond, Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
		Log: testLogger(t, h.log),
	}
	for _, o := range opts {
		o(h)
	}
	if _, err := h.cfg.Validate(true); err != nil {
		t.Fatalf("harness config: %v", err)
	}
	t.Cleanup(h.stop)
	return h
}

// testLogger logs JSON lines to capture, and to the test log as well when
// INCIDENTBOT_TEST_LOG is set (off by default, so failures stay readable).
func testLogger(t testing.TB, capture io.Writer) zerolog.Logger {
	w := capture
	if os.Getenv("INCIDENTBOT_TEST_LOG") != "" {
		w = io.MultiWriter(capture, zerolog.ConsoleWriter{Out: testWriter{t}, NoColor: true})
	}
	return zerolog.New(w).With().Timestamp().Logger()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// logLines collects log lines (of the bot in this process, or of a child's
// stderr) for assertions.
type logLines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.Reset()
			l.buf.WriteString(line) // an incomplete line waits for the rest
			break
		}
		l.lines = append(l.lines, strings.TrimRight(line, "\n"))
	}
	return len(p), nil
}

// Lines returns a copy of the complete lines so far.
func (l *logLines) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// Has reports whether some line contains all parts.
func (l *logLines) Has(parts ...string) bool {
	for _, line := range l.Lines() {
		if containsAll(line, parts...) {
			return true
		}
	}
	return false
}

// start runs the bot and waits until it is connected. Socket Mode options
// (a shorter ping timeout: the one knob production does not expose) replace
// the client newApp wires.
func (h *harness) start(socketOpts ...socketmode.Option) {
	h.t.Helper()
	h.launch(socketOpts...)
	h.waitFor("the bot to connect", func() bool { ok, _ := h.app.bot.Ready(); return ok })
}

// launch starts the bot without waiting for it to connect (Slack may be
// down).
func (h *harness) launch(socketOpts ...socketmode.Option) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(h.cfg, h.deps)
	if err != nil {
		cancel()
		h.t.Fatalf("newApp: %v", err)
	}
	if a.cfg.AlertsAddr != "" {
		// The alert receiver on a real port, as run binds it; the health
		// endpoints are tested in-process (h.get).
		a.cfg.HTTPAddr = ""
		if err := a.listen(); err != nil {
			cancel()
			h.t.Fatalf("listen: %v", err)
		}
	}
	if len(socketOpts) > 0 {
		b := bot.New(h.deps.Bot, socketmode.New(a.api, socketOpts...), a.db, a.handlers, a.handlers, h.deps.Clock, h.deps.Log)
		b.SetMetrics(a.metrics)
		a.metrics.SetStateFunc(func() metrics.State { return state(a.db, b) })
		a.bot = b
	}
	h.app, h.cancel, h.done = a, cancel, make(chan error, 1)
	go func() { h.done <- a.run(ctx) }()
}

// running reports whether the bot was started and not stopped.
func (h *harness) running() bool { return h.cancel != nil }

// stop shuts the bot down cleanly (idempotent).
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("bot stopped with error: %v", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Errorf("bot did not stop within 15s")
	}
	h.cancel = nil
}

// restart stops the bot and starts a new one on the same database file.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}
