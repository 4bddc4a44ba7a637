package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A follower forwards the envelopes it receives in batches: each request to
// the leader carries every envelope waiting (up to forwardBatch), and at
// most forwardsInFlight requests are out at once. One request per envelope
// made a burst open a connection per envelope in flight — a mutual-TLS
// handshake each, which on the leader took more CPU than committing the
// burst — and the leader's writer commits what arrives together anyway.
const (
	forwardBatchKind = "envelopes"
	forwardBatch     = 64
	forwardsInFlight = 8
	// forwardQueue bounds the envelopes waiting to be forwarded; past it
	// the receive loop waits, and Slack's socket buffers the rest.
	forwardQueue = 4096
)

// forwardLoop sends the envelopes queued on b.fwd to the leader until ctx
// ends.
func (b *Bot) forwardLoop(ctx context.Context) {
	slots := make(chan struct{}, forwardsInFlight)
	batch := make([]*Envelope, 0, forwardBatch)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		select {
		case env := <-b.fwd:
			batch = append(batch[:0], env)
		case <-ctx.Done():
			return
		}
	drain:
		for len(batch) < forwardBatch {
			select {
			case env := <-b.fwd:
				batch = append(batch, env)
			default:
				break drain
			}
		}
		envs := append([]*Envelope(nil), batch...)
		go func() {
			defer func() { <-slots }()
			b.forwardBatch(ctx, envs)
		}()
	}
}

// forwardBatch hands envelopes to the leader in one request and acks each
// with the leader's answer.
func (b *Bot) forwardBatch(ctx context.Context, envs []*Envelope) {
	if len(envs) == 1 {
		b.forward(ctx, envs[0])
		return
	}
	wire := make([]wireEnvelope, len(envs))
	for i, env := range envs {
		wire[i] = wireEnvelope{ID: env.ID, Type: env.Type, Payload: env.Payload, RetryAttempt: env.RetryAttempt}
	}
	data, err := json.Marshal(wire)
	if err != nil {
		b.log.Error().Err(err).Msg("cannot encode envelopes to forward")
		return
	}
	// An ack is due within 3 s of receipt: the batch gives up ElectionWait
	// after its oldest envelope arrived, whatever it waited for a slot.
	oldest := envs[0].ReceivedAt
	for _, env := range envs[1:] {
		if env.ReceivedAt.Before(oldest) {
			oldest = env.ReceivedAt
		}
	}
	fctx, cancel := context.WithDeadline(ctx, oldest.Add(ElectionWait))
	defer cancel()
	start := time.Now()
	reply, err := b.cluster.Forward(fctx, forwardBatchKind, data)
	var ras []remoteAck
	if err == nil {
		err = json.Unmarshal(reply, &ras)
	}
	if err == nil && len(ras) != len(envs) {
		err = fmt.Errorf("the leader answered %d of %d envelopes", len(ras), len(envs))
	}
	if err != nil && strings.Contains(err.Error(), "unknown forward") {
		// A leader of the release before batches: one at a time.
		for _, env := range envs {
			b.forward(ctx, env)
		}
		return
	}
	if err != nil {
		b.log.Warn().Err(err).Int("envelopes", len(envs)).Dur("waited", time.Since(start)).
			Msg("could not forward envelopes to the leader")
		for _, env := range envs {
			b.switching(ctx, env)
		}
		return
	}
	for i, env := range envs {
		b.answerRemote(ctx, env, ras[i])
	}
}

// answerRemote acks an envelope with the leader's answer for it.
func (b *Bot) answerRemote(ctx context.Context, env *Envelope, ra remoteAck) {
	if ra.Withheld {
		b.log.Warn().Str("envelope_id", env.ID).Str("type", env.Type).Msg("the leader could not commit a forwarded envelope")
		b.switching(ctx, env)
		return
	}
	var ack any
	if len(ra.Ack) > 0 && string(ra.Ack) != "null" {
		ack = ra.Ack
	}
	b.ack(ctx, env.ID, env.Type, env.ReceivedAt, ack)
}

// serveForwardBatch is the leader's side of a batch: every envelope goes to
// the writer (sharing its commits) and the answers come back in order.
func (b *Bot) serveForwardBatch(ctx context.Context, payload []byte) ([]byte, error) {
	var wire []wireEnvelope
	if err := json.Unmarshal(payload, &wire); err != nil {
		return nil, fmt.Errorf("decode forwarded envelopes: %w", err)
	}
	replies := make([]<-chan remoteAck, len(wire))
	out := make([]remoteAck, len(wire))
	for i, w := range wire {
		env, reply, err := b.remoteEnvelope(w)
		if err != nil {
			return nil, err
		}
		if b.handler.Ignores(env) {
			continue
		}
		replies[i] = reply
		if !b.writer.enqueue(ctx, env) {
			return nil, ctx.Err()
		}
	}
	for i, reply := range replies {
		if reply == nil {
			continue
		}
		select {
		case out[i] = <-reply:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return json.Marshal(out)
}
