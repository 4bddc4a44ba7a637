package slackfake

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// newAPI starts a fake with a plain Web API client (no socket).
func newAPI(t *testing.T) (*Server, *slack.Client) {
	t.Helper()
	fake := New(Options{})
	t.Cleanup(fake.Close)
	return fake, slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
}

func TestFaultsSurfaceAsSlackGoErrors(t *testing.T) {
	fake, api := newAPI(t)
	ch := fake.AddChannel("general", false, fake.BotUserID())

	fake.FailNext("chat.postMessage", 1, Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second})
	_, _, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("hi", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("429: %v", err)
	}

	fake.FailNext("chat.postMessage", 1, Fault{Status: http.StatusInternalServerError})
	_, _, err = api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("hi", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
		t.Fatalf("500: %v", err)
	}

	fake.FailNext("*", 1, Fault{Error: "fatal_error"})
	_, _, err = api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("hi", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "fatal_error" {
		t.Fatalf("api error: %v", err)
	}

	// None of the failed calls posted anything; the next one succeeds.
	if _, _, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("ok", false)); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Messages(ch)); n != 1 {
		t.Fatalf("messages = %d", n)
	}
	calls := fake.Calls("chat.postMessage")
	if len(calls) != 4 || calls[0].Status != 429 || calls[1].Status != 500 || calls[2].Error != "fatal_error" || calls[3].Status != 200 {
		t.Fatalf("calls = %+v", calls)
	}
	if n := fake.CallsOK("chat.postMessage"); n != 1 {
		t.Fatalf("CallsOK = %d, want the one that succeeded", n)
	}

	// Apply: the call happens, the client still sees the failure.
	fake.FailAll(Fault{Status: http.StatusBadGateway, Apply: true})
	if _, _, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("lost reply", false)); err == nil {
		t.Fatal("FailAll did not fail")
	}
	fake.ClearFaults()
	if n := len(fake.Messages(ch)); n != 2 {
		t.Fatalf("messages after Apply fault = %d", n)
	}
}

func TestAuthAndUnknownMethod(t *testing.T) {
	fake, api := newAPI(t)
	res, err := api.AuthTestContext(tctx(t))
	if err != nil || res.UserID != "U0BOT" || res.BotID != "B0BOT" || res.TeamID != "T0FAKE" {
		t.Fatalf("auth.test = %+v, %v", res, err)
	}
	bad := slack.New("xoxb-nope", slack.OptionAPIURL(fake.APIURL()))
	if _, err := bad.AuthTestContext(tctx(t)); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("bad token: %v", err)
	}
	resp, err := http.Post(fake.APIURL()+"no.such", "application/x-www-form-urlencoded", strings.NewReader("token="+fake.BotToken()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	mustUnmarshal(t, raw, &body)
	if body.OK || body.Error != "unknown_method" {
		t.Fatalf("unknown method = %s", raw)
	}
}

func TestBotPostsGenerateMessageEventsWithBotID(t *testing.T) {
	b := startBot(t, Options{})
	ch := b.fake.AddChannel("ops", false, b.fake.BotUserID())
	_, ts, err := b.api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("from the bot", false))
	if err != nil {
		t.Fatal(err)
	}
	ev := b.nextWhere(isEventType("message"))
	api, _ := innerEvent(t, ev)
	m := api.InnerEvent.Data.(*slackevents.MessageEvent)
	if m.BotID != "B0BOT" || m.User != "U0BOT" || m.TimeStamp != ts || m.Text != "from the bot" {
		t.Fatalf("bot message event = %+v", m)
	}
	b.ack(ev, nil)

	// Reactions by the bot come back as events too.
	if err := b.api.AddReactionContext(tctx(t), "eyes", slack.NewRefToMessage(ch, ts)); err != nil {
		t.Fatal(err)
	}
	ev = b.nextWhere(isEventType("reaction_added"))
	api, _ = innerEvent(t, ev)
	r := api.InnerEvent.Data.(*slackevents.ReactionAddedEvent)
	if r.User != "U0BOT" || r.Reaction != "eyes" || r.Item.Timestamp != ts || r.ItemUser != "U0BOT" {
		t.Fatalf("reaction event = %+v", r)
	}
	b.ack(ev, nil)
	if err := b.api.AddReactionContext(tctx(t), "eyes", slack.NewRefToMessage(ch, ts)); err == nil || err.Error() != "already_reacted" {
		t.Fatalf("second reaction: %v", err)
	}
}

func TestEventsOnlyFromChannelsTheBotIsIn(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	elsewhere := b.fake.AddChannel("random", false, alice)
	here := b.fake.AddChannel("ops", false, alice, b.fake.BotUserID())
	b.fake.PostMessage(alice, elsewhere, "not for the bot <@U0BOT>")
	b.fake.PostMessage(alice, here, "hey <@U0BOT>")
	first := b.next()
	api, _ := innerEvent(t, first)
	if m := api.InnerEvent.Data.(*slackevents.MessageEvent); m.Channel != here {
		t.Fatalf("event from %s", m.Channel)
	}
	b.ack(first, nil)
	second := b.next()
	api, _ = innerEvent(t, second)
	am, ok := api.InnerEvent.Data.(*slackevents.AppMentionEvent)
	if !ok || am.Channel != here || am.User != alice {
		t.Fatalf("second = %#v", api.InnerEvent.Data)
	}
	b.ack(second, nil)
}

func TestConversationsCreateRules(t *testing.T) {
	fake, api := newAPI(t)
	for name, want := range map[string]string{
		"Upper":                 "invalid_name_specials",
		"has space":             "invalid_name_specials",
		strings.Repeat("a", 81): "invalid_name_maxlength",
		"---":                   "invalid_name_punctuation",
		"":                      "invalid_name_required",
	} {
		if _, err := api.CreateConversationContext(tctx(t), slack.CreateConversationParams{ChannelName: name}); err == nil || err.Error() != want {
			t.Errorf("create %q: %v, want %s", name, err, want)
		}
	}
	c, err := api.CreateConversationContext(tctx(t), slack.CreateConversationParams{ChannelName: "inc-42_db", IsPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsPrivate || c.Creator != "U0BOT" || !c.IsMember || !strings.HasPrefix(c.ID, "C") {
		t.Fatalf("channel = %+v", c)
	}
	if _, err := api.CreateConversationContext(tctx(t), slack.CreateConversationParams{ChannelName: "inc-42_db"}); err == nil || err.Error() != "name_taken" {
		t.Fatalf("duplicate: %v", err)
	}
	got, ok := fake.ChannelByName("inc-42_db")
	if !ok || got.ID != c.ID || len(got.Members) != 1 {
		t.Fatalf("ChannelByName = %+v", got)
	}
}

func TestInviteJoinTopicAndList(t *testing.T) {
	fake, api := newAPI(t)
	alice := fake.AddUser(User{ID: "U1", Name: "alice"})
	bob := fake.AddUser(User{ID: "U2", Name: "bob"})
	c, err := api.CreateConversationContext(tctx(t), slack.CreateConversationParams{ChannelName: "inc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(tctx(t), c.ID, alice, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(tctx(t), c.ID, alice); err == nil || err.Error() != "already_in_channel" {
		t.Fatalf("re-invite: %v", err)
	}
	if _, err := api.InviteUsersToConversationContext(tctx(t), c.ID, "U404"); err == nil || err.Error() != "user_not_found" {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := api.InviteUsersToConversationContext(tctx(t), c.ID, "U0BOT"); err == nil || err.Error() != "cant_invite_self" {
		t.Fatalf("self: %v", err)
	}
	if _, err := api.SetTopicOfConversationContext(tctx(t), c.ID, "SEV1: db down"); err != nil {
		t.Fatal(err)
	}
	got, _ := fake.Channel(c.ID)
	if got.Topic != "SEV1: db down" || len(got.Members) != 3 {
		t.Fatalf("channel = %+v", got)
	}
	var subtypes []string
	for _, m := range fake.Messages(c.ID) {
		subtypes = append(subtypes, m.Subtype)
	}
	if strings.Join(subtypes, ",") != "channel_join,channel_join,channel_join,channel_topic" {
		t.Fatalf("system messages = %v", subtypes)
	}
	members, _, err := api.GetUsersInConversationContext(tctx(t), &slack.GetUsersInConversationParameters{ChannelID: c.ID})
	if err != nil || len(members) != 3 {
		t.Fatalf("members = %v, %v", members, err)
	}

	fake.AddChannel("general", false, alice)
	first, cursor, err := api.GetConversationsContext(tctx(t), &slack.GetConversationsParameters{Limit: 1})
	if err != nil || len(first) != 1 || cursor == "" {
		t.Fatalf("first page = %d channels, cursor %q, %v", len(first), cursor, err)
	}
	all, err := api.GetAllConversationsContext(tctx(t), slack.GetConversationsOptionLimit(1))
	if err != nil || len(all) != 2 {
		t.Fatalf("paged list = %d, %v", len(all), err)
	}
	if _, _, _, err := api.JoinConversationContext(tctx(t), all[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, warn, err := api.JoinConversationContext(tctx(t), all[1].ID); err != nil || len(warn) != 1 || warn[0] != "already_in_channel" {
		t.Fatalf("second join: %v %v", warn, err)
	}
}

func TestPostMessageRulesAndDM(t *testing.T) {
	fake, api := newAPI(t)
	alice := fake.AddUser(User{ID: "U1", Name: "alice", RealName: "Alice A", DisplayName: "ali"})
	notIn := fake.AddChannel("random", false, alice)
	if _, _, err := api.PostMessageContext(tctx(t), notIn, slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_in_channel" {
		t.Fatalf("not a member: %v", err)
	}
	if _, _, err := api.PostMessageContext(tctx(t), "C404", slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Fatalf("unknown: %v", err)
	}
	ch, _, err := api.PostMessageContext(tctx(t), alice, slack.MsgOptionText("psst", false))
	if err != nil || !strings.HasPrefix(ch, "D") {
		t.Fatalf("DM post = %s, %v", ch, err)
	}
	dm, _, _, err := api.OpenConversationContext(tctx(t), &slack.OpenConversationParameters{Users: []string{alice}})
	if err != nil || dm.ID != ch || fake.DM(alice) != ch {
		t.Fatalf("open = %+v, %v", dm, err)
	}
	u, err := api.GetUserInfoContext(tctx(t), alice)
	if err != nil || u.Profile.DisplayName != "ali" || u.RealName != "Alice A" || u.Name != "alice" {
		t.Fatalf("users.info = %+v, %v", u, err)
	}
	fake.AddUserGroup("S1", "oncall", alice)
	if users, err := api.GetUserGroupMembersContext(tctx(t), "S1"); err != nil || len(users) != 1 || users[0] != alice {
		t.Fatalf("group = %v, %v", users, err)
	}
}

func TestUpdateDeletePinPermalink(t *testing.T) {
	fake, api := newAPI(t)
	alice := fake.AddUser(User{ID: "U1"})
	ch := fake.AddChannel("ops", false, alice, fake.BotUserID())
	_, ts, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("v1", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(tctx(t), ch, ts, slack.MsgOptionText("v2", false)); err != nil {
		t.Fatal(err)
	}
	userTS := fake.PostMessage(alice, ch, "mine")
	if _, _, _, err := api.UpdateMessageContext(tctx(t), ch, userTS, slack.MsgOptionText("hack", false)); err == nil || err.Error() != "cant_update_message" {
		t.Fatalf("update other's: %v", err)
	}
	if _, _, _, err := api.UpdateMessageContext(tctx(t), ch, "1.000001", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Fatalf("update missing: %v", err)
	}
	if err := api.AddPinContext(tctx(t), ch, slack.NewRefToMessage(ch, ts)); err != nil {
		t.Fatal(err)
	}
	if err := api.AddPinContext(tctx(t), ch, slack.NewRefToMessage(ch, ts)); err == nil || err.Error() != "already_pinned" {
		t.Fatalf("re-pin: %v", err)
	}
	m, _ := fake.Message(ch, ts)
	if m.Text != "v2" || !m.Edited || !m.Pinned {
		t.Fatalf("message = %+v", m)
	}
	link, err := api.GetPermalinkContext(tctx(t), &slack.PermalinkParameters{Channel: ch, Ts: ts})
	if err != nil || link != "https://fake.slack.com/archives/"+ch+"/p"+strings.Replace(ts, ".", "", 1) {
		t.Fatalf("permalink = %s, %v", link, err)
	}
	_, reply, _ := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("r", false), slack.MsgOptionTS(ts))
	link, _ = api.GetPermalinkContext(tctx(t), &slack.PermalinkParameters{Channel: ch, Ts: reply})
	if !strings.HasSuffix(link, "?thread_ts="+ts+"&cid="+ch) {
		t.Fatalf("reply permalink = %s", link)
	}
	if _, _, err := api.DeleteMessageContext(tctx(t), ch, ts); err != nil {
		t.Fatal(err)
	}
	if m, _ := fake.Message(ch, ts); !m.Deleted {
		t.Fatal("not deleted")
	}
}
