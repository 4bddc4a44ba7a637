package main

// Helpers shared by the fault tests (e2e_faults_test.go, crash_test.go,
// e2e_disk_linux_test.go, e2e_badinput_test.go). Their names start with
// "ft" so they cannot collide with the other tests' helpers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
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

// ftHarness is newHarness with options for the fake Slack (automatic
// redelivery, ping interval). It does not start the bot: call h.start() or
// h.ftStartWithSocket.
func ftHarness(t testing.TB, fopts slackfake.Options, opts ...harnessOption) *harness {
	t.Helper()
	return buildHarness(t, fopts, opts...)
}

// ftStartWithSocket starts the bot as newApp wires it, except that its
// Socket Mode client gets extra options (a shorter ping timeout): the one
// knob production does not expose.
func (h *harness) ftStartWithSocket(opts ...socketmode.Option) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(h.cfg, h.deps)
	if err != nil {
		cancel()
		h.t.Fatalf("newApp: %v", err)
	}
	b := bot.New(h.deps.Bot, socketmode.New(a.api, opts...), a.db, a.handlers, a.handlers, h.deps.Clock, h.deps.Log)
	b.SetMetrics(a.metrics)
	a.metrics.SetStateFunc(func() metrics.State { return state(a.db, b) })
	a.bot = b
	h.app, h.cancel, h.done = a, cancel, make(chan error, 1)
	go func() { h.done <- a.run(ctx) }()
	h.waitFor("the bot to connect", func() bool { ok, _ := h.app.bot.Ready(); return ok })
}

// ftWithLog sends the bot's log (JSON lines) to l as well.
func ftWithLog(l *ftLog) harnessOption {
	return func(h *harness) {
		h.deps.Log = zerolog.New(io.MultiWriter(l, ftTestLogWriter(h.t))).With().Timestamp().Logger()
	}
}

func ftTestLogWriter(t testing.TB) io.Writer {
	if os.Getenv("INCIDENTBOT_TEST_LOG") == "" {
		return io.Discard
	}
	return testWriter{t}
}

// ftLog collects log lines (of the bot in this process, or of a child's
// stderr) for assertions.
type ftLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
}

func (l *ftLog) Write(p []byte) (int, error) {
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
func (l *ftLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// Has reports whether some line contains all parts.
func (l *ftLog) Has(parts ...string) bool {
	for _, line := range l.Lines() {
		if containsAll(line, parts...) {
			return true
		}
	}
	return false
}

// ftWait waits up to timeout for cond, re-checking it on every change in the
// fake and at least every 10 ms (for conditions outside the fake).
func ftWait(t testing.TB, fake *slackfake.Server, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		err := fake.WaitFor(ctx, cond)
		cancel()
		if err == nil {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// ftEnvelope is the part of an envelope frame the fault tests look at.
type ftEnvelope struct {
	Payload struct {
		Text  string `json:"text"` // slash commands
		Event struct {
			Type string `json:"type"`
			User string `json:"user"`
			Text string `json:"text"`
			TS   string `json:"ts"`
			Item struct {
				Channel string `json:"channel"`
				TS      string `json:"ts"`
			} `json:"item"`
			Reaction string `json:"reaction"`
		} `json:"event"`
	} `json:"payload"`
}

func ftDecode(t testing.TB, e slackfake.EnvelopeInfo) ftEnvelope {
	t.Helper()
	var d ftEnvelope
	if err := json.Unmarshal(e.Frame, &d); err != nil {
		t.Fatalf("envelope %s: %v", e.ID, err)
	}
	return d
}

// ftEventsAcked reports whether every Events API event the fake created
// (by event_id) has at least one acked delivery, and how many have not.
func ftEventsAcked(fake *slackfake.Server) (bool, int) {
	acked := map[string]bool{}
	for _, e := range fake.Envelopes() {
		if e.Type == "events_api" {
			acked[e.EventID] = acked[e.EventID] || e.Acked
		}
	}
	missing := 0
	for _, ok := range acked {
		if !ok {
			missing++
		}
	}
	return missing == 0, missing
}

// ftEventEnvelopes returns the deliveries of events of eventType about the
// message at ts (the item of a reaction, or the message itself).
func ftEventEnvelopes(t testing.TB, fake *slackfake.Server, eventType, ts string) []slackfake.EnvelopeInfo {
	t.Helper()
	var out []slackfake.EnvelopeInfo
	for _, e := range fake.Envelopes() {
		if e.Type != "events_api" || e.EventType != eventType {
			continue
		}
		d := ftDecode(t, e)
		if d.Payload.Event.Item.TS == ts || d.Payload.Event.TS == ts {
			out = append(out, e)
		}
	}
	return out
}

// ftAnyAcked reports whether one of envs was acked.
func ftAnyAcked(envs []slackfake.EnvelopeInfo) bool {
	return slices.ContainsFunc(envs, func(e slackfake.EnvelopeInfo) bool { return e.Acked })
}

// ftBotReacted reports whether the bot's reaction name is on a message.
func ftBotReacted(fake *slackfake.Server, channel, ts, name string) bool {
	m, ok := fake.Message(channel, ts)
	return ok && slices.Contains(m.Reactions[name], fake.BotUserID())
}

// ftBotPosts returns the texts of the bot's messages in channel, oldest first.
func ftBotPosts(fake *slackfake.Server, channel string) []string {
	var out []string
	for _, m := range fake.Messages(channel) {
		if m.User == fake.BotUserID() && m.Subtype == "" {
			out = append(out, m.Text)
		}
	}
	return out
}

// ftPostCalls returns the chat.postMessage calls to channel (whatever the
// fake answered) made at or after since, in arrival order.
func ftPostCalls(fake *slackfake.Server, channel string, since time.Time) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Params.Get("channel") == channel && !c.Time.Before(since) {
			out = append(out, c)
		}
	}
	return out
}

// ftFreeAddr returns a loopback address with a port nobody listens on.
func ftFreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// ftGet fetches a URL of a bot's HTTP endpoint; code is 0 when it cannot be
// reached.
func ftGet(url string) (code int, body string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ftMetric reads one sample from a Prometheus text body (-1 when absent).
func ftMetric(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// ftLiveSpecial finds special mentions Slack would notify with in text the
// bot posted: <!channel>, <!here>, <!everyone>, <!subteam^…>, and the plain
// @channel, @here, @everyone (the bot breaks those with a word joiner).
var ftLiveSpecial = regexp.MustCompile(`(?i)<!(channel|here|everyone|subteam)|@(channel|here|everyone)\b`)

// ftRenderedTexts returns every string in a Block Kit (or attachments or
// view) JSON document that Slack renders as mrkdwn, where mentions are live;
// plain_text objects, which Slack shows literally, are left out.
func ftRenderedTexts(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return []string{string(raw)}
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "plain_text" {
				return
			}
			for _, child := range x {
				walk(child)
			}
		case []any:
			for _, child := range x {
				walk(child)
			}
		case string:
			out = append(out, x)
		}
	}
	walk(v)
	return out
}

// ftShown is one thing the bot showed someone, for the mention scan.
type ftShown struct{ where, text string }

// ftEverythingShown collects every text the bot showed: its messages in
// every conversation (text, blocks, attachments), every ephemeral it sent
// (ack payloads, response_url answers, chat.postEphemeral), topics and
// purposes, and views.
func ftEverythingShown(fake *slackfake.Server, users ...string) []ftShown {
	var out []ftShown
	add := func(where string, texts ...string) {
		for _, t := range texts {
			out = append(out, ftShown{where, t})
		}
	}
	for _, c := range fake.Channels() {
		add("topic of "+c.ID, c.Topic)
		add("purpose of "+c.ID, c.Purpose)
		for _, m := range fake.Messages(c.ID) {
			if m.User != fake.BotUserID() && m.BotID == "" {
				continue // what people typed is theirs
			}
			where := fmt.Sprintf("message %s in %s", m.TS, c.ID)
			add(where, m.Text)
			add(where+" (blocks)", ftRenderedTexts(m.Blocks)...)
			add(where+" (attachments)", ftRenderedTexts(m.Attachments)...)
		}
	}
	for _, u := range users {
		for _, m := range fake.Ephemerals(u) {
			if m.Via == "timeout" {
				continue // Slack's own notice
			}
			where := fmt.Sprintf("ephemeral to %s via %s", u, m.Via)
			add(where, m.Text)
			add(where+" (blocks)", ftRenderedTexts(m.Blocks)...)
		}
	}
	for _, v := range fake.Views() {
		add("view "+v.ID, ftRenderedTexts(v.JSON)...)
	}
	return out
}

// ftIncidentChannel finds incident n's channel (inc-n-…).
func ftIncidentChannel(fake *slackfake.Server, n int) (slackfake.Channel, bool) {
	prefix := "inc-" + strconv.Itoa(n)
	for _, c := range fake.Channels() {
		if c.Name == prefix || strings.HasPrefix(c.Name, prefix+"-") {
			return c, true
		}
	}
	return slackfake.Channel{}, false
}
