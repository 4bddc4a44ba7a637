package check

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/internal/config"
)

// ChannelInfo is the one Slack call the posting check makes.
type ChannelInfo interface {
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
}

// Channels checks that Slack will take the bot's posts in the channels it
// posts to on its own: the announce channel and the status channel. The bot
// posts with chat:write, which works only where it is a member (the app does
// not ask for chat:write.public, so a workspace decides where it may speak).
// Each problem names the variable, the channel and what to do.
func Channels(ctx context.Context, api ChannelInfo, cfg config.Config) error {
	var errs []error
	for _, c := range []struct{ name, id string }{
		{"INCIDENTBOT_ANNOUNCE_CHANNEL", cfg.AnnounceChannel},
		{"INCIDENTBOT_STATUS_CHANNEL", cfg.StatusChannel},
	} {
		if c.id == "" {
			continue
		}
		ch, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: c.id})
		var apiErr slack.SlackErrorResponse
		switch {
		case errors.As(err, &apiErr) && apiErr.Err == "channel_not_found":
			errs = append(errs, fmt.Errorf("%s=%s: Slack says there is no such channel the bot can see: check the id (channel details → copy the channel ID, C…); a private channel must first invite the bot with /invite @incidentbot", c.name, c.id))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%s: cannot read the channel (conversations.info: %w)", c.name, c.id, err))
		case ch.IsArchived:
			errs = append(errs, fmt.Errorf("%s=%s (#%s) is archived: unarchive it or set another channel", c.name, c.id, ch.Name))
		case !ch.IsMember:
			errs = append(errs, fmt.Errorf("%s=%s (#%s): the bot is not a member, so Slack refuses its posts (not_in_channel): type /invite @incidentbot in #%s", c.name, c.id, ch.Name, ch.Name))
		}
	}
	return errors.Join(errs...)
}
