package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// TestUserNamesAreCached checks a name is looked up once, again after an
// hour or a user_change event, and that an unknown user is cached too.
func TestUserNamesAreCached(t *testing.T) {
	fake := slackfake.New(slackfake.Options{})
	defer fake.Close()
	ana := fake.AddUser(slackfake.User{Name: "ana", DisplayName: "Ana"})
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	_, db, _ := newHandlers(t)
	h, err := handlers.New(handlers.Config{}, handlers.Deps{DB: db, API: slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL())),
		Now: func() time.Time { return now }, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lookups := func() int { return len(fake.Calls("users.info")) }
	for range 3 {
		if name, found, err := h.UserName(ctx, ana); name != "Ana" || !found || err != nil {
			t.Fatalf("UserName = %q, %v, %v", name, found, err)
		}
	}
	if n := lookups(); n != 1 {
		t.Errorf("%d users.info calls for three lookups, want 1", n)
	}
	if err := db.Update(func(tx *store.Tx) error {
		_, err := h.Handle(tx, &bot.Envelope{Type: "events_api", Data: userChange(ana)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, _, _ = h.UserName(ctx, ana)
	now = now.Add(2 * time.Hour)
	_, _, _ = h.UserName(ctx, ana)
	if n := lookups(); n != 3 {
		t.Errorf("%d users.info calls, want 3: again after user_change and after an hour", n)
	}
	for range 2 {
		if _, found, err := h.UserName(ctx, "U0NOBODY1"); found || err != nil {
			t.Errorf("an unknown user: found %v, %v", found, err)
		}
	}
	if n := lookups(); n != 4 {
		t.Errorf("%d users.info calls, want the unknown user looked up once", n)
	}
}

// userChange is a user_change event, as Slack sends it when someone edits
// their profile.
func userChange(id string) slackevents.EventsAPIEvent {
	return slackevents.EventsAPIEvent{Type: slackevents.CallbackEvent, InnerEvent: slackevents.EventsAPIInnerEvent{
		Type: "user_change", Data: &slackevents.UserChangeEvent{Type: "user_change", User: slackevents.User{ID: id}}}}
}

// TestIgnoresOnlyTheBotsOwnEchoes: the bot's own reactions and new
// messages change nothing and are acked without a commit; everything else,
// including people's reactions and edits of the bot's messages, is handled.
func TestIgnoresOnlyTheBotsOwnEchoes(t *testing.T) {
	h, _, err := newHandlers(t)
	if err != nil {
		t.Fatal(err)
	}
	h.SetBotUserID("U0BOT0001")
	ev := func(data any) *bot.Envelope {
		return &bot.Envelope{Type: "events_api", Data: slackevents.EventsAPIEvent{Type: slackevents.CallbackEvent,
			InnerEvent: slackevents.EventsAPIInnerEvent{Data: data}}}
	}
	for _, tc := range []struct {
		name string
		env  *bot.Envelope
		want bool
	}{
		{"the bot's ✅", ev(&slackevents.ReactionAddedEvent{User: "U0BOT0001", Reaction: "white_check_mark"}), true},
		{"the bot takes its ✅ back", ev(&slackevents.ReactionRemovedEvent{User: "U0BOT0001"}), true},
		{"someone's pin", ev(&slackevents.ReactionAddedEvent{User: "U0ALICE01", Reaction: "pushpin"}), false},
		{"the bot's new message", ev(&slackevents.MessageEvent{User: "U0BOT0001", BotID: "B0BOT"}), true},
		{"an edit of the bot's message", ev(&slackevents.MessageEvent{SubType: "message_changed", BotID: "B0BOT"}), false},
		{"someone's message", ev(&slackevents.MessageEvent{User: "U0ALICE01"}), false},
		{"a slash command", &bot.Envelope{Type: "slash_commands", Data: slack.SlashCommand{UserID: "U0BOT0001"}}, false},
	} {
		if got := h.Ignores(tc.env); got != tc.want {
			t.Errorf("%s: Ignores = %v, want %v", tc.name, got, tc.want)
		}
	}
}
