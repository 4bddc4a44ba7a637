package slackfake

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

func isType(typ string) func(socketmode.Event) bool {
	return func(ev socketmode.Event) bool { return ev.Request.Type == typ }
}

func TestSlashCommandAckPayloadIsEphemeral(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("general", false, alice)

	id := b.fake.SlashCommand(alice, ch, "declare db is down")
	ev := b.nextWhere(isType("slash_commands"))
	cmd, ok := ev.Data.(slack.SlashCommand)
	if !ok || ev.Request.EnvelopeID != id || !ev.Request.AcceptsResponsePayload {
		t.Fatalf("envelope = %+v / %T", ev.Request, ev.Data)
	}
	if cmd.Command != "/incident" || cmd.Text != "declare db is down" || cmd.UserID != alice || cmd.UserName != "alice" ||
		cmd.ChannelID != ch || cmd.ChannelName != "general" || cmd.TriggerID == "" || cmd.ResponseURL == "" || cmd.TeamDomain != "fake" {
		t.Fatalf("command = %+v", cmd)
	}
	b.ack(ev, map[string]any{"text": "Declaring…"})
	b.waitFor(func() bool { return len(b.fake.Ephemerals(alice)) == 1 }, "ack ephemeral")
	e := b.fake.Ephemerals(alice)[0]
	if e.Text != "Declaring…" || e.Via != "ack" || e.Channel != ch || e.BotID != "B0BOT" {
		t.Fatalf("ephemeral = %+v", e)
	}
	a, _ := b.fake.Ack(id)
	if !strings.Contains(string(a.Payload), "Declaring") {
		t.Fatalf("ack payload = %s", a.Payload)
	}

	// A response_url reply and a chat.postEphemeral reply are recorded too.
	if err := slack.PostWebhookContext(tctx(t), cmd.ResponseURL, &slack.WebhookMessage{Text: "via url"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.api.PostEphemeralContext(tctx(t), ch, alice, slack.MsgOptionText("via api", false)); err != nil {
		t.Fatal(err)
	}
	var via []string
	for _, e := range b.fake.Ephemerals(alice) {
		via = append(via, e.Via+":"+e.Text)
	}
	if strings.Join(via, "|") != "ack:Declaring…|response_url:via url|chat.postEphemeral:via api" {
		t.Fatalf("ephemerals = %v", via)
	}

	// in_channel responses are real messages from the app.
	if err := slack.PostWebhookContext(tctx(t), cmd.ResponseURL, &slack.WebhookMessage{Text: "for all", ResponseType: "in_channel"}); err != nil {
		t.Fatal(err)
	}
	msgs := b.fake.Messages(ch)
	if len(msgs) != 1 || msgs[0].Text != "for all" || msgs[0].BotID != "B0BOT" {
		t.Fatalf("in_channel = %+v", msgs)
	}
}

func TestSlashCommandOtherNameAndTimeout(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	id := b.fake.SlashCommandWith("/inc", alice, b.fake.BotUserID(), "help")
	ev := b.nextWhere(isType("slash_commands"))
	if cmd := ev.Data.(slack.SlashCommand); cmd.Command != "/inc" || cmd.ChannelName != "directmessage" || !strings.HasPrefix(cmd.ChannelID, "D") {
		t.Fatalf("command = %+v", cmd)
	}
	// Not acked: run the 3 s deadline's effect directly instead of waiting.
	b.fake.mu.Lock()
	e := b.fake.sock.envs[id]
	b.fake.mu.Unlock()
	b.fake.commandTimeout(e)
	eph := b.fake.Ephemerals(alice)
	if len(eph) != 1 || eph[0].Via != "timeout" || eph[0].Text != `/inc failed with the error "operation_timeout"` {
		t.Fatalf("timeout ephemeral = %+v", eph)
	}
}

func TestViewsOpenTriggerRules(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	now := time.Now()
	b.fake.setWall(func() time.Time { return now })

	modal := slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Declare", false, false),
		CallbackID: "declare",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("title", slack.NewTextBlockObject("plain_text", "Title", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "title_input")),
		}},
	}
	b.fake.SlashCommand(alice, b.fake.BotUserID(), "")
	ev := b.nextWhere(isType("slash_commands"))
	b.ack(ev, nil)
	trigger := ev.Data.(slack.SlashCommand).TriggerID

	now = now.Add(4 * time.Second) // the trigger is now stale
	if _, err := b.api.OpenViewContext(tctx(t), trigger, modal); err == nil || err.Error() != "expired_trigger_id" {
		t.Fatalf("stale trigger: %v", err)
	}
	if _, err := b.api.OpenViewContext(tctx(t), "1.2.nope", modal); err == nil || err.Error() != "invalid_trigger_id" {
		t.Fatalf("unknown trigger: %v", err)
	}

	b.fake.SlashCommand(alice, b.fake.BotUserID(), "")
	ev = b.nextWhere(isType("slash_commands"))
	b.ack(ev, nil)
	fresh := ev.Data.(slack.SlashCommand).TriggerID
	resp, err := b.api.OpenViewContext(tctx(t), fresh, modal)
	if err != nil || resp.ID == "" || resp.CallbackID != "declare" || resp.State == nil {
		t.Fatalf("open = %+v, %v", resp, err)
	}
	if _, err := b.api.OpenViewContext(tctx(t), fresh, modal); err == nil || err.Error() != "exchanged_trigger_id" {
		t.Fatalf("reused trigger: %v", err)
	}
	modal.CallbackID = "declare2"
	up, err := b.api.UpdateViewContext(tctx(t), modal, "", resp.Hash, resp.ID)
	if err != nil || up.ID != resp.ID || up.CallbackID != "declare2" {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if _, err := b.api.UpdateViewContext(tctx(t), modal, "", "stale-hash", resp.ID); err == nil || err.Error() != "hash_conflict" {
		t.Fatalf("stale hash: %v", err)
	}
}

func TestSubmitViewAndErrorsAck(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	b.fake.SlashCommand(alice, b.fake.BotUserID(), "")
	ev := b.nextWhere(isType("slash_commands"))
	b.ack(ev, nil)
	sev := slack.NewOptionsSelectBlockElement("static_select", nil, "sev",
		slack.NewOptionBlockObject("sev1", slack.NewTextBlockObject("plain_text", "SEV1", false, false), nil),
		slack.NewOptionBlockObject("sev2", slack.NewTextBlockObject("plain_text", "SEV2", false, false), nil))
	teams := slack.NewCheckboxGroupsBlockElement("teams",
		slack.NewOptionBlockObject("db", slack.NewTextBlockObject("plain_text", "DB", false, false), nil),
		slack.NewOptionBlockObject("net", slack.NewTextBlockObject("plain_text", "Net", false, false), nil))
	label := func(s string) *slack.TextBlockObject { return slack.NewTextBlockObject("plain_text", s, false, false) }
	view, err := b.api.OpenViewContext(tctx(t), ev.Data.(slack.SlashCommand).TriggerID, slack.ModalViewRequest{
		Type: slack.VTModal, Title: label("Declare"), CallbackID: "declare", PrivateMetadata: "C123",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("title", label("Title"), nil, slack.NewPlainTextInputBlockElement(nil, "title_input")),
			slack.NewInputBlock("sev", label("Severity"), nil, sev),
			slack.NewInputBlock("teams", label("Teams"), nil, teams),
			slack.NewInputBlock("notes", label("Notes"), nil, slack.NewPlainTextInputBlockElement(nil, "notes_input")),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}

	id := b.fake.SubmitView(alice, view.ID, map[string]map[string]string{
		"title": {"title_input": "DB down"}, "sev": {"sev": "sev1"}, "teams": {"teams": "db,net"},
	})
	ev = b.nextWhere(isType("interactive"))
	cb := ev.Data.(slack.InteractionCallback)
	if ev.Request.EnvelopeID != id || cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != view.ID ||
		cb.View.CallbackID != "declare" || cb.View.PrivateMetadata != "C123" || cb.User.ID != alice {
		t.Fatalf("callback = %+v", cb)
	}
	vals := cb.View.State.Values
	if vals["title"]["title_input"].Value != "DB down" || vals["sev"]["sev"].SelectedOption.Value != "sev1" ||
		vals["sev"]["sev"].SelectedOption.Text.Text != "SEV1" || len(vals["teams"]["teams"].SelectedOptions) != 2 ||
		vals["notes"]["notes_input"].Value != "" {
		t.Fatalf("state = %+v", vals)
	}
	b.ack(ev, slack.NewErrorsViewSubmissionResponse(map[string]string{"title": "Too vague"}))
	b.waitFor(func() bool { v := b.fake.Views(); return len(v) == 1 && v[0].Errors["title"] == "Too vague" }, "view errors")
	if b.fake.Views()[0].Closed {
		t.Fatal("errors ack closed the view")
	}

	b.fake.SubmitView(alice, view.ID, map[string]map[string]string{"title": {"title_input": "Primary DB down"}})
	ev = b.nextWhere(isType("interactive"))
	b.ack(ev, nil)
	b.waitFor(func() bool { v := b.fake.Views(); return v[0].Closed && v[0].Errors == nil }, "view closed")
}

func TestClickButtonAndResponseURL(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("inc-1", false, alice, b.fake.BotUserID())
	ack := slack.NewButtonBlockElement("ack", "inc-1", slack.NewTextBlockObject("plain_text", "Acknowledge", false, false))
	_, ts, err := b.api.PostMessageContext(tctx(t), ch, slack.MsgOptionText("Paging", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("", ack)))
	if err != nil {
		t.Fatal(err)
	}
	id := b.fake.ClickButton(alice, ch, ts, "ack")
	ev := b.nextWhere(isType("interactive"))
	cb := ev.Data.(slack.InteractionCallback)
	if ev.Request.EnvelopeID != id || cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("callback = %+v", cb)
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "ack" || act.Value != "inc-1" || act.BlockID == "" || act.Type != "button" || act.ActionTs == "" {
		t.Fatalf("action = %+v", act)
	}
	if cb.Container.MessageTs != ts || cb.Container.ChannelID != ch || cb.Channel.ID != ch || cb.Message.Timestamp != ts ||
		cb.User.ID != alice || cb.TriggerID == "" || cb.ResponseURL == "" || cb.Team.ID != "T0FAKE" {
		t.Fatalf("context = %+v", cb)
	}
	b.ack(ev, nil)
	if err := slack.PostWebhookContext(tctx(t), cb.ResponseURL, &slack.WebhookMessage{Text: "Acknowledged by alice", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	m, _ := b.fake.Message(ch, ts)
	if m.Text != "Acknowledged by alice" || m.Blocks != nil {
		t.Fatalf("replaced = %+v", m)
	}
	if err := slack.PostWebhookContext(tctx(t), cb.ResponseURL, &slack.WebhookMessage{DeleteOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ := b.fake.Message(ch, ts); !m.Deleted {
		t.Fatal("delete_original did not delete")
	}
}

func TestSubscribeTranscript(t *testing.T) {
	fake, api := newAPI(t)
	events, cancel := fake.Subscribe()
	defer cancel()
	alice := fake.AddUser(User{ID: "U1"})
	ch := fake.AddChannel("ops", false, alice, fake.BotUserID())
	ts := fake.PostMessage(alice, ch, "hi")
	if err := api.AddReactionContext(tctx(t), "wave", slack.NewRefToMessage(ch, ts)); err != nil {
		t.Fatal(err)
	}
	fake.SetTopic(alice, ch, "calm")
	want := []EventKind{EventMessagePosted, EventReactionAdded, EventTopicSet, EventMessagePosted}
	for i, k := range want {
		select {
		case ev := <-events:
			if ev.Kind != k {
				t.Fatalf("event %d = %s, want %s", i, ev.Kind, k)
			}
		case <-time.After(testTimeout):
			t.Fatalf("event %d missing", i)
		}
	}
}
