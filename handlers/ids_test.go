package handlers

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

func TestMalformedNamesWhatIsWrong(t *testing.T) {
	reaction := func(user, channel, ts string) slackevents.EventsAPIEvent {
		ev := &slackevents.ReactionAddedEvent{User: user, Reaction: "pushpin",
			Item: slackevents.Item{Type: "message", Channel: channel, Timestamp: ts}}
		return slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{Data: ev}}
	}
	tests := []struct {
		name string
		data any
		want string // "" for well-formed
	}{
		{"reaction", reaction("U0ALICE01", "C0INC0001", "1692269160.000100"), ""},
		{"reaction ts", reaction("U0ALICE01", "C0INC0001", "not-a-ts"), `item.ts "not-a-ts"`},
		{"reaction ts without micros", reaction("U0ALICE01", "C0INC0001", "1692269160"), `item.ts`},
		{"reaction channel", reaction("U0ALICE01", "#general", "1692269160.000100"), `item.channel "#general"`},
		{"reaction user", reaction("alice", "C0INC0001", "1692269160.000100"), `user "alice"`},
		{"slash command", slack.SlashCommand{UserID: "W0ALICE01", ChannelID: "D0DM00001"}, ""},
		{"slash command channel", slack.SlashCommand{UserID: "U0ALICE01", ChannelID: "general"}, `channel_id "general"`},
		{"click", slack.InteractionCallback{User: slack.User{ID: "U0ALICE01"},
			Container: slack.Container{ChannelID: "C0INC0001", MessageTs: "1692269160.000100"}}, ""},
		{"click ts", slack.InteractionCallback{User: slack.User{ID: "U0ALICE01"},
			Container: slack.Container{ChannelID: "C0INC0001", MessageTs: "12.5"}}, `container.message_ts "12.5"`},
		{"bot message", slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{Data: &slackevents.MessageEvent{
			Channel: "C0INC0001", BotID: "B0BOT0001", TimeStamp: "1692269160.000100"}}}, ""},
		{"member joined", slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{Data: &slackevents.MemberJoinedChannelEvent{
			Channel: "C0INC0001", User: "<@U0ALICE01>"}}}, `user "<@U0ALICE01>"`},
	}
	for _, tt := range tests {
		got := malformed(tt.data)
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: malformed = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormOwner(t *testing.T) {
	for _, tt := range []struct {
		in, meta, user string
		bound          bool
	}{
		{withFormOwner("1:1", "U0ALICE01"), "1:1", "U0ALICE01", true},
		{withFormOwner("C000000003", "W0BOB0001"), "C000000003", "W0BOB0001", true},
		{"1:1", "1:1", "", false},
		{"a@b@U0ALICE01", "a@b", "U0ALICE01", true},
		{"1:1@nobody", "1:1@nobody", "", false},
	} {
		meta, user, bound := cutFormOwner(tt.in)
		if meta != tt.meta || user != tt.user || bound != tt.bound {
			t.Errorf("cutFormOwner(%q) = %q, %q, %v", tt.in, meta, user, bound)
		}
	}
}
