package slackfake

import (
	"bytes"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

func TestRepliesFromAnyReplyTS(t *testing.T) {
	fake, api := newAPI(t)
	alice := fake.AddUser(User{ID: "U1"})
	ch := fake.AddChannel("ops", false, alice, fake.BotUserID())
	parent := fake.PostMessage(alice, ch, "parent")
	r1 := fake.PostMessage(alice, ch, "one", InThread(parent))
	r2 := fake.PostMessage(alice, ch, "two", InThread(r1)) // a reply's ts files under the parent
	fake.PostMessage(alice, ch, "top level")

	msgs, hasMore, _, err := api.GetConversationRepliesContext(tctx(t), &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: r2})
	if err != nil || hasMore {
		t.Fatal(err, hasMore)
	}
	if len(msgs) != 3 || msgs[0].Timestamp != parent || msgs[1].Timestamp != r1 || msgs[2].Timestamp != r2 {
		t.Fatalf("replies = %+v", msgs)
	}
	if msgs[0].ReplyCount != 2 || msgs[1].ThreadTimestamp != parent || msgs[1].ParentUserId != alice {
		t.Fatalf("thread fields = %+v / %+v", msgs[0].Msg, msgs[1].Msg)
	}
	if _, _, _, err := api.GetConversationRepliesContext(tctx(t), &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: "1.000001"}); err == nil || err.Error() != "thread_not_found" {
		t.Fatalf("missing thread: %v", err)
	}

	hist, err := api.GetConversationHistoryContext(tctx(t), &slack.GetConversationHistoryParameters{ChannelID: ch, Limit: 1})
	if err != nil || !hist.HasMore || len(hist.Messages) != 1 || hist.Messages[0].Text != "top level" {
		t.Fatalf("history page 1 = %+v, %v", hist, err)
	}
	hist, err = api.GetConversationHistoryContext(tctx(t), &slack.GetConversationHistoryParameters{ChannelID: ch, Cursor: hist.ResponseMetaData.NextCursor})
	if err != nil || hist.HasMore || len(hist.Messages) != 1 || hist.Messages[0].Timestamp != parent || hist.Messages[0].ReplyCount != 2 {
		t.Fatalf("history page 2 = %+v, %v", hist, err)
	}
	hist, _ = api.GetConversationHistoryContext(tctx(t), &slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: parent, Inclusive: true})
	if len(hist.Messages) != 2 {
		t.Fatalf("inclusive oldest = %d messages", len(hist.Messages))
	}
	hist, _ = api.GetConversationHistoryContext(tctx(t), &slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: parent})
	if len(hist.Messages) != 1 {
		t.Fatalf("exclusive oldest = %d messages", len(hist.Messages))
	}
	notIn := fake.AddChannel("random", false, alice)
	if _, err := api.GetConversationHistoryContext(tctx(t), &slack.GetConversationHistoryParameters{ChannelID: notIn}); err == nil || err.Error() != "not_in_channel" {
		t.Fatalf("history of a channel the bot is not in: %v", err)
	}
}

func TestSimulatedClockDrivesTimestamps(t *testing.T) {
	now := time.Unix(1700000000, 0)
	fake := New(Options{Now: func() time.Time { return now }})
	defer fake.Close()
	alice := fake.AddUser(User{ID: "U1"})
	ch := fake.AddChannel("ops", false, alice)
	a := fake.PostMessage(alice, ch, "a")
	b := fake.PostMessage(alice, ch, "b")
	if a != "1700000000.000000" || b != "1700000000.000001" {
		t.Fatalf("ts = %s, %s", a, b)
	}
}

func TestUploadFileLandsWithContent(t *testing.T) {
	b := startBot(t, Options{})
	ch := b.fake.AddChannel("inc-1", false, b.fake.BotUserID())
	content := "# Postmortem\n\nIt was DNS."
	sum, err := b.api.UploadFileContext(tctx(t), slack.UploadFileParameters{
		Filename: "postmortem.md", Title: "Postmortem", Content: content,
		FileSize: len(content), Channel: ch, InitialComment: "Draft attached",
	})
	if err != nil {
		t.Fatal(err)
	}
	files := b.fake.Files()
	if len(files) != 1 || files[0].ID != sum.ID || string(files[0].Content) != content || files[0].Title != "Postmortem" || files[0].Channels[0] != ch {
		t.Fatalf("files = %+v", files)
	}
	msgs := b.fake.Messages(ch)
	last := msgs[len(msgs)-1]
	if last.Text != "Draft attached" || len(last.Files) != 1 || last.Files[0].Name != "postmortem.md" || last.BotID != "B0BOT" {
		t.Fatalf("share message = %+v", last)
	}
	ev := b.nextWhere(func(ev slackEvent) bool {
		api, ok := ev.Data.(slackevents.EventsAPIEvent)
		if !ok || api.InnerEvent.Type != "message" {
			return false
		}
		m := api.InnerEvent.Data.(*slackevents.MessageEvent)
		return m.Message != nil && len(m.Message.Files) == 1
	})
	b.ack(ev, nil)

	var buf bytes.Buffer
	info, _, _, err := b.api.GetFileInfoContext(tctx(t), sum.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.api.GetFileContext(tctx(t), info.URLPrivateDownload, &buf); err != nil || buf.String() != content {
		t.Fatalf("download = %q, %v", buf.String(), err)
	}
}

func TestUserFileShare(t *testing.T) {
	fake, _ := newAPI(t)
	alice := fake.AddUser(User{ID: "U1"})
	ch := fake.AddChannel("ops", false, alice)
	ts := fake.PostMessage(alice, ch, "logs", WithFiles(File{Name: "app.log", Content: []byte("boom")}))
	m, _ := fake.Message(ch, ts)
	if m.Subtype != "file_share" || len(m.Files) != 1 || string(m.Files[0].Content) != "boom" {
		t.Fatalf("message = %+v", m)
	}
}
