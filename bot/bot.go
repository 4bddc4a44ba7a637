// Package bot is incidentbot's Socket Mode edge: it receives envelopes,
// records their effects in the store, acks them, and runs the Slack calls
// those effects caused from the persisted outbox, retrying as Slack asks.
//
// The rule it exists to keep: a state-changing envelope is committed to the
// database before it is acked, and everything it causes runs from what was
// committed, so a crash loses nothing and a redelivery changes nothing.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/store"
)

// Envelope is a Socket Mode request as the handler sees it.
type Envelope struct {
	ID           string          // envelope_id
	Type         string          // events_api, slash_commands or interactive
	Payload      json.RawMessage // the envelope's payload, as Slack sent it
	RetryAttempt int
	// Data is what socketmode decoded: slackevents.EventsAPIEvent,
	// slack.SlashCommand or slack.InteractionCallback.
	Data       any
	ReceivedAt time.Time
	// remote, for an envelope a follower forwarded (cluster mode), takes
	// its ack instead of this node's socket.
	remote chan<- remoteAck
}

// Handler applies envelopes to the state. It is the handlers package.
type Handler interface {
	// Handle applies env inside tx, enqueueing the Slack calls it causes as
	// jobs. It must not call Slack or keep state outside tx: it may run again
	// if the transaction is retried. It returns the payload to ack with, or nil.
	Handle(tx *store.Tx, env *Envelope) (ack any, err error)
	// Ignores reports, without a transaction, that env changes nothing
	// whatever the state (the bot's own reactions and new messages, which
	// Slack echoes back as events): it is acked at once and not recorded,
	// so a storm of the bot's own ✅ costs no commits.
	Ignores(env *Envelope) bool
}

// Runner runs outbound jobs. It is the handlers package too.
type Runner interface {
	// Run performs job's Slack call. On success it returns a function (or nil)
	// that records the outcome, committed with the job's removal.
	Run(ctx context.Context, job store.Job) (commit func(*store.Tx) error, err error)
	// GiveUp is called when job failed for good, in the transaction that
	// removes it, so the failure can be told to the people concerned.
	GiveUp(tx *store.Tx, job store.Job, err error) error
	// Describe says in a few words what job does ("post a message"), for the
	// log lines about its retries and failure.
	Describe(job store.Job) string
	// Redoable reports that running job again (after a crash) does no harm
	// and records nothing (a reaction): once it succeeds, its removal from
	// the outbox may share a later commit instead of holding up its worker.
	Redoable(job store.Job) bool
}

// Clock tells the time and waits. Tests and the demo inject a fake one so
// escalations and reminders run without sleeping. The dispatcher takes
// every "now" and every wait from it: due times, the spacing of posts,
// backoff and Retry-After, the shutdown grace. A fake clock's After must end
// once the clock is moved past it; one the test never moves must end on its
// own (simClock's end in real time too), or a retrying job waits for ever.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Config tunes a Bot. The zero value of each field has a sensible default.
type Config struct {
	// PostInterval spaces chat.postMessage calls to one channel: Slack allows
	// about one message per second per channel. Default 1s.
	PostInterval time.Duration
	// Workers bounds how many lanes run jobs at once. Default 8.
	Workers int
	// MaxBatch bounds how many envelopes share one commit. Default 64.
	MaxBatch int
	// SeenTTL is how long dedupe keys are kept. Default 24h.
	SeenTTL time.Duration
	// ShutdownGrace is how long in-flight jobs may finish on shutdown. Default 10s.
	ShutdownGrace time.Duration
	// Backoff is the first retry delay, doubled up to MaxBackoff. Defaults 1s and 1m.
	Backoff, MaxBackoff time.Duration
}

func (c *Config) defaults() {
	if c.PostInterval == 0 {
		c.PostInterval = time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 64
	}
	if c.SeenTTL <= 0 {
		c.SeenTTL = 24 * time.Hour
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
}

// Bot connects a Socket Mode client to the store, a handler and a runner.
type Bot struct {
	cfg     Config
	socket  *socketmode.Client
	db      *store.DB
	handler Handler
	clock   Clock
	log     zerolog.Logger
	disp    *dispatcher
	writer  *writer
	metrics Metrics
	// sendAck acks an envelope on the socket (tests record acks instead).
	sendAck func(ctx context.Context, id string, payload any) error

	// cluster is set in cluster mode (SetCluster); leaderCh carries its
	// leadership changes to lead; onLeader runs on each gain of leadership.
	cluster  Cluster
	leaderCh chan bool
	onLeader []func() error
	forwards map[string]ForwardFunc // other kinds of forward (HandleForward)
	fwd      chan *Envelope         // a follower's envelopes for the leader (forwarder.go)

	connected atomic.Bool
	dbHealthy atomic.Bool
	fatal     chan error
	fatalOnce sync.Once
}

// New returns a Bot. Run starts it.
func New(cfg Config, socket *socketmode.Client, db *store.DB, h Handler, r Runner, clock Clock, log zerolog.Logger) *Bot {
	cfg.defaults()
	if clock == nil {
		clock = RealClock
	}
	b := &Bot{cfg: cfg, socket: socket, db: db, handler: h, clock: clock, log: log,
		metrics: nopMetrics{}, fatal: make(chan error, 1)}
	if socket != nil {
		b.sendAck = socket.AckCtx
	}
	b.dbHealthy.Store(true)
	b.disp = newDispatcher(cfg, db, r, clock, log, func() Metrics { return b.metrics }, b.stop)
	// Envelopes and job outcomes share commits, made by one writer: the
	// envelopes waiting go first, with the outcomes ready at that moment
	// in the same fsync, and without the wait bbolt's Batch makes a lone
	// committer pay (MaxBatchDelay, 10 ms).
	b.writer = newWriter(b)
	b.disp.commit = b.writer.commitOutcome
	b.disp.yield = b.writer.arrivals.enter
	return b
}

// SetMetrics installs a metrics sink (Prometheus in production).
func (b *Bot) SetMetrics(m Metrics) {
	if m != nil {
		b.metrics = m
	}
}

// Ready reports whether the bot can take work: connected to Slack and able
// to commit to its database.
func (b *Bot) Ready() (bool, string) {
	if b.cluster != nil {
		if id, _ := b.cluster.Leader(); id == "" {
			return false, "no cluster leader (an election is running, or this node is in a minority): state changes are not acked"
		}
	}
	switch {
	case !b.dbHealthy.Load():
		return false, "database writes are failing"
	case !b.connected.Load():
		return false, "not connected to Slack"
	}
	return true, "ok"
}

// Kick makes the dispatcher look again for due jobs; tests call it after
// moving a fake clock.
func (b *Bot) Kick() { b.disp.kick() }

// Pending returns how many jobs wait in the outbox.
func (b *Bot) Pending() int { return b.disp.pending() }

// Due returns how many jobs are due now or running, leaving out timers set
// for later (reminders, escalations).
func (b *Bot) Due() int { return b.disp.due() }

// Run serves until ctx is cancelled or Slack refuses the credentials. On
// return it has stopped taking envelopes and let in-flight jobs finish (up
// to ShutdownGrace); the caller closes the database.
func (b *Bot) Run(ctx context.Context) error {
	if b.cluster == nil {
		if err := b.disp.load(); err != nil {
			return fmt.Errorf("load outbox: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The writer outlives the others: jobs that finish in the shutdown
	// grace still share its commits.
	stopWriter, writerDone := make(chan struct{}), make(chan struct{})
	go func() { b.writer.run(ctx, stopWriter); close(writerDone) }()
	defer func() { close(stopWriter); <-writerDone }()

	var wg sync.WaitGroup
	if b.cluster == nil {
		wg.Go(func() { b.disp.run(ctx) })
	} else {
		wg.Go(func() { b.lead(ctx) }) // the outbox runs on the leader only
		wg.Go(func() { b.forwardLoop(ctx) })
	}
	wg.Go(func() { b.expireSeen(ctx) })
	wg.Go(func() { b.probeDB(ctx) })
	wg.Go(func() { b.receive(ctx) })

	sockErr := make(chan error, 1)
	go func() { sockErr <- b.socket.RunContext(ctx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-b.fatal:
	case err = <-sockErr:
		if errors.Is(err, context.Canceled) {
			err = nil
		} else {
			err = explainSocketError(err)
		}
	}
	cancel()
	wg.Wait()
	return err
}

// Fail stops the bot with err, as a fatal error does (the cluster's state
// machine calls it when this node can no longer follow the log).
func (b *Bot) Fail(err error) { b.stop(err) }

func (b *Bot) stop(err error) {
	b.fatalOnce.Do(func() { b.fatal <- err })
}

// probeDB tries a small write every few seconds while database writes are
// failing, so health (and /readyz) recovers with the disk even when no
// envelope or job comes along to prove it.
func (b *Bot) probeDB(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
		if !b.dbHealthy.Load() && b.leading() {
			_ = b.commit(func(tx *store.Tx) error { return tx.Probe(b.clock.Now()) })
		}
	}
}

// expireSeen forgets old dedupe keys every so often, so they do not grow
// without bound.
func (b *Bot) expireSeen(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
		if !b.leading() {
			continue // the leader expires them, for every node
		}
		cutoff := b.clock.Now().Add(-b.cfg.SeenTTL)
		var n int
		err := b.db.Update(func(tx *store.Tx) error {
			var err error
			n, err = tx.ExpireSeen(cutoff)
			return err
		})
		if err != nil {
			b.log.Warn().Err(err).Msg("expiring dedupe keys failed; will try again in an hour")
		} else if n > 0 {
			b.log.Debug().Int("expired", n).Msg("expired dedupe keys")
		}
	}
}

func explainSocketError(err error) error {
	switch err.Error() {
	case "token_revoked", "account_inactive":
		return fmt.Errorf("slack refused the app-level token (%s): the app was probably uninstalled, which revokes both tokens; reinstall it, then set SLACK_BOT_TOKEN (OAuth & Permissions) and a new SLACK_APP_TOKEN (Basic Information → App-Level Tokens, scope connections:write)", err)
	case "invalid_auth", "not_authed":
		return fmt.Errorf("slack refused the app-level token (%s): create a new one with the connections:write scope under Basic Information → App-Level Tokens and set SLACK_APP_TOKEN", err)
	}
	return fmt.Errorf("socket mode connection failed: %w", err)
}
