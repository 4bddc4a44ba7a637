package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/store"
)

// Cluster mode. Every node keeps its own Socket Mode connection (Slack
// spreads envelopes over up to 10 per app). The leader applies envelopes
// as in single-node mode (its store replicates each commit through Raft
// before it returns); a follower forwards each envelope to the leader and
// acks Slack with the leader's answer, once the leader has committed it.
// Only the leader runs the outbox.

// Cluster is this node's membership of a Raft cluster (package cluster).
type Cluster interface {
	// IsLeader reports whether this node leads, with every earlier entry
	// applied to its store.
	IsLeader() bool
	// Leader is the leader's id and address; empty while there is none.
	Leader() (id, addr string)
	// OnLeadership registers fn, told of each change in order.
	OnLeadership(fn func(leader bool, term uint64))
	// Forward sends a request to the leader, waiting for one while ctx lets it.
	Forward(ctx context.Context, kind string, payload []byte) ([]byte, error)
	// HandleForward registers the leader's side of Forward.
	HandleForward(fn func(ctx context.Context, kind string, payload []byte) ([]byte, error))
}

// ElectionWait is how long a follower waits for a leader before it gives
// up on an envelope: an event is left unacked (Slack retries it), a command
// or a click is told to try again.
const ElectionWait = 2 * time.Second

// forwardKind names the forward of an envelope.
const forwardKind = "envelope"

// SwitchingLeaders is what someone whose command could not be applied
// during an election (or in a minority) reads.
const SwitchingLeaders = "incidentbot is switching leaders — nothing was done; run it again in a few seconds."

// wireEnvelope is an envelope as a follower forwards it.
type wireEnvelope struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Payload      json.RawMessage `json:"payload"`
	RetryAttempt int             `json:"retry_attempt,omitempty"`
}

// remoteAck is the leader's answer to a forwarded envelope.
type remoteAck struct {
	// Withheld: not committed (the leader lost its quorum or could not
	// write); the follower acts as for a failed commit.
	Withheld bool            `json:"withheld,omitempty"`
	Ack      json.RawMessage `json:"ack,omitempty"`
}

// SetCluster puts the bot in cluster mode; call it before Run.
func (b *Bot) SetCluster(c Cluster) {
	b.cluster = c
	b.writer.arrivals.passes = nil // every job yields (yield.go)
	b.leaderCh = make(chan bool, 64)
	b.fwd = make(chan *Envelope, forwardQueue)
	c.OnLeadership(func(leader bool, _ uint64) { b.leaderCh <- leader })
	c.HandleForward(b.serveForward)
}

// ForwardFunc is the leader's side of a kind of forward other than
// envelopes (the alert receiver's requests).
type ForwardFunc func(ctx context.Context, payload []byte) ([]byte, error)

// HandleForward registers the leader's side of forwards of kind; call it
// before Run.
func (b *Bot) HandleForward(kind string, fn ForwardFunc) {
	if b.forwards == nil {
		b.forwards = map[string]ForwardFunc{}
	}
	b.forwards[kind] = fn
}

// Forward sends a request of kind to the leader (see Cluster.Forward).
func (b *Bot) Forward(ctx context.Context, kind string, payload []byte) ([]byte, error) {
	if b.cluster == nil {
		return nil, errors.New("not in cluster mode")
	}
	return b.cluster.Forward(ctx, kind, payload)
}

// Leading reports whether this node may write: always in single-node mode.
func (b *Bot) Leading() bool { return b.leading() }

// OnLeader registers fn to run each time this node becomes the leader,
// once the outbox is loaded (the on-call module's timers); in single-node
// mode it runs once, at start.
func (b *Bot) OnLeader(fn func() error) { b.onLeader = append(b.onLeader, fn) }

// leading reports whether this node may write: always in single-node mode.
func (b *Bot) leading() bool { return b.cluster == nil || b.cluster.IsLeader() }

// lead runs the dispatcher while this node leads, and stops it (its jobs
// stay in the outbox, for the next leader) when it no longer does.
func (b *Bot) lead(ctx context.Context) {
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var cur *running
	halt := func() {
		if cur != nil {
			cur.cancel()
			<-cur.done
			cur = nil
			b.log.Info().Msg("no longer the leader: stopped running jobs")
		}
	}
	defer halt()
	for {
		select {
		case <-ctx.Done():
			return
		case leader := <-b.leaderCh:
			if !leader {
				halt()
				// A follower writes nothing: a failure seen while it led
				// is not its disk's state now.
				b.dbHealthy.Store(true)
				continue
			}
			if cur != nil {
				continue
			}
			b.disp.reset()
			if err := b.disp.load(); err != nil {
				b.log.Error().Err(err).Msg("cannot load the outbox as the new leader")
				continue
			}
			lctx, cancel := context.WithCancel(ctx)
			cur = &running{cancel: cancel, done: make(chan struct{})}
			go func(done chan struct{}) { b.disp.run(lctx); close(done) }(cur.done)
			b.log.Info().Int("jobs", b.disp.pending()).Msg("leading: running the outbox")
			b.runOnLeader()
		}
	}
}

func (b *Bot) runOnLeader() {
	for _, fn := range b.onLeader {
		if err := fn(); err != nil {
			b.log.Error().Err(err).Msg("a start-of-leadership task failed")
		}
	}
}

// forward hands an envelope this follower received to the leader, and acks
// Slack with the leader's answer.
func (b *Bot) forward(ctx context.Context, env *Envelope) {
	data, err := json.Marshal(wireEnvelope{ID: env.ID, Type: env.Type, Payload: env.Payload, RetryAttempt: env.RetryAttempt})
	if err != nil {
		b.log.Error().Err(err).Msg("cannot encode an envelope to forward")
		return
	}
	// An ack is due within 3 s of receipt (it may have waited for a slot).
	fctx, cancel := context.WithDeadline(ctx, env.ReceivedAt.Add(ElectionWait))
	defer cancel()
	start := time.Now()
	reply, err := b.cluster.Forward(fctx, forwardKind, data)
	var ra remoteAck
	if err == nil {
		err = json.Unmarshal(reply, &ra)
	}
	if err != nil {
		b.log.Warn().Err(err).Str("envelope_id", env.ID).Str("type", env.Type).Dur("waited", time.Since(start)).
			Msg("could not forward an envelope to the leader")
		b.switching(ctx, env)
		return
	}
	b.answerRemote(ctx, env, ra)
}

// switching answers an envelope nobody could commit during an election or
// in a minority: an event stays unacked (Slack retries it); a command or a
// click is told to run it again.
func (b *Bot) switching(ctx context.Context, env *Envelope) {
	b.metrics.EnvelopeWithheld(env.Type)
	switch env.Type {
	case string(socketmode.EventTypeSlashCommand):
		b.ack(ctx, env.ID, env.Type, env.ReceivedAt, map[string]string{"response_type": "ephemeral", "text": SwitchingLeaders})
	case string(socketmode.EventTypeInteractive):
		b.ack(ctx, env.ID, env.Type, env.ReceivedAt, nil)
		if cb, ok := env.Data.(slack.InteractionCallback); ok && cb.ResponseURL != "" {
			// Nothing changed, so nothing to record: tell them directly.
			go func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = slack.PostWebhookContext(rctx, cb.ResponseURL, &slack.WebhookMessage{Text: SwitchingLeaders, ResponseType: "ephemeral", ReplaceOriginal: false})
			}()
		}
	}
}

// serveForward is the leader's side: the envelope goes through the same
// writer as the leader's own (sharing its commits), and its ack payload
// goes back to the follower instead of onto this node's socket.
func (b *Bot) serveForward(ctx context.Context, kind string, payload []byte) ([]byte, error) {
	if kind == forwardBatchKind {
		return b.serveForwardBatch(ctx, payload)
	}
	if kind != forwardKind {
		if fn := b.forwards[kind]; fn != nil {
			return fn(ctx, payload)
		}
		return nil, fmt.Errorf("unknown forward %q", kind)
	}
	var w wireEnvelope
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("decode forwarded envelope: %w", err)
	}
	env, reply, err := b.remoteEnvelope(w)
	if err != nil {
		return nil, err
	}
	if b.handler.Ignores(env) {
		return json.Marshal(remoteAck{})
	}
	if !b.writer.enqueue(ctx, env) {
		return nil, ctx.Err()
	}
	select {
	case ra := <-reply:
		return json.Marshal(ra)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// remoteEnvelope is a forwarded envelope as the leader's writer takes it:
// its answer goes back to the follower (env.remote) instead of onto this
// node's socket.
func (b *Bot) remoteEnvelope(w wireEnvelope) (*Envelope, <-chan remoteAck, error) {
	data, err := decodeEnvelopeData(w.Type, w.Payload)
	if err != nil {
		return nil, nil, err
	}
	b.metrics.EnvelopeReceived(w.Type)
	reply := make(chan remoteAck, 1)
	return &Envelope{ID: w.ID, Type: w.Type, Payload: w.Payload, RetryAttempt: w.RetryAttempt, Data: data,
		ReceivedAt: time.Now(), remote: reply}, reply, nil
}

// decodeEnvelopeData decodes a payload as socketmode does for its type.
func decodeEnvelopeData(typ string, payload json.RawMessage) (any, error) {
	switch typ {
	case string(socketmode.EventTypeEventsAPI):
		ev, err := parseEventsAPI(payload)
		return ev, err
	case string(socketmode.EventTypeSlashCommand):
		var c slack.SlashCommand
		err := json.Unmarshal(payload, &c)
		return c, err
	case string(socketmode.EventTypeInteractive):
		var c slack.InteractionCallback
		err := json.Unmarshal(payload, &c)
		return c, err
	}
	return nil, fmt.Errorf("unknown envelope type %q", typ)
}

// answer acks an envelope with payload: on this node's socket, or, for an
// envelope a follower forwarded, back to that follower.
func (b *Bot) answer(ctx context.Context, env *Envelope, payload any) {
	if env.remote != nil {
		ra := remoteAck{}
		if payload != nil {
			raw, err := json.Marshal(payload)
			if err != nil {
				b.log.Error().Err(err).Msg("cannot encode an ack to forward")
			}
			ra.Ack = raw
		}
		env.remote <- ra
		return
	}
	b.ack(ctx, env.ID, env.Type, env.ReceivedAt, payload)
}

// withheldRemote tells a follower its envelope was not committed.
func (b *Bot) withheldRemote(env *Envelope) bool {
	if env.remote == nil {
		return false
	}
	env.remote <- remoteAck{Withheld: true}
	return true
}

// notCommitted reports whether err is a commit that consensus refused (a
// lost leadership or quorum), as opposed to a disk that refuses writes.
func notCommitted(err error) bool { return errors.Is(err, store.ErrNotCommitted) }
