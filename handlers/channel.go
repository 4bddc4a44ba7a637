package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// maxNameAttempts bounds the search for a free channel name.
const maxNameAttempts = 20

// runCreateChannel creates the incident's channel. A name taken by someone
// else moves on to "-2", "-3"…; a name taken by a channel this bot created
// for this incident (the bot crashed after Slack made it) is adopted, so a
// restart never makes two channels.
func (h *Handlers) runCreateChannel(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	p, err := Decode[incidentJob](job)
	if err != nil {
		return nil, err
	}
	inc, err := h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	if inc.ChannelID != "" {
		return nil, nil // already done
	}
	var ch *slack.Channel
	for attempt := 1; attempt <= maxNameAttempts && ch == nil; attempt++ {
		name := incident.ChannelName(inc.ID, inc.Title, attempt)
		created, err := h.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: inc.Private})
		switch {
		case err == nil:
			ch = created
		case IsAPIError(err, "name_taken"):
			if ours, err := h.findOwnChannel(ctx, name, inc); err != nil {
				return nil, err
			} else if ours != nil {
				ch = ours
			}
		default:
			return nil, err
		}
	}
	if ch == nil {
		return nil, bot.Final(fmt.Errorf("no free channel name for %s after %d tries", inc.Ref(), maxNameAttempts))
	}
	return func(tx *store.Tx) error { return h.channelCreated(tx, p, ch) }, nil
}

// findOwnChannel returns the channel called name if this bot created it for
// this incident, i.e. after the incident was declared.
func (h *Handlers) findOwnChannel(ctx context.Context, name string, inc *incident.Incident) (*slack.Channel, error) {
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: 1000, ExcludeArchived: true}
	for {
		chans, cursor, err := h.api.GetConversationsContext(ctx, params)
		if err != nil {
			return nil, err
		}
		for i := range chans {
			c := &chans[i]
			if c.Name != name {
				continue
			}
			created := time.Unix(int64(c.Created), 0)
			if c.Creator == h.cfg.BotUserID && !created.Before(inc.Times.Declared.Add(-time.Minute)) {
				return c, nil
			}
			return nil, nil
		}
		if cursor == "" {
			return nil, nil
		}
		params.Cursor = cursor
	}
}

// channelCreated records the channel and enqueues what follows: invite the
// declarer, post and pin the summary, set the topic, announce, and tell the
// declarer where to go.
func (h *Handlers) channelCreated(tx *store.Tx, p incidentJob, ch *slack.Channel) error {
	inc, err := tx.Incident(p.Incident)
	if err != nil {
		return err
	}
	inc.ChannelID, inc.ChannelName = ch.ID, ch.Name
	if err := tx.PutIncident(inc); err != nil {
		return err
	}
	r := h.NewRequest(tx)
	if err := r.Invite(ch.ID, inc.DeclaredBy.ID); err != nil {
		return err
	}
	if err := r.EnqueueThrottled(bot.ChannelLane(ch.ID), jobPostSummary, incidentJob{Incident: inc.ID}); err != nil {
		return err
	}
	if err := r.Enqueue(bot.ChannelLane(ch.ID), jobTopic, incidentJob{Incident: inc.ID}); err != nil {
		return err
	}
	if h.cfg.AnnounceChannel != "" && !inc.Private {
		if err := r.Post(h.cfg.AnnounceChannel, announceDeclared(inc), nil); err != nil {
			return err
		}
	}
	// Paging waits for the channel, so every page can link to it.
	if err := h.reg.each(func(k Hooks) error { return call(k.ChannelCreated, r, inc) }); err != nil {
		return err
	}
	where := fmt.Sprintf(":rotating_light: %s is open: %s. You're in the channel and set as lead.", inc.Ref(), ChannelLink(inc))
	switch {
	case p.ResponseURL != "":
		return r.Enqueue(bot.RespondLane(inc.DeclaredBy.ID), jobRespond, respondJob{URL: p.ResponseURL, Text: where})
	case p.NotifyUser != "":
		return r.Post(p.NotifyUser, where, nil)
	}
	return nil
}

func (h *Handlers) runPostSummary(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	inc, err := h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	text, blocks := h.summaryBlocks(inc)
	_, ts, err := h.api.PostMessageContext(ctx, inc.ChannelID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		inc.SummaryTS = ts
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		r := h.NewRequest(tx)
		if err := r.Enqueue(bot.ChannelLane(inc.ChannelID), jobPin, itemJob{Channel: inc.ChannelID, TS: ts}); err != nil {
			return err
		}
		// The incident may have changed while the summary was being posted.
		return r.Enqueue(bot.ChannelLane(inc.ChannelID), jobUpdateSummary, incidentJob{Incident: inc.ID})
	}, nil
}

func (h *Handlers) runUpdateSummary(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	inc, err := h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	if inc.SummaryTS == "" {
		return nil, nil // not posted yet; it will be posted with the current state
	}
	text, blocks := h.summaryBlocks(inc)
	_, _, _, err = h.api.UpdateMessageContext(ctx, inc.ChannelID, inc.SummaryTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}

func (h *Handlers) runTopic(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	inc, err := h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	_, err = h.api.SetTopicOfConversationContext(ctx, inc.ChannelID, topic(inc))
	return nil, err
}
