package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
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
	alice    string // a responder
	bob      string // another responder
	general  string // a channel everyone is in
	announce string // the announce channel
}

type harnessOption func(*harness)

// withConfig adjusts the configuration before the bot starts.
func withConfig(fn func(*Config)) harnessOption { return func(h *harness) { fn(&h.cfg) } }

// withBotConfig adjusts the bot's tuning before it starts.
func withBotConfig(fn func(*bot.Config)) harnessOption { return func(h *harness) { fn(&h.deps.Bot) } }

// newHarness starts a fake workspace and the bot; both stop at test end.
func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := buildHarness(t, slackfake.Options{}, opts...)
	h.start()
	return h
}

// buildHarness makes the fake workspace and the bot's configuration without
// starting the bot, for tests that start it their own way.
func buildHarness(t testing.TB, fopts slackfake.Options, opts ...harnessOption) *harness {
	t.Helper()
	fake := slackfake.New(fopts)
	t.Cleanup(fake.Close)
	h := &harness{t: t, fake: fake}
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
		Log: testLogger(t),
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

// testLogger logs to the test log only when INCIDENTBOT_TEST_LOG is set, so
// failures stay readable.
func testLogger(t testing.TB) zerolog.Logger {
	if os.Getenv("INCIDENTBOT_TEST_LOG") == "" {
		return zerolog.New(io.Discard)
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: testWriter{t}, NoColor: true}).With().Timestamp().Logger()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start runs the bot and waits until it is connected.
func (h *harness) start() {
	h.t.Helper()
	h.launch()
	h.waitFor("the bot to connect", func() bool { ok, _ := h.app.bot.Ready(); return ok })
}

// launch starts the bot without waiting for it to connect (Slack may be
// down).
func (h *harness) launch() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(h.cfg, h.deps)
	if err != nil {
		cancel()
		h.t.Fatalf("newApp: %v", err)
	}
	h.app, h.cancel, h.done = a, cancel, make(chan error, 1)
	go func() { h.done <- a.run(ctx) }()
}

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

// waitFor waits up to 10 s for cond. It re-checks on every change in the
// fake, and every 10 ms for conditions on the bot's own state.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		err := h.fake.WaitFor(ctx, cond)
		cancel()
		if err == nil {
			return
		}
	}
	h.t.Fatalf("timed out waiting for %s", what)
}

// slash runs a slash command as user in channel and returns the ack payload.
func (h *harness) slash(user, channel, text string) string {
	h.t.Helper()
	id := h.fake.SlashCommand(user, channel, text)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := h.fake.WaitAck(ctx, id)
	if err != nil {
		h.t.Fatalf("slash command %q was not acked: %v", text, err)
	}
	return string(ack.Payload)
}

// incidentChannel waits for incident n's channel and returns it.
func (h *harness) incidentChannel(n int) slackfake.Channel {
	h.t.Helper()
	prefix := "inc-" + itoa(n)
	var found slackfake.Channel
	h.waitFor("channel "+prefix+"-…", func() bool {
		for _, c := range h.fake.Channels() {
			if c.Name == prefix || strings.HasPrefix(c.Name, prefix+"-") {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

// messageWith waits for a message in channel whose text (or blocks)
// contains all the given strings.
func (h *harness) messageWith(channel string, parts ...string) slackfake.Message {
	h.t.Helper()
	var found slackfake.Message
	h.waitFor("a message in "+channel+" with "+strings.Join(parts, ", "), func() bool {
		for _, m := range h.fake.Messages(channel) {
			if containsAll(m.Text+string(m.Blocks), parts...) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// ephemeralWith waits for an ephemeral reply to user containing parts.
func (h *harness) ephemeralWith(user string, parts ...string) slackfake.Message {
	h.t.Helper()
	var found slackfake.Message
	h.waitFor("an ephemeral to "+user+" with "+strings.Join(parts, ", "), func() bool {
		for _, m := range h.fake.Ephemerals(user) {
			if containsAll(m.Text+string(m.Blocks), parts...) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// idle waits until the bot has no outbound work left.
func (h *harness) idle() {
	h.t.Helper()
	h.waitFor("the outbox to drain", func() bool { return h.app.bot.Due() == 0 })
}

// view reads the database while the bot runs.
func (h *harness) view(fn func(*store.Tx) error) {
	h.t.Helper()
	if err := h.app.db.View(fn); err != nil {
		h.t.Fatalf("read database: %v", err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }
