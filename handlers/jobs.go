package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Job kinds. Each is one Slack call (or, for create_channel and the upload,
// one idempotent sequence), so a retry repeats as little as possible.
const (
	jobInvite    = "invite"
	jobPost      = "post"
	jobRespond   = "respond"
	jobEphemeral = "ephemeral"
	jobOpenView  = "open_view"
	jobReact     = "react"
)

type postJob struct {
	Channel  string          `json:"channel"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	// Incident is the incident a post elsewhere (a status or customer
	// channel) is for, so its failure is told in the incident's channel.
	Incident int64 `json:"incident,omitempty"`
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

// registerCore declares the core's commands and job kinds.
func (h *Handlers) registerCore(reg *Registry) {
	reg.Command(Command{Name: "help", Usage: "help", Help: "this list", Global: true, Run: h.help})
	for _, j := range []Job{
		{Kind: jobInvite, Describe: "invite someone to this channel", Run: Decoded(h.runInvite)},
		{Kind: jobPost, Describe: "post a message", Run: Decoded(h.runPost)},
		{Kind: jobRespond, Describe: "answer a command", Run: Decoded(h.runRespond)},
		{Kind: jobEphemeral, Describe: "answer someone privately", Run: Decoded(h.runEphemeral)},
		{Kind: jobOpenView, Describe: "open a form", Run: Decoded(h.runOpenView)},
		{Kind: jobReact, Describe: "add or remove a reaction", Run: Decoded(h.runReact), Redoable: true},
	} {
		reg.Job(j)
	}
}

// Run performs one job. It implements bot.Runner.
func (h *Handlers) Run(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	j, ok := h.reg.jobs[job.Kind]
	if !ok {
		return nil, bot.Final(fmt.Errorf("unknown job kind %q (written by a newer incidentbot?)", job.Kind))
	}
	commit, err := j.Run(withJob(ctx, job), job)
	if err == nil {
		h.attempts.forget(job.Seq) // done: it never runs again
	}
	return commit, err
}

// Decoded adapts a runner of a typed payload.
func Decoded[P any](fn func(ctx context.Context, p P) (func(*store.Tx) error, error)) RunFunc {
	return func(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
		p, err := Decode[P](job)
		if err != nil {
			return nil, err
		}
		return fn(ctx, p)
	}
}

// GiveUp tells the incident channel (when there is one) that something the
// bot meant to do failed for good, unless the job's kind reports it its own
// way. It implements bot.Runner.
func (h *Handlers) GiveUp(tx *store.Tx, job store.Job, err error) error {
	h.attempts.forget(job.Seq)
	if j, ok := h.reg.jobs[job.Kind]; ok && j.GiveUp != nil {
		return j.GiveUp(tx, job, err)
	}
	return h.ReportFailure(tx, job, err)
}

// ReportFailure is the default report of a job that failed for good: a
// warning in the incident channel, when the job belongs to an incident
// with one. A module's own GiveUp may call it after its own bookkeeping.
func (h *Handlers) ReportFailure(tx *store.Tx, job store.Job, err error) error {
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
	text := fmt.Sprintf(":warning: I could not %s: Slack said `%s`.", h.Describe(job), err.Error())
	if IsAPIError(err, "not_in_channel") && p.Channel != "" {
		text += fmt.Sprintf(" I am not a member of <#%s>: invite me with `/invite @incidentbot` there.", p.Channel)
	}
	return h.NewRequest(tx).Post(inc.ChannelID, text, nil)
}

// Redoable says whether a job may run again after a crash at no harm. It
// implements bot.Runner.
func (h *Handlers) Redoable(job store.Job) bool {
	j, ok := h.reg.jobs[job.Kind]
	return ok && j.Redoable
}

// Describe says what a job does, completing "I could not …". It implements
// bot.Runner, whose logs name what failed.
func (h *Handlers) Describe(job store.Job) string {
	if j, ok := h.reg.jobs[job.Kind]; ok {
		return j.Describe
	}
	return "finish a step (" + job.Kind + ")"
}

func (h *Handlers) runInvite(ctx context.Context, p inviteJob) (func(*store.Tx) error, error) {
	_, err := h.api.InviteUsersToConversationContext(ctx, p.Channel, p.Users...)
	if IsAPIError(err, "already_in_channel", "cant_invite_self") {
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
	_, err := h.PostOnce(ctx, p.Channel, p.ThreadTS, opts...)
	return nil, err
}

func (h *Handlers) runReact(ctx context.Context, p itemJob) (func(*store.Tx) error, error) {
	ref := slack.NewRefToMessage(p.Channel, p.TS)
	var err error
	if p.Remove {
		err = h.api.RemoveReactionContext(ctx, p.Name, ref)
		if IsAPIError(err, "no_reaction", "message_not_found") {
			err = nil
		}
	} else {
		err = h.api.AddReactionContext(ctx, p.Name, ref)
		if IsAPIError(err, "already_reacted") {
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
	if ue, ok := errors.AsType[*url.Error](err); ok {
		// A response_url lets whoever holds it answer in the user's
		// conversation for 30 minutes: the error, which is logged and may be
		// reported, must not carry it (slack-go's message holds it whole).
		err = fmt.Errorf("%s to the command's response_url: %w", ue.Op, ue.Err)
	}
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
	if IsAPIError(err, "expired_trigger_id", "invalid_trigger_id") {
		err = bot.Final(err) // a trigger lives 3 s; retrying cannot help
	}
	return nil, err
}

// Decode reads a job's payload; a payload that does not decode is final.
func Decode[P any](job store.Job) (P, error) {
	var p P
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return p, bot.Final(fmt.Errorf("decode %s job: %w", job.Kind, err))
	}
	return p, nil
}

// IsAPIError reports whether err is one of Slack's named API errors.
func IsAPIError(err error, names ...string) bool {
	var api slack.SlackErrorResponse
	if err == nil || !errors.As(err, &api) {
		return false
	}
	for _, n := range names {
		if api.Err == n {
			return true
		}
	}
	return false
}
