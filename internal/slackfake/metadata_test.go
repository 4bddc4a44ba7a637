package slackfake

import (
	"sync"
	"testing"

	"github.com/slack-go/slack"
)

// Message metadata as Slack keeps it: stored with the message, returned by
// conversations.history and conversations.replies only when asked for with
// include_all_metadata, and left alone by a chat.update that sends none.
func TestMessageMetadata(t *testing.T) {
	fake, api := newAPI(t)
	ch := fake.AddChannel("general", false, fake.BotUserID())
	marker := slack.SlackMetadata{EventType: "incidentbot_job", EventPayload: map[string]any{"seq": "7", "kind": "post"}}

	_, ts, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("marked", false), slack.MsgOptionMetadata(marker))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("marked reply", false), slack.MsgOptionTS(ts),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "incidentbot_job", EventPayload: map[string]any{"seq": "8"}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("plain", false)); err != nil {
		t.Fatal(err)
	}
	// slack-go sends chat.update's metadata empty when none is given: kept.
	if _, _, _, err := api.UpdateMessageContext(tctx(t), ch, ts, slack.MsgOptionText("marked, edited", false)); err != nil {
		t.Fatal(err)
	}

	history := func(all bool) []slack.Message {
		t.Helper()
		h, err := api.GetConversationHistoryContext(tctx(t), &slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: all})
		if err != nil {
			t.Fatal(err)
		}
		return h.Messages
	}
	for _, m := range history(false) {
		if m.Metadata.EventType != "" {
			t.Errorf("history without include_all_metadata returned metadata on %q: %+v", m.Text, m.Metadata)
		}
	}
	got := map[string]slack.SlackMetadata{}
	for _, m := range history(true) {
		got[m.Text] = m.Metadata
	}
	if md := got["marked, edited"]; md.EventType != "incidentbot_job" || md.EventPayload["seq"] != "7" || md.EventPayload["kind"] != "post" {
		t.Errorf("metadata of the edited message = %+v, want %+v", md, marker)
	}
	if md := got["plain"]; md.EventType != "" {
		t.Errorf("a message posted without metadata has %+v", md)
	}

	msgs, _, _, err := api.GetConversationRepliesContext(tctx(t), &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: ts, IncludeAllMetadata: true})
	if err != nil || len(msgs) != 2 || msgs[1].Timestamp != reply || msgs[1].Metadata.EventPayload["seq"] != "8" {
		t.Fatalf("replies with metadata = %+v, %v", msgs, err)
	}
	msgs, _, _, err = api.GetConversationRepliesContext(tctx(t), &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: ts})
	if err != nil || len(msgs) != 2 || msgs[1].Metadata.EventType != "" {
		t.Fatalf("replies without include_all_metadata = %+v, %v", msgs, err)
	}
	if m, _ := fake.Message(ch, ts); len(m.Metadata) == 0 {
		t.Errorf("the snapshot of the marked message has no metadata")
	}
}

// BeforeReply runs once the call took effect and before the client hears
// back: a test can hold the reply there.
func TestBeforeReplyHoldsTheReply(t *testing.T) {
	fake, api := newAPI(t)
	ch := fake.AddChannel("general", false, fake.BotUserID())
	held, release := make(chan Call, 1), make(chan struct{})
	var once sync.Once
	fake.BeforeReply(func(c Call) {
		if c.Method == "chat.postMessage" {
			once.Do(func() { held <- c; <-release })
		}
	})
	done := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("held", false))
		done <- err
	}()
	c := <-held
	if c.Status != 200 || c.Error != "" || len(fake.Messages(ch)) != 1 {
		t.Fatalf("while the reply is held: call %+v, %d messages; want the post applied", c, len(fake.Messages(ch)))
	}
	select {
	case err := <-done:
		t.Fatalf("the client heard back while the reply was held: %v", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fake.BeforeReply(nil)
	if _, _, err := api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("free", false)); err != nil {
		t.Fatal(err)
	}
}

// A fault for one channel waits for a call to that channel.
func TestFaultForOneChannel(t *testing.T) {
	fake, api := newAPI(t)
	a := fake.AddChannel("a", false, fake.BotUserID())
	b := fake.AddChannel("b", false, fake.BotUserID())
	fake.FailNext("chat.postMessage", 1, Fault{Status: 503, Apply: true, Channel: b})
	if _, _, err := api.PostMessageContext(tctx(t), a, slack.MsgOptionText("to a", false)); err != nil {
		t.Fatalf("a call to another channel met the fault: %v", err)
	}
	if _, _, err := api.PostMessageContext(tctx(t), b, slack.MsgOptionText("to b", false)); err == nil {
		t.Fatal("the call to b did not fail")
	}
	if _, _, err := api.PostMessageContext(tctx(t), b, slack.MsgOptionText("to b again", false)); err != nil {
		t.Fatalf("the fault applied twice: %v", err)
	}
	if len(fake.Messages(a)) != 1 || len(fake.Messages(b)) != 2 {
		t.Fatalf("messages: %d in a, %d in b; want 1 and 2 (the failed call applied)", len(fake.Messages(a)), len(fake.Messages(b)))
	}
}
