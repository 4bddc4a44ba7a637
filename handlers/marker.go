package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/store"
)

// Side effects exactly once. A job's Slack call and the commit that records
// its outcome are two steps: a crash between them (or a reply lost on the
// way) runs the job again. So a job whose effect shows in Slack checks,
// when it may have run before, whether the effect is already there and
// adopts it instead of repeating it. A message is found by its marker: the
// message metadata every posting job attaches, naming the job.
//
// A job may have run before when it was already in the outbox when this
// process started (a resumed job: its Seq is at most the highest Seq found
// at start, as Seqs only grow), or when an earlier attempt in this process
// failed in a way that leaves open whether Slack acted (a timeout, a 5xx,
// Slack's internal_error). A job enqueued by this process on its first
// attempt, or retried after Slack plainly refused it (a 429, an API error),
// cannot have acted: it calls Slack once, as before.

// MarkerEventType is the event_type of the metadata on the bot's job posts.
// Persisted in messages already posted: never change it.
const MarkerEventType = "incidentbot_job"

// The bounds of the search for a marker. Slack's clock and the bot's differ
// by a little; the newest markerPageSize×markerMaxPages messages since the
// job was created (a restart usually finds its job's message on the first
// page) are searched, then the job posts.
const (
	markerSkew     = 5 * time.Minute
	markerPageSize = 200
	markerMaxPages = 5
)

// attempts records, in this process, which jobs may have acted in Slack.
type attempts struct {
	// resumedThrough is the highest Seq in the outbox at start.
	resumedThrough uint64
	mu             sync.Mutex
	// maybe: true once a call may have reached Slack, false once it is
	// known that nothing did. Cleared when the job finishes.
	maybe map[uint64]bool
}

func newAttempts(db *store.DB) *attempts {
	a := &attempts{maybe: map[uint64]bool{}}
	if db == nil {
		return a
	}
	_ = db.View(func(tx *store.Tx) error {
		jobs, err := tx.Jobs()
		for _, j := range jobs {
			a.resumedThrough = max(a.resumedThrough, j.Seq)
		}
		return err
	})
	return a
}

func (a *attempts) mayHaveRun(seq uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, ok := a.maybe[seq]; ok {
		return v
	}
	return seq <= a.resumedThrough
}

func (a *attempts) set(seq uint64, maybe bool) {
	a.mu.Lock()
	a.maybe[seq] = maybe
	a.mu.Unlock()
}

func (a *attempts) forget(seq uint64) {
	a.mu.Lock()
	delete(a.maybe, seq)
	a.mu.Unlock()
}

type jobKey struct{}

// withJob gives a job's runner its job, for Once and PostOnce.
func withJob(ctx context.Context, job store.Job) context.Context {
	return context.WithValue(ctx, jobKey{}, job)
}

func jobOf(ctx context.Context) (store.Job, bool) {
	job, ok := ctx.Value(jobKey{}).(store.Job)
	return job, ok
}

// Once performs do, a Slack call whose effect shows (a post, a topic), at
// most once for the job being run. When the job may have run before, done
// is asked first whether the effect is already there; if it is, Once
// returns true and do is not called. Outside a job it just calls do.
func (h *Handlers) Once(ctx context.Context, done func(job store.Job) (bool, error), do func() error) (adopted bool, err error) {
	job, ok := jobOf(ctx)
	if !ok {
		return false, do()
	}
	if h.attempts.mayHaveRun(job.Seq) {
		found, err := done(job)
		if err != nil {
			return false, err
		}
		if found {
			h.log.Info().Str("job", job.Kind).Uint64("seq", job.Seq).
				Msg("an earlier attempt of this job already acted in Slack; not repeating it")
			return true, nil
		}
	}
	h.attempts.set(job.Seq, true)
	err = do()
	if err != nil && refused(err) {
		h.attempts.set(job.Seq, false)
	}
	return false, err
}

// PostOnce posts a job's message (in the thread at threadTS, if set) at
// most once: the message carries the job's marker, and a job that may have
// posted before looks for it in channel and adopts it. It returns the
// message's ts. The normal case is one chat.postMessage; only a job that may
// have run before reads history first.
func (h *Handlers) PostOnce(ctx context.Context, channel, threadTS string, opts ...slack.MsgOption) (string, error) {
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	var ts string
	job, ok := jobOf(ctx)
	if ok {
		opts = append(opts, slack.MsgOptionMetadata(Marker(job)))
	}
	_, err := h.Once(ctx, func(job store.Job) (bool, error) {
		var err error
		ts, err = h.findMarked(ctx, job, channel, threadTS)
		return ts != "", err
	}, func() error {
		var err error
		_, ts, err = h.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, err
}

// Marker is the metadata naming job on the message it posts: its Seq, kind
// and creation time (so a database restored from a backup, whose Seqs are
// handed out again, does not adopt another job's message).
func Marker(job store.Job) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: MarkerEventType, EventPayload: map[string]any{
		"seq": strconv.FormatUint(job.Seq, 10), "kind": job.Kind, "created": job.Created.UTC().Format(time.RFC3339Nano),
	}}
}

func (h *Handlers) isMarked(m *slack.Message, job store.Job) bool {
	if m.Metadata.EventType != MarkerEventType {
		return false
	}
	if h.cfg.BotUserID != "" && m.User != h.cfg.BotUserID {
		return false // only the bot's own posts count
	}
	want := Marker(job).EventPayload
	for k, v := range want {
		if s, _ := m.Metadata.EventPayload[k].(string); s != v {
			return false
		}
	}
	return true
}

// findMarked looks for job's message in channel (a thread's replies if
// threadTS is set), newest first, back to a little before the job was
// created; it returns its ts, or "" if it is not there.
func (h *Handlers) findMarked(ctx context.Context, job store.Job, channel, threadTS string) (string, error) {
	log := h.log.With().Str("job", job.Kind).Uint64("seq", job.Seq).Str("channel", channel).Logger()
	conv := channel
	if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
		// A post to a user id lands in the DM, whose history has its own id.
		im, _, _, err := h.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{channel}})
		if err != nil {
			return "", cannotLook(log, err)
		}
		conv = im.ID
	}
	oldest := job.Created.Add(-markerSkew)
	oldestTS := strconv.FormatInt(max(oldest.Unix(), 0), 10) + ".000000"
	cursor, seen := "", 0
	for range markerMaxPages {
		var msgs []slack.Message
		var next string
		var err error
		if threadTS == "" {
			var hist *slack.GetConversationHistoryResponse
			hist, err = h.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: conv, Oldest: oldestTS, Limit: markerPageSize, IncludeAllMetadata: true, Cursor: cursor})
			if err == nil {
				msgs = hist.Messages
				if hist.HasMore {
					next = hist.ResponseMetaData.NextCursor
				}
			}
		} else {
			var more bool
			msgs, more, next, err = h.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: conv, Timestamp: threadTS, Oldest: oldestTS, Limit: markerPageSize, IncludeAllMetadata: true, Cursor: cursor})
			if !more {
				next = ""
			}
		}
		if err != nil {
			return "", cannotLook(log, err)
		}
		for i := range msgs {
			if h.isMarked(&msgs[i], job) {
				return msgs[i].Timestamp, nil
			}
		}
		seen += len(msgs)
		if next == "" {
			return "", nil
		}
		cursor = next
	}
	log.Warn().Int("messages", seen).Msg("looked through the newest messages for an earlier post of this job without reaching its creation; posting it")
	return "", nil
}

// cannotLook decides about a failed search for a marker: trouble that may
// pass (rate limits, 5xx, the network) and bad credentials are returned, so
// the job is retried or the bot stops; a conversation the bot cannot read
// (not_in_channel, missing_scope, …) is logged and the job posts, as losing
// the message would be worse than a message shown twice.
func cannotLook(log zerolog.Logger, err error) error {
	if api, ok := errors.AsType[slack.SlackErrorResponse](err); ok && !ambiguousAPIErrors[api.Err] && !keepTryingAPIErrors[api.Err] {
		log.Warn().Err(err).Msg("cannot look for an earlier post of this job; posting it (it may show twice)")
		return nil
	}
	return err
}

// keepTryingAPIErrors are Slack API errors a search for a marker returns
// rather than posting: a rate limit passes, bad credentials stop the bot.
var keepTryingAPIErrors = map[string]bool{
	"ratelimited": true, "rate_limited": true, "invalid_auth": true, "token_revoked": true, "token_expired": true,
	"account_inactive": true, "not_authed": true,
}

// refused reports whether a failed Slack call certainly did nothing: Slack
// answered and said no (a rate limit, an API error) rather than leaving it
// open (a timeout, a 5xx, internal_error).
func refused(err error) bool {
	if _, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return true
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return sc.Code == 429
	}
	if api, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return !ambiguousAPIErrors[api.Err]
	}
	return false
}

// ambiguousAPIErrors are Slack API errors after which Slack may still have
// acted.
var ambiguousAPIErrors = map[string]bool{
	"internal_error": true, "fatal_error": true, "service_unavailable": true, "request_timeout": true, "timeout": true,
}
