package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
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
// returns when every reaction envelope is acked: first is when the first
// reaction was made, from the index of the first storm envelope.
func pinAll(b *testing.B, fake *slackfake.Server, channel string, senders []string, msgs map[string][]string) (first time.Time, from int) {
	from = fake.EnvelopeCount()
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
	poll(b, "every pin acked", func() bool { return fake.UnackedCount() == 0 })
	return first, from
}

// poll waits for cond, checking every millisecond. (Not fake.WaitFor: it
// checks on every change in the fake, under the fake's lock, and a storm
// makes thousands; the figures come from the fake's own timestamps, so
// the millisecond of polling is not in them.)
func poll(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// acks returns the ack latencies of the envelopes from index from on
// (envelope written to the socket → ack read, as the fake measured), and
// when the last ack was read.
func acks(fake *slackfake.Server, from int) (lat []time.Duration, last time.Time) {
	for _, e := range fake.Envelopes()[from:] {
		if a, ok := fake.Ack(e.ID); ok {
			lat = append(lat, a.Latency)
			if a.At.After(last) {
				last = a.At
			}
		}
	}
	return lat, last
}

// lastConfirmation is when the fake received the last successful
// reactions.add.
func lastConfirmation(fake *slackfake.Server) time.Time {
	var last time.Time
	for _, c := range fake.Calls("reactions.add") {
		if (c.Status == 0 || c.Status == 200) && c.Time.After(last) {
			last = c.Time
		}
	}
	return last
}

// floorClient is a bare slack-go Socket Mode client connected to fake. It
// acks every envelope; with confirm, it also adds a ✅ to every pinned
// message, 8 calls at a time (the bot's Workers), as the bot would without
// a database.
func floorClient(b *testing.B, fake *slackfake.Server, channel string, confirm bool) (stop func()) {
	// Connections kept as the bot keeps them (app.go): with the default 2
	// idle per host, the 8 workers would open and close connections, and
	// the fake's side of that would weigh on this reference.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken(fake.AppToken()),
		slack.OptionHTTPClient(&http.Client{Transport: transport}))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = client.RunContext(ctx) }()
	pins := make(chan string, benchPinsTotal)
	go func() {
		for evt := range client.Events {
			if evt.Request == nil {
				continue
			}
			_ = client.Ack(*evt.Request)
			if ev, ok := evt.Data.(slackevents.EventsAPIEvent); ok && confirm {
				if r, ok := ev.InnerEvent.Data.(*slackevents.ReactionAddedEvent); ok && r.Reaction == "pushpin" {
					pins <- r.Item.Timestamp
				}
			}
		}
	}()
	var workers sync.WaitGroup
	for range 8 {
		workers.Go(func() {
			for ts := range pins {
				_ = api.AddReactionContext(ctx, "white_check_mark", slack.NewRefToMessage(channel, ts))
			}
		})
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := fake.WaitFor(wctx, fake.Connected); err != nil {
		b.Fatal("the floor client did not connect")
	}
	poll(b, "the floor client to ack what came before", func() bool { return fake.UnackedCount() == 0 })
	return func() { cancel(); close(pins); workers.Wait(); transport.CloseIdleConnections() }
}

// BenchmarkPinStorm pins 300 messages from 20 senders in one incident: the
// bot (record, ack, confirm with ✅) against its floor in the same run, a
// bare slack-go Socket Mode client that only acks. It reports the time
// from the first reaction to the last ✅ the fake received (the bot) or the
// last ack it read (the floor), ack p50/p99 over every envelope of the
// storm (the bot's: the pins and the echoes of its own ✅), and the bot's
// Web API calls per pin. floor+confirm is a bare client that also adds
// the ✅ (8 calls at a time) and acks their echoes, without a database:
// what the Slack work alone costs on this machine, for reference. Each
// iteration also reports the CPU time the hypervisor took (steal-%,
// bench_steal_test.go): compare only iterations that took little; and the
// CPU time the process used (cpu-ms, bench_cpu_test.go: the bot and the
// fake, or the bare client and the fake).
// Run: go test ./cmd/incidentbot -run '^$' -bench PinStorm -benchtime 1x -count 5
func BenchmarkPinStorm(b *testing.B) {
	b.Run("bot", func(b *testing.B) { benchBotStorm(b, false) })
	// The messages were posted before the bot (re)started, so it did not
	// see them arrive: each pin reads history. It reports
	// history-calls/pin too.
	b.Run("unseen", func(b *testing.B) { benchBotStorm(b, true) })
	for _, confirm := range []bool{false, true} {
		name := "floor"
		if confirm {
			name = "floor+confirm"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				fake := slackfake.New(slackfake.Options{})
				ch := fake.AddChannel("inc-1", false, fake.BotUserID())
				senders, msgs := stormWorkspace(fake, ch)
				stop := floorClient(b, fake, ch, confirm)
				b.StartTimer()
				steal, cpu := startSteal(), startCPU(b)
				first, from := pinAll(b, fake, ch, senders, msgs)
				if confirm {
					poll(b, "every pin confirmed", func() bool { return confirmations(fake) >= benchPinsTotal })
				}
				b.StopTimer()
				steal.report(b)
				cpu.report(b)
				poll(b, "every echo acked", func() bool { return fake.UnackedCount() == 0 })
				lat, lastAck := acks(fake, from)
				took := lastAck.Sub(first)
				if confirm {
					took = lastConfirmation(fake).Sub(first)
				}
				b.ReportMetric(float64(took)/float64(time.Millisecond), "ms-to-last-confirm")
				reportLatency(b, lat)
				stop()
				fake.Close()
			}
		})
	}
}

// confirmations counts the bot's successful reactions.add calls (a
// counter: polling a copy of every call would hold up the fake).
func confirmations(fake *slackfake.Server) int { return fake.CallsOK("reactions.add") }

// benchBotStorm runs the pin storm against the bot; unseen restarts it
// between posting the messages and pinning them.
func benchBotStorm(b *testing.B, unseen bool) {
	for range b.N {
		b.StopTimer()
		h := newHarness(b, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
		ch := h.declared(1, "declare sev2 Config updates not propagating")
		senders, msgs := stormWorkspace(h.fake, ch.ID)
		// The storm starts once the bot is done with the messages: their
		// 300 events acked (else the pins queue behind them) and the names
		// of their authors looked up.
		poll(b, "the messages acked", func() bool { return h.fake.UnackedCount() == 0 })
		h.idle()
		if unseen {
			h.restart()
			h.idle()
		}
		calls := len(h.fake.Calls(""))
		history := len(h.fake.Calls("conversations.history"))
		b.StartTimer()
		steal, cpu := startSteal(), startCPU(b)
		first, from := pinAll(b, h.fake, ch.ID, senders, msgs)
		// Cheap to watch (the fake counts calls); checked in full below.
		poll(b, "every pin confirmed", func() bool { return confirmations(h.fake) >= benchPinsTotal })
		b.StopTimer()
		steal.report(b)
		cpu.report(b)
		took := lastConfirmation(h.fake).Sub(first)
		for _, u := range senders {
			for _, ts := range msgs[u] {
				if !botReacted(h.fake, ch.ID, ts, "white_check_mark") {
					b.Fatalf("pin %s was not confirmed", ts)
				}
			}
		}
		h.idle()
		poll(b, "every echo acked", func() bool { return h.fake.UnackedCount() == 0 })
		lat, _ := acks(h.fake, from)
		b.ReportMetric(float64(took)/float64(time.Millisecond), "ms-to-last-confirm")
		b.ReportMetric(float64(len(h.fake.Calls(""))-calls)/benchPinsTotal, "calls/pin")
		if unseen {
			b.ReportMetric(float64(len(h.fake.Calls("conversations.history"))-history)/benchPinsTotal, "history-calls/pin")
		}
		reportLatency(b, lat)
		h.stop()
	}
}
