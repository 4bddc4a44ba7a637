package main

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

const (
	stormSenders   = 20
	pinsPerSender  = 15 // 300 pins in all
	benchPinsTotal = stormSenders * pinsPerSender
)

// stormWorkspace is one incident channel with 20 people in it, each with
// their own messages to pin.
func stormWorkspace(fake *slackfake.Server, channel string) (senders []string, msgs map[string][]string) {
	msgs = map[string][]string{}
	for i := 0; i < stormSenders; i++ {
		u := fake.AddUser(slackfake.User{Name: "sender" + strconv.Itoa(i)})
		fake.JoinChannel(u, channel)
		senders = append(senders, u)
		for j := 0; j < pinsPerSender; j++ {
			msgs[u] = append(msgs[u], fake.PostMessage(u, channel, "finding "+strconv.Itoa(i)+"."+strconv.Itoa(j)))
		}
	}
	return senders, msgs
}

// pinAll pins every message, each sender from their own goroutine, and
// returns when every reaction envelope is acked; first is when the first
// reaction was made.
func pinAll(b *testing.B, fake *slackfake.Server, channel string, senders []string, msgs map[string][]string) (first time.Time, lat []time.Duration) {
	start := len(fake.Envelopes())
	first = time.Now()
	var wg sync.WaitGroup
	for _, u := range senders {
		wg.Go(func() {
			for _, ts := range msgs[u] {
				fake.AddReaction(u, channel, ts, "pushpin")
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := fake.WaitFor(ctx, func() bool { return len(fake.Unacked()) == 0 }); err != nil {
		b.Fatalf("acks: %v", err)
	}
	for _, e := range fake.Envelopes()[start:] {
		if a, ok := fake.Ack(e.ID); ok {
			lat = append(lat, a.Latency)
		}
	}
	return first, lat
}

// BenchmarkPinStorm pins 300 messages from 20 senders in one incident: the
// bot (record, ack, read, confirm with ✅) against its floor in the same run,
// a bare slack-go Socket Mode client that only acks. It reports the time
// from the first reaction to the last ✅ (the bot) or the last ack (the
// floor), ack p50/p99, and the bot's Web API calls per pin.
// Run: go test ./cmd/incidentbot -run '^$' -bench PinStorm -benchtime 1x -count 5
func BenchmarkPinStorm(b *testing.B) {
	b.Run("bot", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			h := newHarness(b, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
			ch := h.declared(1, "declare sev2 Config updates not propagating")
			senders, msgs := stormWorkspace(h.fake, ch.ID)
			h.idle()
			calls := len(h.fake.Calls(""))
			b.StartTimer()
			first, lat := pinAll(b, h.fake, ch.ID, senders, msgs)
			// Cheap to watch (the fake counts calls); checked in full below.
			h.waitFor("every pin confirmed", func() bool { return confirmations(h.fake) >= benchPinsTotal })
			took := time.Since(first)
			b.StopTimer()
			for _, u := range senders {
				for _, ts := range msgs[u] {
					if !botReacted(h.fake, ch.ID, ts, "white_check_mark") {
						b.Fatalf("pin %s was not confirmed", ts)
					}
				}
			}
			h.idle()
			b.ReportMetric(float64(took)/float64(time.Millisecond), "ms-to-last-confirm")
			b.ReportMetric(float64(len(h.fake.Calls(""))-calls)/benchPinsTotal, "calls/pin")
			reportLatency(b, lat)
			h.stop()
		}
	})
	b.Run("floor", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			fake := slackfake.New(slackfake.Options{})
			ch := fake.AddChannel("inc-1", false, fake.BotUserID())
			senders, msgs := stormWorkspace(fake, ch)
			api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken(fake.AppToken()))
			client := socketmode.New(api)
			ctx, cancel := context.WithCancel(context.Background())
			go func() { _ = client.RunContext(ctx) }()
			go func() {
				for evt := range client.Events {
					if evt.Request != nil {
						_ = client.Ack(*evt.Request)
					}
				}
			}()
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			if err := fake.WaitFor(wctx, fake.Connected); err != nil {
				b.Fatal("the floor client did not connect")
			}
			wcancel()
			_ = fake.WaitFor(ctx, func() bool { return len(fake.Unacked()) == 0 })
			b.StartTimer()
			first, lat := pinAll(b, fake, ch, senders, msgs)
			took := time.Since(first)
			b.StopTimer()
			b.ReportMetric(float64(took)/float64(time.Millisecond), "ms-to-last-confirm")
			reportLatency(b, lat)
			cancel()
			fake.Close()
		}
	})
}

// confirmations counts the bot's successful reactions.add calls.
func confirmations(fake *slackfake.Server) int {
	n := 0
	for _, c := range fake.Calls("reactions.add") {
		if c.Status == 0 || c.Status == 200 {
			n++
		}
	}
	return n
}
