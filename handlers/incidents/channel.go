package incidents

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// maxNameAttempts bounds the search for a free channel name.
const maxNameAttempts = 20

// runCreateChannel creates the incident's channel. A name taken by someone
// else moves on to "-2", "-3"…; a name taken by a channel this bot created
// for this incident (the bot crashed after Slack made it) is adopted, so a
// restart never makes two channels.
func (m *Module) runCreateChannel(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	p, err := handlers.Decode[incidentJob](job)
	if err != nil {
		return nil, err
	}
	inc, err := m.h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	if inc.ChannelID != "" {
		return nil, nil // already done
	}
	var ch *slack.Channel
	for attempt := 1; attempt <= maxNameAttempts && ch == nil; attempt++ {
		name := incident.ChannelName(inc.ID, inc.Title, attempt)
		created, err := m.h.API().CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: inc.Private})
		switch {
		case err == nil:
			ch = created
		case handlers.IsAPIError(err, "name_taken"):
			if ours, err := m.findOwnChannel(ctx, name, inc); err != nil {
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
	return func(tx *store.Tx) error { return m.channelCreated(tx, p, ch) }, nil
}

// findOwnChannel returns the channel called name if this bot created it for
// this incident, i.e. after the incident was declared.
func (m *Module) findOwnChannel(ctx context.Context, name string, inc *incident.Incident) (*slack.Channel, error) {
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: 1000, ExcludeArchived: true}
	for {
		chans, cursor, err := m.h.API().GetConversationsContext(ctx, params)
		if err != nil {
			return nil, err
		}
		for i := range chans {
			c := &chans[i]
			if c.Name != name {
				continue
			}
			created := time.Unix(int64(c.Created), 0)
			if c.Creator == m.h.Config().BotUserID && !created.Before(inc.Times.Declared.Add(-time.Minute)) {
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
func (m *Module) channelCreated(tx *store.Tx, p incidentJob, ch *slack.Channel) error {
	inc, err := tx.Incident(p.Incident)
	if err != nil {
		return err
	}
	inc.ChannelID, inc.ChannelName = ch.ID, ch.Name
	if err := tx.PutIncident(inc); err != nil {
		return err
	}
	r := m.h.NewRequest(tx)
	if inc.DeclaredBy.ID != "" { // an alert route declares as nobody in Slack
		if err := r.Invite(ch.ID, inc.DeclaredBy.ID); err != nil {
			return err
		}
	}
	if err := r.EnqueueThrottled(bot.ChannelLane(ch.ID), jobPostSummary, incidentJob{Incident: inc.ID}); err != nil {
		return err
	}
	if err := r.Enqueue(bot.ChannelLane(ch.ID), jobTopic, incidentJob{Incident: inc.ID}); err != nil {
		return err
	}
	if m.h.Config().AnnounceChannel != "" && !inc.Private {
		if err := r.Post(m.h.Config().AnnounceChannel, announceDeclared(inc), nil); err != nil {
			return err
		}
	}
	// Paging waits for the channel, so every page can link to it.
	if err := r.Notify(inc, func(k handlers.Hooks) handlers.HookFunc { return k.ChannelCreated }); err != nil {
		return err
	}
	where := fmt.Sprintf(":rotating_light: %s is open: %s. You're in the channel and set as lead.", inc.Ref(), handlers.ChannelLink(inc))
	switch {
	case p.ResponseURL != "":
		return r.Respond(inc.DeclaredBy.ID, p.ResponseURL, where)
	case p.NotifyUser != "":
		return r.Post(p.NotifyUser, where, nil)
	}
	return nil
}

func (m *Module) runPostSummary(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	inc, err := m.h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	text, blocks := m.summaryBlocks(inc)
	ts, err := m.h.PostOnce(ctx, inc.ChannelID, "", slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
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
		r := m.h.NewRequest(tx)
		if err := r.Enqueue(bot.ChannelLane(inc.ChannelID), jobPin, pinJob{Channel: inc.ChannelID, TS: ts}); err != nil {
			return err
		}
		// The incident may have changed while the summary was being posted.
		return r.Enqueue(bot.ChannelLane(inc.ChannelID), jobUpdateSummary, incidentJob{Incident: inc.ID})
	}, nil
}

func (m *Module) runUpdateSummary(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	inc, err := m.h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	if inc.SummaryTS == "" {
		return nil, nil // not posted yet; it will be posted with the current state
	}
	text, blocks := m.summaryBlocks(inc)
	_, _, _, err = m.h.API().UpdateMessageContext(ctx, inc.ChannelID, inc.SummaryTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}

// runTopic sets the channel topic when its text changed since the bot last
// set it: each conversations.setTopic posts a line in the channel. A job
// that may have set it before (resumed after a crash) first reads the
// channel's topic and adopts it if it already reads the same.
func (m *Module) runTopic(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	inc, err := m.h.Load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	text := topic(inc)
	if text == inc.Topic {
		return nil, nil
	}
	_, err = m.h.Once(ctx, func(store.Job) (bool, error) {
		ch, err := m.h.API().GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: inc.ChannelID})
		if err != nil {
			return false, err
		}
		return ch.Topic.Value == text, nil
	}, func() error {
		_, err := m.h.API().SetTopicOfConversationContext(ctx, inc.ChannelID, text)
		return err
	})
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		inc.Topic = text
		return tx.PutIncident(inc)
	}, nil
}
