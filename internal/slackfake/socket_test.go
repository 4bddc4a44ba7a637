package slackfake

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func TestConnectHelloAndAck(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("general", false, alice, b.fake.BotUserID())

	ts := b.fake.PostMessage(alice, ch, "hello")
	ev := b.next()
	if ev.Request.Type != "events_api" || ev.Request.RetryAttempt != 0 {
		t.Fatalf("envelope = %+v", ev.Request)
	}
	api, cb := innerEvent(t, ev)
	msg, ok := api.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		t.Fatalf("inner = %T", api.InnerEvent.Data)
	}
	if msg.User != alice || msg.Text != "hello" || msg.TimeStamp != ts || msg.Channel != ch || msg.ChannelType != "channel" {
		t.Fatalf("message event = %+v", msg)
	}
	if !strings.HasPrefix(cb.EventID, "Ev") || cb.TeamID != "T0FAKE" || len(cb.Authorizations) != 1 || cb.Authorizations[0].UserID != "U0BOT" {
		t.Fatalf("callback = %+v", cb)
	}

	b.ack(ev, nil)
	ack, err := b.fake.WaitAck(tctx(t), ev.Request.EnvelopeID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Payload != nil || ack.Latency <= 0 {
		t.Fatalf("ack = %+v", ack)
	}
	if u := b.fake.Unacked(); len(u) != 0 || b.fake.UnackedCount() != 0 {
		t.Fatalf("unacked = %v (count %d)", u, b.fake.UnackedCount())
	}
}

func TestHelloFrame(t *testing.T) {
	fake := New(Options{})
	defer fake.Close()
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	conn, url := dialSocket(t, api)
	var hello socketmode.Request
	if err := conn.ReadJSON(&hello); err != nil {
		t.Fatal(err)
	}
	if hello.Type != "hello" || hello.NumConnections != 1 || hello.ConnectionInfo.AppID != "A0FAKE" || hello.DebugInfo.ApproximateConnectionTime != 18060 {
		t.Fatalf("hello = %+v", hello)
	}
	// The ticket is single use.
	if _, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
		t.Fatal("reused ticket accepted")
	}
}

// dialSocket opens a raw Socket Mode connection as api's app, closed when
// the test ends, and returns it with the URL it was opened with.
func dialSocket(t *testing.T, api *slack.Client) (*websocket.Conn, string) {
	t.Helper()
	_, url, err := api.StartSocketModeContext(tctx(t))
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, url
}

func TestAppsConnectionsOpenAuth(t *testing.T) {
	fake := New(Options{})
	defer fake.Close()
	wrong := slack.New(fake.BotToken(), slack.OptionAppLevelToken("xapp-wrong"), slack.OptionAPIURL(fake.APIURL()))
	if _, _, err := wrong.StartSocketModeContext(tctx(t)); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("wrong app token: %v", err)
	}
	none := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
	if _, _, err := none.StartSocketModeContext(tctx(t)); err == nil || err.Error() != "not_authed" {
		t.Fatalf("missing app token: %v", err)
	}
	fake.RevokeTokens()
	good := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	if _, _, err := good.StartSocketModeContext(tctx(t)); err == nil || err.Error() != "token_revoked" {
		t.Fatalf("revoked app token: %v", err)
	}
	if _, err := good.AuthTestContext(tctx(t)); err == nil || err.Error() != "token_revoked" {
		t.Fatalf("revoked bot token: %v", err)
	}
}

func TestRedeliveryKeepsEventID(t *testing.T) {
	b := startBot(t, Options{RedeliverAfter: 50 * time.Millisecond})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("general", false, alice, b.fake.BotUserID())
	b.fake.PostMessage(alice, ch, "first")

	first := b.next() // deliberately not acked
	_, cb1 := innerEvent(t, first)
	second := b.next()
	if n := b.fake.UnackedCount(); n != len(b.fake.Unacked()) || n < 2 {
		t.Fatalf("UnackedCount = %d, Unacked = %v", n, b.fake.Unacked())
	}
	_, cb2 := innerEvent(t, second)
	if second.Request.EnvelopeID == first.Request.EnvelopeID {
		t.Fatal("redelivery reused the envelope_id")
	}
	if cb2.EventID != cb1.EventID || second.Request.RetryAttempt != 1 || second.Request.RetryReason != "timeout" {
		t.Fatalf("retry = attempt %d reason %q event %s (want %s)", second.Request.RetryAttempt, second.Request.RetryReason, cb2.EventID, cb1.EventID)
	}
	b.ack(second, nil)
	if _, err := b.fake.WaitAck(tctx(t), second.Request.EnvelopeID); err != nil {
		t.Fatal(err)
	}

	// A manual redelivery works the same way.
	again := b.fake.Redeliver(second.Request.EnvelopeID)
	third := b.next()
	_, cb3 := innerEvent(t, third)
	if third.Request.EnvelopeID != again || cb3.EventID != cb1.EventID || third.Request.RetryAttempt != 2 {
		t.Fatalf("manual redelivery = %+v", third.Request)
	}
	b.ack(third, nil)
}

func TestRedeliveryStopsAfterThreeRetries(t *testing.T) {
	b := startBot(t, Options{RedeliverAfter: 20 * time.Millisecond})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("general", false, alice, b.fake.BotUserID())
	b.fake.PostMessage(alice, ch, "never acked")
	for want := 0; want <= maxRetries; want++ {
		if got := b.next().Request.RetryAttempt; got != want {
			t.Fatalf("attempt = %d, want %d", got, want)
		}
	}
	// The timer of the last attempt must not queue a fourth retry; run it
	// directly rather than waiting for it.
	envs := b.fake.Envelopes()
	last := envs[len(envs)-1]
	b.fake.mu.Lock()
	e := b.fake.sock.envs[last.ID]
	b.fake.mu.Unlock()
	b.fake.autoRedeliver(e)
	if n := len(b.fake.Envelopes()); n != maxRetries+1 {
		t.Fatalf("envelopes = %d, want %d", n, maxRetries+1)
	}
}

func TestDisconnectMakesSocketModeReconnect(t *testing.T) {
	b := startBot(t, Options{})
	b.fake.Disconnect("refresh_requested")
	b.waitFor(func() bool { return b.fake.Connections() == 2 && b.fake.Connected() }, "reconnect")

	// Events posted now go to the new connection.
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("general", false, alice, b.fake.BotUserID())
	b.fake.PostMessage(alice, ch, "after reconnect")
	b.ack(b.nextWhere(isEventType("message")), nil)
}

func TestDropConnectionsQueuesUntilReconnect(t *testing.T) {
	b := startBot(t, Options{})
	alice := b.fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := b.fake.AddChannel("general", false, alice, b.fake.BotUserID())
	b.fake.DropConnections()
	b.fake.PostMessage(alice, ch, "while down")
	b.waitFor(func() bool { return b.fake.Connections() >= 2 }, "reconnect after drop")
	ev := b.nextWhere(isEventType("message"))
	api, _ := innerEvent(t, ev)
	if m := api.InnerEvent.Data.(*slackevents.MessageEvent); m.Text != "while down" {
		t.Fatalf("text = %q", m.Text)
	}
	b.ack(ev, nil)
}

func TestSendRawUnknownType(t *testing.T) {
	b := startBot(t, Options{})
	b.fake.SendRaw([]byte(`{"type":"brand_new","envelope_id":"x-1","payload":{}}`))
	// slack-go reports unknown types as error_bad_message and keeps going.
	alice := b.fake.AddUser(User{ID: "U1"})
	ch := b.fake.AddChannel("general", false, alice, b.fake.BotUserID())
	b.fake.PostMessage(alice, ch, "still alive")
	ev := b.nextWhere(isEventType("message"))
	b.ack(ev, nil)
	var frame struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	mustUnmarshal(t, b.fake.Envelopes()[0].Frame, &frame)
	if frame.Type != "events_api" {
		t.Fatalf("envelope frame type %q", frame.Type)
	}
	if b.fake.Connections() != 1 {
		t.Fatalf("connections = %d", b.fake.Connections())
	}
}

func TestEleventhConnectionIsTurnedAway(t *testing.T) {
	fake := New(Options{})
	defer fake.Close()
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	var last *websocket.Conn
	for i := 0; i <= maxConnections; i++ {
		conn, _ := dialSocket(t, api)
		last = conn
		// The server registers a connection just after the upgrade; wait, so
		// the next one's hello counts it.
		want := i + 1
		if err := fake.WaitFor(tctx(t), func() bool { return fake.Connections() >= min(want, maxConnections) }); err != nil {
			t.Fatalf("connection %d was not registered: %v", want, err)
		}
	}
	var hello, bye socketmode.Request
	if err := last.ReadJSON(&hello); err != nil || hello.NumConnections != maxConnections+1 {
		t.Fatalf("hello = %+v, %v", hello, err)
	}
	if err := last.ReadJSON(&bye); err != nil || bye.Type != "disconnect" || bye.Reason != "too_many_websockets" {
		t.Fatalf("second frame = %+v, %v", bye, err)
	}
}

func TestRateLimitedConnectIsRetried(t *testing.T) {
	fake := New(Options{})
	defer fake.Close()
	fake.FailNext("apps.connections.open", 1, Fault{Status: 429, RetryAfter: time.Second})
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	sm := socketmode.New(api)
	c, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel() // stop the client before the deferred Close
	go func() {
		for {
			select {
			case <-sm.Events:
			case <-c.Done():
				return
			}
		}
	}()
	go func() { _ = sm.RunContext(c) }()
	if err := fake.WaitFor(c, fake.Connected); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls("apps.connections.open")
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Time.Sub(calls[0].Time) < time.Second {
		t.Fatalf("calls = %+v", calls)
	}
}

// Slack sends each envelope to one connection picked at random ("each
// event to only 1 random connection", slackapi/bolt-python#448), not to
// whichever connection reads first: with three connections open, a burst
// is spread over all three, and one that goes away leaves its share to
// the others.
func TestEnvelopesSpreadOverConnections(t *testing.T) {
	fake := New(Options{RedeliverAfter: 100 * time.Millisecond})
	defer fake.Close()
	alice := fake.AddUser(User{ID: "U1", Name: "alice"})
	ch := fake.AddChannel("general", false, alice, fake.BotUserID())
	api := slack.New(fake.BotToken(), slack.OptionAppLevelToken(fake.AppToken()), slack.OptionAPIURL(fake.APIURL()))
	var conns []*websocket.Conn
	for i := range 3 {
		conn, _ := dialSocket(t, api)
		conns = append(conns, conn)
		if err := fake.WaitFor(tctx(t), func() bool { return fake.Connections() >= i+1 }); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]chan int, len(conns))
	for i, conn := range conns {
		got[i] = make(chan int, 1)
		go func() {
			n := 0
			defer func() { got[i] <- n }()
			for {
				var req socketmode.Request
				if err := conn.ReadJSON(&req); err != nil {
					return
				}
				if req.EnvelopeID == "" {
					continue // hello
				}
				n++
				if i == 2 && n == 5 {
					_ = conn.Close() // gone, five envelopes read and not acked
					return
				}
				if conn.WriteJSON(map[string]string{"envelope_id": req.EnvelopeID}) != nil {
					return
				}
			}
		}()
	}
	const burst = 150
	for i := range burst {
		fake.PostMessage(alice, ch, "message "+strings.Repeat("x", i%7))
	}
	// Slack retries events not acked, so every event is acked in the end,
	// by the connections left.
	everyEventAcked := func() bool {
		acked, all := map[string]bool{}, map[string]bool{}
		for _, e := range fake.Envelopes() {
			all[e.EventID] = true
			if e.Acked {
				acked[e.EventID] = true
			}
		}
		return len(all) == burst && len(acked) == burst
	}
	if err := fake.WaitFor(tctx(t), everyEventAcked); err != nil {
		t.Fatalf("not every event acked: %v", err)
	}
	conns[0].Close()
	conns[1].Close()
	var counts []int
	for _, c := range got {
		counts = append(counts, <-c)
	}
	// 150 envelopes over three connections, a third each on average (the
	// third's share, but 5, redelivered to the other two): 25 or fewer on
	// a connection is beyond five standard deviations of a fair pick.
	if counts[0] <= 25 || counts[1] <= 25 || counts[2] != 5 {
		t.Fatalf("envelopes per connection %v: not spread", counts)
	}
}
