package slackfake

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// testTimeout bounds every wait in these tests; nothing sleeps.
const testTimeout = 10 * time.Second

// bot is a minimal Socket Mode app driven by slack-go's real clients.
type bot struct {
	t    *testing.T
	fake *Server
	api  *slack.Client
	sm   *socketmode.Client
	reqs chan socketmode.Event
	ctx  context.Context
}

// startBot starts a fake with opts and a slack-go Socket Mode client
// connected to it. Envelopes arrive on b.reqs and are not acked
// automatically.
func startBot(t *testing.T, opts Options, smOpts ...socketmode.Option) *bot {
	t.Helper()
	fake := New(opts)
	t.Cleanup(fake.Close)
	api := slack.New(fake.BotToken(),
		slack.OptionAppLevelToken(fake.AppToken()),
		slack.OptionAPIURL(fake.APIURL()))
	sm := socketmode.New(api, smOpts...)
	ctx, cancel := context.WithCancel(context.Background())
	b := &bot{t: t, fake: fake, api: api, sm: sm, reqs: make(chan socketmode.Event, 256), ctx: ctx}
	var wg sync.WaitGroup
	wg.Go(func() { _ = sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case ev := <-sm.Events:
				if ev.Request != nil && ev.Request.EnvelopeID != "" {
					b.reqs <- ev
				}
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	b.waitFor(func() bool { return fake.Connected() }, "socket connected")
	return b
}

func (b *bot) waitFor(cond func() bool, what string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := b.fake.WaitFor(ctx, cond); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// next returns the next envelope the bot receives.
func (b *bot) next() socketmode.Event {
	b.t.Helper()
	select {
	case ev := <-b.reqs:
		return ev
	case <-time.After(testTimeout):
		b.t.Fatal("no envelope received")
		return socketmode.Event{}
	}
}

// nextWhere skips (and acks) envelopes until one matches.
func (b *bot) nextWhere(match func(socketmode.Event) bool) socketmode.Event {
	b.t.Helper()
	for {
		ev := b.next()
		if match(ev) {
			return ev
		}
		b.ack(ev, nil)
	}
}

func (b *bot) ack(ev socketmode.Event, payload any) {
	b.t.Helper()
	var err error
	if payload == nil {
		err = b.sm.Ack(*ev.Request)
	} else {
		err = b.sm.Ack(*ev.Request, payload)
	}
	if err != nil {
		b.t.Fatalf("ack: %v", err)
	}
}

// innerEvent decodes the inner event of an events_api envelope.
func innerEvent(t *testing.T, ev socketmode.Event) (slackevents.EventsAPIEvent, *slackevents.EventsAPICallbackEvent) {
	t.Helper()
	api, ok := ev.Data.(slackevents.EventsAPIEvent)
	if !ok {
		t.Fatalf("not an events_api event: %T", ev.Data)
	}
	cb, ok := api.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok {
		t.Fatalf("not an event_callback: %T", api.Data)
	}
	return api, cb
}

func isEventType(typ string) func(socketmode.Event) bool {
	return func(ev socketmode.Event) bool {
		api, ok := ev.Data.(slackevents.EventsAPIEvent)
		return ok && api.InnerEvent.Type == typ
	}
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return c
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
}

// setWall replaces the fake's real-time clock.
func (s *Server) setWall(f func() time.Time) {
	s.mu.Lock()
	s.wall = f
	s.mu.Unlock()
}

type slackEvent = socketmode.Event
