package main

import (
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// BenchmarkClusterPinBurst is the 300-pin storm against the real binary:
// one process in single-node mode (the floor), and three processes in
// cluster mode on loopback with mutual TLS (every commit a Raft entry
// committed by a quorum before its ack; each node with its own Socket Mode
// connection, the followers forwarding to the leader).
//
//	go test ./cmd/incidentbot -run '^$' -bench ClusterPinBurst -benchtime 1x -count 3
func BenchmarkClusterPinBurst(b *testing.B) {
	for _, mode := range []string{"single", "cluster3"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				fake, channel, alice, stop := benchClusterStart(b, mode == "cluster3")
				benchWarmUp(b, fake, channel, alice)
				senders, msgs := stormWorkspace(fake, channel)
				poll(b, "the messages acked", func() bool { return fake.UnackedCount() == 0 })
				base := confirmations(fake)
				b.StartTimer()
				steal := startSteal()
				first, from := pinAll(b, fake, channel, senders, msgs)
				poll(b, "every pin confirmed", func() bool { return confirmations(fake) >= base+benchPinsTotal })
				b.StopTimer()
				steal.report(b)
				took := lastConfirmation(fake).Sub(first)
				poll(b, "every echo acked", func() bool { return fake.UnackedCount() == 0 })
				lat, _ := acks(fake, from)
				b.ReportMetric(float64(took)/float64(time.Millisecond), "ms-to-last-confirm")
				reportLatency(b, lat)
				stop()
			}
		})
	}
}

// BenchmarkClusterFailover measures a failover as a responder sees it: from
// the leader's SIGKILL to the first state change acked (a /incident note
// typed again and again until one is taken, as a person would).
//
//	go test ./cmd/incidentbot -run '^$' -bench ClusterFailover -benchtime 1x -count 3
func BenchmarkClusterFailover(b *testing.B) {
	for range b.N {
		b.StopTimer()
		r := newClusterRig(b, slackfake.Options{})
		for i := range 3 {
			r.start(i)
		}
		lead := r.leader(0, 1, 2)
		ch := r.w.declare(b, "declare sev2 Checkout is failing")
		b.StartTimer()
		killed := time.Now()
		r.procs[lead].kill()
		var took time.Duration
		for {
			id := r.w.fake.SlashCommand(r.w.alice, ch.ID, "note still looking")
			var payload string
			poll(b, "the note's answer", func() bool {
				a, ok := r.w.fake.Ack(id)
				payload = string(a.Payload)
				return ok
			})
			if !strings.Contains(payload, "switching leaders") {
				took = time.Since(killed)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.StopTimer()
		b.ReportMetric(float64(took)/float64(time.Millisecond), "ms-to-first-acked-change")
		for i, p := range r.procs {
			if i != lead {
				p.stop()
			}
		}
	}
}

// benchClusterStart starts the bot as processes (one, or a cluster of
// three) with a declared incident, and returns the fake and its channel.
func benchClusterStart(b *testing.B, cluster bool) (*slackfake.Server, string, string, func()) {
	b.Helper()
	if !cluster {
		w := newProcessWorkspace(b, slackfake.Options{})
		env := w.env()
		env["INCIDENTBOT_LOG_LEVEL"] = "warn"
		p := startProcess(b, env)
		waitReady(b, w.fake, p, w.base())
		ch := w.declare(b, "declare sev2 Config updates not propagating")
		return w.fake, ch.ID, w.alice, p.stop
	}
	r := newClusterRig(b, slackfake.Options{})
	for i := range r.envs {
		r.envs[i]["INCIDENTBOT_LOG_LEVEL"] = "warn"
		r.start(i)
	}
	r.leader(0, 1, 2)
	ch := r.w.declare(b, "declare sev2 Config updates not propagating")
	return r.w.fake, ch.ID, r.w.alice, func() {
		for _, p := range r.procs {
			p.stop()
		}
	}
}

// benchWarmUp pins 60 messages and waits for their confirmations, so the
// storm is measured on a warm bot (its connections to Slack and, in
// cluster mode, between the nodes already open), as in steady use.
func benchWarmUp(b *testing.B, fake *slackfake.Server, channel, user string) {
	b.Helper()
	var ts []string
	for i := range 60 {
		ts = append(ts, fake.PostMessage(user, channel, "warm-up "+itoa(i)))
	}
	for _, m := range ts {
		fake.AddReaction(user, channel, m, "pushpin")
	}
	poll(b, "the warm-up confirmed", func() bool { return confirmations(fake) >= len(ts) })
	poll(b, "the warm-up acked", func() bool { return fake.UnackedCount() == 0 })
}
