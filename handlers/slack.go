package handlers

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
)

// SlackAPI is the part of slack-go's *slack.Client the handlers call. It is
// small on purpose, and faked nowhere: tests run it against the fake Slack.
type SlackAPI interface {
	CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error)
	GetConversationsContext(ctx context.Context, params *slack.GetConversationsParameters) ([]slack.Channel, string, error)
	InviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error)
	SetTopicOfConversationContext(ctx context.Context, channelID, topic string) (*slack.Channel, error)
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	AddPinContext(ctx context.Context, channel string, item slack.ItemRef) error
	AddReactionContext(ctx context.Context, name string, item slack.ItemRef) error
	RemoveReactionContext(ctx context.Context, name string, item slack.ItemRef) error
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	// GetUserByEmailContext finds the people a calendar feed names by email
	// (users:read.email).
	GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	// UpdateUserGroupMembersContext keeps an on-call schedule's user group
	// equal to who is on call (usergroups:write).
	UpdateUserGroupMembersContext(ctx context.Context, userGroup string, members string, options ...slack.UpdateUserGroupMembersOption) (slack.UserGroup, error)
}

// Responder posts to a slash command's or button's response_url.
type Responder func(ctx context.Context, url string, msg *slack.WebhookMessage) error

// FindMessage returns the message at ts in channel, or nil if it is gone.
// conversations.history holds top-level messages; a thread reply is only
// found through conversations.replies, which accepts any ts in the thread.
func (h *Handlers) FindMessage(ctx context.Context, channel, ts string) (*slack.Message, error) {
	hist, err := h.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1})
	if err != nil {
		if IsAPIError(err, "channel_not_found", "not_in_channel") {
			return nil, bot.Final(err)
		}
		return nil, err
	}
	for i := range hist.Messages {
		if hist.Messages[i].Timestamp == ts {
			return &hist.Messages[i], nil
		}
	}
	cursor := ""
	for {
		msgs, more, next, err := h.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: ts, Oldest: ts, Inclusive: true, Limit: 200, Cursor: cursor})
		if IsAPIError(err, "thread_not_found", "message_not_found") {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for i := range msgs {
			if msgs[i].Timestamp == ts {
				return &msgs[i], nil
			}
		}
		if !more || next == "" {
			return nil, nil
		}
		cursor = next
	}
}

// DisplayName is the name Slack shows for a user.
func DisplayName(u *slack.User) string {
	for _, n := range []string{u.Profile.DisplayName, u.RealName, u.Name} {
		if n != "" {
			return n
		}
	}
	return u.ID
}

// AddReaction adds the bot's reaction to a message; already there is done.
func (h *Handlers) AddReaction(ctx context.Context, channel, ts, name string) error {
	err := h.api.AddReactionContext(ctx, name, slack.NewRefToMessage(channel, ts))
	if IsAPIError(err, "already_reacted") {
		return nil
	}
	return err
}
