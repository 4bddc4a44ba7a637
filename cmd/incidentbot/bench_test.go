package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// pinBurst posts perChannel messages in each channel, then pins them all at
// once from one goroutine per channel, and returns the ack latencies the
// fake measured (envelope written to the socket → ack read).
func pinBurst(b *testing.B, fake *slackfake.Server, user string, channels []string, perChannel int) []time.Duration {
	b.Helper()
	ts := map[string][]string{}
	for _, ch := range channels {
		for i := 0; i < perChannel; i++ {
			ts[ch] = append(ts[ch], fake.PostMessage(user, ch, "status line "+strconv.Itoa(i)))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = fake.WaitFor(ctx, func() bool { return fake.UnackedCount() == 0 })
	start := fake.EnvelopeCount()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, ch := range channels {
		wg.Go(func() {
			for _, t := range ts[ch] {
				fake.AddReaction(user, ch, t, "pushpin")
			}
		})
	}
	wg.Wait()
	if err := fake.WaitFor(ctx, func() bool { return fake.UnackedCount() == 0 }); err != nil {
		b.Fatalf("acks: %v", err)
	}
	b.StopTimer()
	var lat []time.Duration
	for _, e := range fake.Envelopes()[start:] {
		if a, ok := fake.Ack(e.ID); ok {
			lat = append(lat, a.Latency)
		}
	}
	return lat
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		b.Fatal("no acks measured")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
	b.ReportMetric(float64(len(lat)), "acks")
}

// BenchmarkAckLatency measures how fast pins are acked: through the real bot
// (record in bbolt, then ack) with 1 and 20 incidents receiving pins at
// once, and a bare slack-go Socket Mode client that only acks (the floor).
// Run: go test ./cmd/incidentbot -run '^$' -bench AckLatency -benchtime 200x
func BenchmarkAckLatency(b *testing.B) {
	for _, incidents := range []int{1, 20} {
		b.Run(fmt.Sprintf("bot/incidents=%d", incidents), func(b *testing.B) {
			h := newHarness(b, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
			var channels []string
			for i := 1; i <= incidents; i++ {
				channels = append(channels, h.declared(i, "declare sev2 Incident "+strconv.Itoa(i)).ID)
			}
			h.idle()
			reportLatency(b, pinBurst(b, h.fake, h.alice, channels, max(1, b.N/incidents)))
		})
		b.Run(fmt.Sprintf("floor/incidents=%d", incidents), func(b *testing.B) {
			fake := slackfake.New(slackfake.Options{})
			defer fake.Close()
			user := fake.AddUser(slackfake.User{Name: "alice"})
			var channels []string
			for i := 0; i < incidents; i++ {
				channels = append(channels, fake.AddChannel("inc-"+strconv.Itoa(i), false, user, fake.BotUserID()))
			}
			api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken(fake.AppToken()))
			client := socketmode.New(api)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = client.RunContext(ctx) }()
			go func() {
				for evt := range client.Events {
					if evt.Request != nil {
						_ = client.Ack(*evt.Request)
					}
				}
			}()
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			if err := fake.WaitFor(wctx, fake.Connected); err != nil {
				b.Fatal("the floor client did not connect")
			}
			reportLatency(b, pinBurst(b, fake, user, channels, max(1, b.N/incidents)))
		})
	}
}

// BenchmarkResidentMemory reports the memory of a running bot whose
// database holds 1,000 incidents of 20 timeline entries each. It measures
// the whole test process: the fake Slack and the bot.
// Run: go test ./cmd/incidentbot -run '^$' -bench ResidentMemory -benchtime 1x
func BenchmarkResidentMemory(b *testing.B) {
	h := buildHarness(b, slackfake.Options{}, func(h *harness) { h.deps.Log = h.deps.Log.Level(3) })
	db, err := store.Open(h.cfg.DB, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)
	for id := int64(1); id <= 1000; id++ {
		err := db.Update(func(tx *store.Tx) error {
			inc := incident.New(id, incident.Declaration{Title: "Incident " + strconv.FormatInt(id, 10), Severity: incident.Sev3,
				By: incident.User{ID: h.alice}, At: start})
			if id%10 != 0 {
				_ = inc.Resolve(start.Add(time.Hour), "fixed")
			}
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
			for i := 0; i < 20; i++ {
				if err := tx.AppendEntry(id, &incident.Entry{At: start.Add(time.Duration(i) * time.Minute), Kind: incident.KindNote,
					Author: incident.User{ID: h.alice}, Text: strings.Repeat("timeline text ", 8), RecordedAt: start}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = db.Close()
	h.start()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.slash(h.alice, h.general, "list")
	}
	b.StopTimer()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(vmRSS()/(1<<10), "rss-MiB")
}

// vmRSS reads the process's resident set in KiB from /proc (Linux).
func vmRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}
