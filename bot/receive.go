package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/store"
)

// receive is the only reader of the socket's events. It acks at once the
// envelopes that change nothing (ignore) and hands the others, in order, to
// the writer, which commits those waiting together (one fsync for the lot)
// and acks them after the commit. It reads on while the writer commits, so
// the bot's own echoes are not held up by the disk.
func (b *Bot) receive(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-b.socket.Events:
			env := b.observe(ctx, ev)
			switch {
			case env == nil || b.ignore(ctx, env):
			case !b.leading():
				// A follower: the leader commits it (forwarder.go).
				select {
				case b.fwd <- env:
				case <-ctx.Done():
					return
				}
			case !b.writer.enqueue(ctx, env):
				return
			}
		}
	}
}

// ignore acks at once an envelope the handler says changes nothing.
func (b *Bot) ignore(ctx context.Context, env *Envelope) bool {
	if !b.handler.Ignores(env) {
		return false
	}
	b.ack(ctx, env.ID, env.Type, env.ReceivedAt, nil)
	return true
}

// observe handles connection events itself and returns the envelopes that
// carry work.
func (b *Bot) observe(ctx context.Context, ev socketmode.Event) *Envelope {
	switch ev.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if ev.Request == nil {
			return nil
		}
		b.metrics.EnvelopeReceived(string(ev.Type))
		return &Envelope{
			ID: ev.Request.EnvelopeID, Type: string(ev.Type), Payload: ev.Request.Payload,
			RetryAttempt: ev.Request.RetryAttempt, Data: ev.Data, ReceivedAt: time.Now(),
		}
	case socketmode.EventTypeErrorBadMessage:
		// An envelope socketmode could not decode (a type it does not know,
		// an event shape it cannot parse) is never acked by socketmode, and
		// Slack would redeliver it for ever. Ack it; there is nothing to apply.
		if bad, ok := ev.Data.(*socketmode.ErrorBadMessage); ok {
			var req struct {
				EnvelopeID string `json:"envelope_id"`
				Type       string `json:"type"`
			}
			if json.Unmarshal(bad.Message, &req) == nil && req.EnvelopeID != "" {
				b.log.Warn().Str("envelope_type", req.Type).Str("envelope_id", req.EnvelopeID).
					Str("cause", bad.Cause.Error()).Msg("acking an envelope that could not be decoded; it is ignored")
				b.metrics.EnvelopeReceived("unknown")
				b.ack(ctx, req.EnvelopeID, "unknown", time.Now(), nil)
			}
		}
	case socketmode.EventTypeConnected:
		b.connected.Store(true)
		b.metrics.Connected(true)
		b.log.Info().Msg("connected to Slack")
	case socketmode.EventTypeConnecting:
		if b.connected.Swap(false) {
			b.metrics.Connected(false)
			b.log.Info().Msg("reconnecting to Slack")
		}
	case socketmode.EventTypeConnectionError:
		if ce, ok := ev.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn().Err(ce.ErrorObj).Dur("retry_in", ce.Backoff).Msg("could not connect to Slack; retrying")
		}
	case socketmode.EventTypeInvalidAuth:
		b.stop(explainSocketError(errors.New("invalid_auth")))
	case socketmode.EventTypeIncomingError:
		if ie, ok := ev.Data.(*slack.IncomingEventError); ok {
			b.log.Warn().Err(ie.ErrorObj).Msg("socket read error")
		}
	case socketmode.EventTypeErrorWriteFailed:
		if wf, ok := ev.Data.(*socketmode.ErrorWriteFailed); ok {
			b.log.Warn().Err(wf.Cause).Msg("could not write to the socket; Slack will redeliver what was not acked")
		}
	}
	return nil
}

// dedupeKey is what makes a redelivery recognisable. Slack retries an event
// with a new envelope id but the same event_id.
func dedupeKey(env *Envelope) string {
	// A retry comes in a new envelope with the same payload, so the key is
	// the payload's own id where it has one: event_id for events, and the
	// trigger_id every user action gets once.
	switch d := env.Data.(type) {
	case slackevents.EventsAPIEvent:
		if cb, ok := d.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" {
			return "ev:" + cb.EventID
		}
	case slack.SlashCommand:
		if d.TriggerID != "" {
			return "tr:" + d.TriggerID
		}
	case slack.InteractionCallback:
		if d.TriggerID != "" {
			return "tr:" + d.TriggerID
		}
	}
	return "env:" + env.ID
}

// handlerError marks an error from the handler (as opposed to the commit),
// with the index of the envelope that caused it.
type handlerError struct {
	index int
	err   error
}

func (e *handlerError) Error() string { return e.err.Error() }

// record commits a batch and acks it. If one envelope's handler fails, the
// others are applied one by one so a bad envelope cannot hold up the rest.
func (b *Bot) record(ctx context.Context, batch []*Envelope) {
	acks := make([]any, len(batch))
	err := b.commit(func(tx *store.Tx) error {
		for i, env := range batch {
			ack, err := b.apply(tx, env)
			if err != nil {
				return &handlerError{index: i, err: err}
			}
			acks[i] = ack
		}
		return nil
	})
	var he *handlerError
	switch {
	case err == nil:
		b.writer.ackCommitted(ctx, batch, acks)
	case errors.As(err, &he) && len(batch) > 1:
		for _, env := range batch {
			b.record(ctx, []*Envelope{env})
		}
	case errors.As(err, &he):
		b.deadLetter(ctx, batch[0], he.err)
	default:
		b.withhold(ctx, batch, err)
	}
}

func (b *Bot) commit(fn func(*store.Tx) error) error { return b.write(b.db.Update, fn) }

func (b *Bot) write(via func(func(*store.Tx) error) error, fn func(*store.Tx) error) error {
	start := time.Now()
	err := via(fn)
	b.noteCommit(start, err)
	return err
}

// noteCommit keeps the database's health and the commit metrics for a
// commit that started at start and returned err.
func (b *Bot) noteCommit(start time.Time, err error) {
	var he *handlerError
	switch {
	case err != nil && b.cluster != nil && notCommitted(err):
		// Consensus, not the disk: no leader, or not this node. /readyz
		// says so from the cluster's state instead.
	case err != nil && !errors.As(err, &he):
		if b.dbHealthy.Swap(false) {
			b.log.Error().Err(err).Msg("cannot write to the database: envelopes are not acked, so Slack will redeliver them")
		}
	default:
		if !b.dbHealthy.Swap(true) {
			b.log.Info().Msg("database writes work again")
		}
	}
	b.metrics.Commit(time.Since(start), err)
}

// apply dedupes and hands one envelope to the handler, turning a panic into
// an error so one bad envelope cannot take the bot down.
func (b *Bot) apply(tx *store.Tx, env *Envelope) (ack any, err error) {
	isNew, err := tx.MarkSeen(dedupeKey(env), b.clock.Now())
	if err != nil {
		return nil, err
	}
	if !isNew {
		b.log.Debug().Str("envelope_id", env.ID).Int("retry_attempt", env.RetryAttempt).Msg("redelivered envelope: already applied")
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic applying %s envelope: %v\n%s", env.Type, r, debug.Stack())
		}
	}()
	return b.handler.Handle(tx, env)
}

// deadLetter keeps an envelope the handler could not apply, and acks it: it
// is safely recorded, and Slack redelivering it would fail the same way.
func (b *Bot) deadLetter(ctx context.Context, env *Envelope, cause error) {
	b.log.Error().Err(cause).Str("envelope_id", env.ID).Str("type", env.Type).
		Msg("could not apply envelope; kept in the dead-letter bucket for an operator")
	err := b.commit(func(tx *store.Tx) error {
		if _, err := tx.MarkSeen(dedupeKey(env), b.clock.Now()); err != nil {
			return err
		}
		return tx.PutDeadLetter(store.DeadLetter{Type: env.Type, Envelope: env.ID, Payload: env.Payload,
			Error: cause.Error(), At: b.clock.Now()})
	})
	if err != nil {
		b.withhold(ctx, []*Envelope{env}, err)
		return
	}
	var ack any
	if env.Type == string(socketmode.EventTypeSlashCommand) {
		ack = map[string]string{"response_type": "ephemeral",
			"text": "Sorry: incidentbot hit an internal error and did not apply this. It is logged for the operators; please try again or do it by hand."}
	}
	b.answer(ctx, env, ack)
}

// withhold leaves envelopes unacked because their effects could not be
// saved. Slack redelivers events; a slash command is not redelivered, so its
// user is told instead (it was not applied, nothing half-done remains).
func (b *Bot) withhold(ctx context.Context, batch []*Envelope, cause error) {
	for _, env := range batch {
		if b.withheldRemote(env) {
			continue // its follower answers it
		}
		if b.cluster != nil && notCommitted(cause) {
			b.switching(ctx, env) // the leadership moved while it was committed
			continue
		}
		b.metrics.EnvelopeWithheld(env.Type)
		if env.Type == string(socketmode.EventTypeSlashCommand) {
			b.ack(ctx, env.ID, env.Type, env.ReceivedAt, map[string]string{"response_type": "ephemeral",
				"text": "incidentbot cannot save to its database right now, so this was not done. Please try again in a minute; the operators have been alerted by its logs."})
		}
	}
	b.log.Warn().Err(cause).Int("envelopes", len(batch)).Msg("withheld acks")
}

func (b *Bot) ack(ctx context.Context, id, typ string, received time.Time, payload any) {
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := b.sendAck(actx, id, payload); err != nil {
		b.log.Warn().Err(err).Str("envelope_id", id).Msg("ack not sent; Slack will redeliver")
		return
	}
	b.metrics.EnvelopeAcked(typ, time.Since(received))
}
