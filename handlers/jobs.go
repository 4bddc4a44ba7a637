package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Job kinds. Each is one Slack call (or, for create_channel and the upload,
// one idempotent sequence), so a retry repeats as little as possible.
const (
	jobCreateChannel    = "create_channel"
	jobInvite           = "invite"
	jobPost             = "post"
	jobPostSummary      = "post_summary"
	jobUpdateSummary    = "update_summary"
	jobPin              = "pin"
	jobTopic            = "topic"
	jobRespond          = "respond"
	jobEphemeral        = "ephemeral"
	jobOpenView         = "open_view"
	jobUploadPostmortem = "upload_postmortem"
	jobReact            = "react"
	jobFetchMessage     = "fetch_message"
)

type incidentJob struct {
	Incident    int64  `json:"incident"`
	ResponseURL string `json:"response_url,omitempty"`
	NotifyUser  string `json:"notify_user,omitempty"`
}

type postJob struct {
	Channel  string          `json:"channel"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	ThreadTS string          `json:"thread_ts,omitempty"`
}

type inviteJob struct {
	Channel string   `json:"channel"`
	Users   []string `json:"users"`
}

type itemJob struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Name    string `json:"name,omitempty"`
	Remove  bool   `json:"remove,omitempty"`
}

type respondJob struct {
	URL       string `json:"url"`
	Text      string `json:"text"`
	InChannel bool   `json:"in_channel,omitempty"`
}

type ephemeralJob struct {
	Channel  string `json:"channel"`
	User     string `json:"user"`
	Text     string `json:"text"`
	ThreadTS string `json:"thread_ts,omitempty"`
}

type viewJob struct {
	TriggerID string          `json:"trigger_id"`
	View      json.RawMessage `json:"view"`
}

// enqueue adds a job in the request's transaction.
func (r *request) enqueue(lane, kind string, payload any) error {
	return r.tx.EnqueueJSON(lane, kind, payload, r.now, timeZero)
}

// post enqueues a message to a channel; posts are throttled per channel.
func (r *request) post(channel, text string, blocks []slack.Block) error {
	p := postJob{Channel: channel, Text: text}
	if blocks != nil {
		raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
		if err != nil {
			return err
		}
		p.Blocks = raw
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return r.tx.Enqueue(store.Job{Lane: channel, Kind: jobPost, Payload: data, Created: r.now, Throttled: true})
}

// Run performs one job. It implements bot.Runner.
func (h *Handlers) Run(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	run, ok := h.runners()[job.Kind]
	if !ok {
		return nil, bot.Final(fmt.Errorf("unknown job kind %q (written by a newer incidentbot?)", job.Kind))
	}
	return run(ctx, job)
}

type runFunc func(ctx context.Context, job store.Job) (func(*store.Tx) error, error)

func (h *Handlers) runners() map[string]runFunc {
	runners := map[string]runFunc{
		jobCreateChannel:    h.runCreateChannel,
		jobInvite:           decoded(h.runInvite),
		jobPost:             decoded(h.runPost),
		jobPostSummary:      decoded(h.runPostSummary),
		jobUpdateSummary:    decoded(h.runUpdateSummary),
		jobPin:              decoded(h.runPin),
		jobTopic:            decoded(h.runTopic),
		jobRespond:          decoded(h.runRespond),
		jobEphemeral:        decoded(h.runEphemeral),
		jobOpenView:         decoded(h.runOpenView),
		jobUploadPostmortem: decoded(h.runUploadPostmortem),
		jobReact:            decoded(h.runReact),
		jobFetchMessage:     decoded(h.runFetchMessage),
	}
	for _, more := range []map[string]runFunc{h.pagingRunners(), h.communicationRunners()} {
		for kind, fn := range more {
			runners[kind] = fn
		}
	}
	return runners
}

// decoded adapts a runner of a typed payload.
func decoded[P any](fn func(ctx context.Context, p P) (func(*store.Tx) error, error)) runFunc {
	return func(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
		p, err := decode[P](job)
		if err != nil {
			return nil, err
		}
		return fn(ctx, p)
	}
}

// GiveUp tells the incident channel (when there is one) that something the
// bot meant to do failed for good. It implements bot.Runner.
func (h *Handlers) GiveUp(tx *store.Tx, job store.Job, err error) error {
	if isPagingJob(job.Kind) {
		return h.pagingGiveUp(tx, job, err)
	}
	var p struct {
		Incident int64  `json:"incident"`
		Channel  string `json:"channel"`
	}
	_ = json.Unmarshal(job.Payload, &p)
	var inc *incident.Incident
	if p.Incident > 0 {
		inc, _ = tx.Incident(p.Incident)
	} else if p.Channel != "" {
		inc, _ = tx.IncidentByChannel(p.Channel)
	}
	if inc == nil || inc.ChannelID == "" || job.Kind == jobPost && p.Channel == inc.ChannelID {
		return nil // nowhere better to say it than the log, which has it
	}
	r := &request{tx: tx, now: h.now()}
	return r.post(inc.ChannelID, fmt.Sprintf(":warning: I could not %s: Slack said `%s`.", describeJob(job.Kind), err.Error()), nil)
}

func describeJob(kind string) string {
	switch kind {
	case jobInvite:
		return "invite someone to this channel"
	case jobPost:
		return "post a message"
	case jobPin:
		return "pin the summary"
	case jobTopic:
		return "set the channel topic"
	case jobUploadPostmortem:
		return "upload the postmortem draft (run `incidentbot export` to get it)"
	case jobReact:
		return "add or remove a reaction"
	case jobFetchMessage:
		return "read a message for the timeline"
	case jobPageUpdateDM:
		return "update a page DM with how the page ended"
	}
	return "finish a step (" + kind + ")"
}

func (h *Handlers) runInvite(ctx context.Context, p inviteJob) (func(*store.Tx) error, error) {
	_, err := h.api.InviteUsersToConversationContext(ctx, p.Channel, p.Users...)
	if isAPIError(err, "already_in_channel", "cant_invite_self") {
		err = nil // the goal, someone in the channel, is met
	}
	return nil, err
}

func (h *Handlers) runPost(ctx context.Context, p postJob) (func(*store.Tx) error, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(p.Text, false), slack.MsgOptionDisableLinkUnfurl()}
	if len(p.Blocks) > 0 {
		var b slack.Blocks
		if err := json.Unmarshal(p.Blocks, &b); err != nil {
			return nil, bot.Final(fmt.Errorf("decode blocks: %w", err))
		}
		opts = append(opts, slack.MsgOptionBlocks(b.BlockSet...))
	}
	if p.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(p.ThreadTS))
	}
	_, _, err := h.api.PostMessageContext(ctx, p.Channel, opts...)
	return nil, err
}

func (h *Handlers) runPin(ctx context.Context, p itemJob) (func(*store.Tx) error, error) {
	err := h.api.AddPinContext(ctx, p.Channel, slack.NewRefToMessage(p.Channel, p.TS))
	if isAPIError(err, "already_pinned") {
		err = nil
	}
	return nil, err
}

func (h *Handlers) runReact(ctx context.Context, p itemJob) (func(*store.Tx) error, error) {
	ref := slack.NewRefToMessage(p.Channel, p.TS)
	var err error
	if p.Remove {
		err = h.api.RemoveReactionContext(ctx, p.Name, ref)
		if isAPIError(err, "no_reaction", "message_not_found") {
			err = nil
		}
	} else {
		err = h.api.AddReactionContext(ctx, p.Name, ref)
		if isAPIError(err, "already_reacted") {
			err = nil
		}
	}
	return nil, err
}

func (h *Handlers) runRespond(ctx context.Context, p respondJob) (func(*store.Tx) error, error) {
	msg := &slack.WebhookMessage{Text: p.Text, ResponseType: slack.ResponseTypeEphemeral}
	if p.InChannel {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	err := h.respond(ctx, p.URL, msg)
	if sc, ok := err.(slack.StatusCodeError); ok && sc.Code == 404 {
		err = bot.Final(fmt.Errorf("response_url expired: %w", err)) // Slack keeps them 30 minutes
	}
	return nil, err
}

func (h *Handlers) runEphemeral(ctx context.Context, p ephemeralJob) (func(*store.Tx) error, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(p.Text, false)}
	if p.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(p.ThreadTS))
	}
	_, err := h.api.PostEphemeralContext(ctx, p.Channel, p.User, opts...)
	return nil, err
}

func (h *Handlers) runOpenView(ctx context.Context, p viewJob) (func(*store.Tx) error, error) {
	var view slack.ModalViewRequest
	if err := json.Unmarshal(p.View, &view); err != nil {
		return nil, bot.Final(fmt.Errorf("decode view: %w", err))
	}
	_, err := h.api.OpenViewContext(ctx, p.TriggerID, view)
	if isAPIError(err, "expired_trigger_id", "invalid_trigger_id") {
		err = bot.Final(err) // a trigger lives 3 s; retrying cannot help
	}
	return nil, err
}

// isAPIError reports whether err is one of Slack's named API errors.
func isAPIError(err error, names ...string) bool {
	var api slack.SlackErrorResponse
	if err == nil || !asAPI(err, &api) {
		return false
	}
	for _, n := range names {
		if api.Err == n {
			return true
		}
	}
	return false
}

func lane(inc *incident.Incident) string { return "incident:" + strconv.FormatInt(inc.ID, 10) }

var timeZero time.Time

func asAPI(err error, target *slack.SlackErrorResponse) bool { return errors.As(err, target) }

func decode[P any](job store.Job) (P, error) {
	var p P
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return p, bot.Final(fmt.Errorf("decode %s job: %w", job.Kind, err))
	}
	return p, nil
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
