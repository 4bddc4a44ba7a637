package slackfake

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func TestNoPingsMakeSocketModeReconnect(t *testing.T) {
	b := startBot(t, Options{PingInterval: 20 * time.Millisecond}, socketmode.OptionPingInterval(200*time.Millisecond))
	b.fake.SetPinging(false)
	b.waitFor(func() bool { return b.fake.Connections() >= 2 }, "reconnect after ping timeout")
	b.fake.SetPinging(true)
	b.waitFor(func() bool { return b.fake.Connected() }, "connected again")
}

func TestEditDeleteAndMembershipEvents(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("ops", false, b.fake.BotUserID())

	b.fake.JoinChannel(alice, ch)
	ev := b.nextWhere(isEventType("member_joined_channel"))
	api, _ := innerEvent(t, ev)
	if j := api.InnerEvent.Data.(*slackevents.MemberJoinedChannelEvent); j.User != alice || j.Channel != ch || j.ChannelType != "C" {
		t.Fatalf("join = %+v", j)
	}
	b.ack(ev, nil)
	ev = b.nextWhere(isEventType("message"))
	api, _ = innerEvent(t, ev)
	if m := api.InnerEvent.Data.(*slackevents.MessageEvent); m.SubType != "channel_join" || m.User != alice {
		t.Fatalf("join message = %+v", m)
	}
	b.ack(ev, nil)

	ts := b.fake.PostMessage(alice, ch, "typo")
	b.ack(b.nextWhere(isEventType("message")), nil)
	b.fake.EditMessage(alice, ch, ts, "fixed")
	ev = b.nextWhere(isEventType("message"))
	api, _ = innerEvent(t, ev)
	m := api.InnerEvent.Data.(*slackevents.MessageEvent)
	if m.SubType != "message_changed" || m.Message.Text != "fixed" || m.PreviousMessage.Text != "typo" ||
		m.Message.Edited == nil || m.Message.Edited.User != alice || !m.IsEdited() {
		t.Fatalf("changed = %+v / %+v", m, m.Message)
	}
	b.ack(ev, nil)
	b.fake.DeleteMessage(alice, ch, ts)
	ev = b.nextWhere(isEventType("message"))
	api, _ = innerEvent(t, ev)
	m = api.InnerEvent.Data.(*slackevents.MessageEvent)
	if m.SubType != "message_deleted" || m.DeletedTimeStamp != ts || m.PreviousMessage.Text != "fixed" {
		t.Fatalf("deleted = %+v", m)
	}
	b.ack(ev, nil)

	b.fake.LeaveChannel(alice, ch)
	ev = b.nextWhere(isEventType("member_left_channel"))
	api, _ = innerEvent(t, ev)
	if l := api.InnerEvent.Data.(*slackevents.MemberLeftChannelEvent); l.User != alice {
		t.Fatalf("left = %+v", l)
	}
	b.ack(ev, nil)
}

func TestEphemeralButtonAndChooseOption(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("ops", false, alice, b.fake.BotUserID())
	label := func(s string) *slack.TextBlockObject { return slack.NewTextBlockObject("plain_text", s, false, false) }
	btn := slack.NewButtonBlockElement("confirm", "yes", label("Confirm"))
	sel := slack.NewOptionsSelectBlockElement("static_select", label("Severity"), "sev",
		slack.NewOptionBlockObject("sev2", label("SEV2"), nil))
	ts, err := b.api.PostEphemeralContext(tctx(t), ch, alice, slack.MsgOptionText("Sure?", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("confirm_block", btn, sel)))
	if err != nil {
		t.Fatal(err)
	}
	b.fake.ClickButton(alice, ch, ts, "confirm")
	ev := b.nextWhere(isType("interactive"))
	cb := ev.Data.(slack.InteractionCallback)
	if !cb.Container.IsEphemeral || cb.Container.MessageTs != ts || cb.ActionCallback.BlockActions[0].BlockID != "confirm_block" {
		t.Fatalf("ephemeral click = %+v", cb.Container)
	}
	b.ack(ev, nil)
	if err := slack.PostWebhookContext(tctx(t), cb.ResponseURL, &slack.WebhookMessage{Text: "Done", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if e := b.fake.Ephemerals(alice); len(e) != 1 || e[0].Text != "Done" || !e[0].Edited {
		t.Fatalf("ephemeral after replace = %+v", e)
	}

	_, msgTS, _ := b.api.PostMessageContext(tctx(t), ch, slack.MsgOptionBlocks(slack.NewActionBlock("", sel)), slack.MsgOptionText("pick", false))
	b.fake.ChooseOption(alice, ch, msgTS, "sev", "sev2")
	ev = b.nextWhere(isType("interactive"))
	act := ev.Data.(slack.InteractionCallback).ActionCallback.BlockActions[0]
	if act.SelectedOption.Value != "sev2" || act.SelectedOption.Text.Text != "SEV2" || act.Type != "static_select" {
		t.Fatalf("choose = %+v", act)
	}
	b.ack(ev, nil)
}

func TestTypedTextIsEncodedLikeSlack(t *testing.T) {
	fake, _ := newAPI(t)
	alice := fake.AddUser(User{ID: "U1"})
	ch := fake.AddChannel("ops", false, alice)
	ts := fake.PostMessage(alice, ch, "a < b & <@U0BOT> see https://x.io/a?b=1&c=2")
	m, _ := fake.Message(ch, ts)
	if want := "a &lt; b &amp; <@U0BOT> see <https://x.io/a?b=1&amp;c=2>"; m.Text != want {
		t.Fatalf("text = %q, want %q", m.Text, want)
	}
	var blocks []slack.RichTextBlock
	mustUnmarshal(t, m.Blocks, &blocks)
	sec := blocks[0].Elements[0].(*slack.RichTextSection)
	if len(sec.Elements) != 4 {
		t.Fatalf("rich text = %s", m.Blocks)
	}
	if txt := sec.Elements[0].(*slack.RichTextSectionTextElement); txt.Text != "a < b & " {
		t.Fatalf("first element = %q", txt.Text)
	}
	if u := sec.Elements[1].(*slack.RichTextSectionUserElement); u.UserID != "U0BOT" {
		t.Fatalf("mention = %+v", u)
	}
	if l := sec.Elements[3].(*slack.RichTextSectionLinkElement); l.URL != "https://x.io/a?b=1&c=2" {
		t.Fatalf("link = %+v", l)
	}
}
