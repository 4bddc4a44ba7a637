package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/handlers/comms"
	"github.com/incidentbot/incidentbot/handlers/incidents"
	"github.com/incidentbot/incidentbot/handlers/paging"
	"github.com/incidentbot/incidentbot/handlers/timeline"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// The seed corpus (testdata/fuzz/FuzzEnvelopeDecoding) holds envelopes the
// fake Slack sent to the real bot in a session: slash commands, messages,
// TL: notes, pins, edits, deletions, mentions, button clicks and form
// submissions. They refer to these ids.
const (
	fuzzIncidentChannel = "C000000009" // INC-1's channel in the seeds
	fuzzBotUser         = "U0BOT"
	fuzzTeam            = "T0FAKE"
)

// decodeLikeSocketmode turns a WebSocket text frame into the event
// socketmode's Client puts on its Events channel. It mirrors the unexported
// (*socketmode.Client).parseEvent of slack-go v0.35.0 line for line: the
// bot never sees a frame any other way.
func decodeLikeSocketmode(frame []byte) (socketmode.Event, bool) {
	bad := func(err error) (socketmode.Event, bool) {
		return socketmode.Event{Type: socketmode.EventTypeErrorBadMessage,
			Data: &socketmode.ErrorBadMessage{Cause: err, Message: json.RawMessage(frame)}}, true
	}
	req := &socketmode.Request{}
	if err := json.Unmarshal(frame, req); err != nil {
		return bad(fmt.Errorf("unmarshalling WebSocket message: %w", err))
	}
	switch req.Type {
	case socketmode.RequestTypeHello:
		return socketmode.Event{Type: socketmode.EventTypeHello, Request: req}, true
	case socketmode.RequestTypeEventsAPI:
		ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			return bad(fmt.Errorf("parsing Events API event: %w", err))
		}
		return socketmode.Event{Type: socketmode.EventTypeEventsAPI, Data: ev, Request: req}, true
	case socketmode.RequestTypeDisconnect:
		// socketmode reconnects on it and never hands it to the bot.
		return socketmode.Event{}, false
	case socketmode.RequestTypeSlashCommands:
		var cmd slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &cmd); err != nil {
			return bad(fmt.Errorf("parsing slash command: %w", err))
		}
		return socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: cmd, Request: req}, true
	case socketmode.RequestTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			return bad(fmt.Errorf("parsing interaction callback: %w", err))
		}
		return socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb, Request: req}, true
	}
	return bad(fmt.Errorf("processing WebSocket message: encountered unsupported type %q", req.Type))
}

// countingMetrics counts acks and withheld envelopes.
type countingMetrics struct {
	mu       sync.Mutex
	acked    int
	withheld int
}

func (m *countingMetrics) EnvelopeReceived(string) {}
func (m *countingMetrics) EnvelopeAcked(string, time.Duration) {
	m.mu.Lock()
	m.acked++
	m.mu.Unlock()
}
func (m *countingMetrics) EnvelopeWithheld(string) {
	m.mu.Lock()
	m.withheld++
	m.mu.Unlock()
}
func (m *countingMetrics) Commit(time.Duration, error) {}
func (m *countingMetrics) JobDone(string, string)      {}
func (m *countingMetrics) Connected(bool)              {}

func (m *countingMetrics) counts() (acked, withheld int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acked, m.withheld
}

// watchedHandler is the real handler, watched: the bot turns a handler
// panic into a dead letter (so one bad envelope cannot stop it), which would
// hide it from the fuzzer; this records it.
type watchedHandler struct {
	h        bot.Handler
	calls    int
	panicked string
	ackErr   error
}

func (w *watchedHandler) Ignores(env *bot.Envelope) bool { return w.h.Ignores(env) }

func (w *watchedHandler) Handle(tx *store.Tx, env *bot.Envelope) (ack any, err error) {
	w.calls++
	defer func() {
		if r := recover(); r != nil {
			w.panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
			panic(r)
		}
	}()
	ack, err = w.h.Handle(tx, env)
	if ack != nil {
		if _, merr := json.Marshal(ack); merr != nil {
			w.ackErr = merr // socketmode could not send this ack
		}
	}
	return ack, err
}

// fuzzEnv is the bot's receiving side on a temporary database that has an
// open incident in the seeds' incident channel.
type fuzzEnv struct {
	db       *store.DB
	handlers *handlers.Handlers
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	db, err := store.Open(filepath.Join(f.TempDir(), "fuzz.db"), store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := db.Update(func(tx *store.Tx) error {
		id, err := tx.NextIncidentID()
		if err != nil {
			return err
		}
		d := incident.Declaration{Title: "Fuzzed incident", By: incident.User{ID: "U000000001"}, At: now}
		if err := d.Validate(); err != nil {
			return err
		}
		inc := incident.New(id, d)
		inc.ChannelID, inc.ChannelName = fuzzIncidentChannel, "inc-1-fuzzed-incident"
		return tx.PutIncident(inc)
	}); err != nil {
		f.Fatal(err)
	}
	templates, err := incident.LoadTemplates("")
	if err != nil {
		f.Fatal(err)
	}
	// Handle must not call Slack; this client would fail if it did.
	api := slack.New("xoxb-fuzz", slack.OptionAPIURL("http://127.0.0.1:1/api/"))
	respond := func(context.Context, string, *slack.WebhookMessage) error {
		return errors.New("handle must not respond directly")
	}
	h, err := handlers.New(handlers.Config{
		AnnounceChannel: "C0ANNOUNCE", TimelineEmojis: []string{"pushpin"}, ConfirmEmoji: "white_check_mark",
		BotUserID: fuzzBotUser, TeamID: fuzzTeam, TimelinePrefix: "TL:",
	}, handlers.Deps{DB: db, API: api, Respond: respond, Templates: templates, Now: time.Now, Log: zerolog.New(io.Discard)},
		incidents.New(), timeline.New(), comms.New(comms.Config{FollowUpEmoji: "memo", UpdateEvery: 30 * time.Minute}), paging.New(paging.Config{}))
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{db: db, handlers: h}
}

// receive runs one frame through a fresh bot (a fresh socketmode client, so
// its queue of acks never fills) and reports what happened.
func (e *fuzzEnv) receive(t *testing.T, frame []byte) (env *bot.Envelope, key string, w *watchedHandler, acked, withheld int) {
	ev, ok := decodeLikeSocketmode(frame)
	w = &watchedHandler{h: e.handlers}
	if !ok {
		return nil, "", w, 0, 0
	}
	m := &countingMetrics{}
	socket := socketmode.New(slack.New("xoxb-fuzz", slack.OptionAppLevelToken("xapp-fuzz")))
	b := bot.New(bot.Config{}, socket, e.db, w, e.handlers, nil, zerolog.New(io.Discard))
	b.SetMetrics(m)
	env, key = b.ReceiveOneForTest(context.Background(), ev)
	if w.panicked != "" {
		t.Fatalf("the handler panicked on %q:\n%s", frame, w.panicked)
	}
	if w.ackErr != nil {
		t.Fatalf("the handler answered %q with an ack that cannot be encoded: %v", frame, w.ackErr)
	}
	acked, withheld = m.counts()
	return env, key, w, acked, withheld
}

// FuzzEnvelopeDecoding feeds arbitrary bytes as a Socket Mode frame
// through the path a frame takes in the bot: socketmode's decoding, the
// bot's observe (which acks what socketmode cannot decode), dedupe key,
// the handlers' Handle on a real (temporary) store, the commit and the
// ack. Nothing may panic; every envelope with an id is acked exactly once
// (the database is healthy, so nothing is withheld); and a redelivery of
// an applied envelope (a new envelope_id, the same payload) is recognised
// and not applied again.
func FuzzEnvelopeDecoding(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"type":"hello"}`,
		`{"type":"disconnect","reason":"link_disabled"}`,
		`{"envelope_id":"e1","type":"events_api","payload":null}`,
		`{"envelope_id":"e2","type":"events_api","payload":{"type":"event_callback","event":{"type":"reaction_added"}}}`,
		`{"envelope_id":"e3","type":"slash_commands","payload":{"text":42}}`,
		`{"envelope_id":"e4","type":"interactive","payload":{"type":"block_actions","actions":[{}]}}`,
		`{"envelope_id":"e5","type":"interactive","payload":{"type":"view_submission","view":{"callback_id":"declare"}}}`,
		`{"envelope_id":"e5b","type":"interactive","payload":{"type":"view_submission","trigger_id":"t5b","view":{"callback_id":"update_edit","private_metadata":"1:1"}}}`,
		`{"envelope_id":"e6","type":"workflow_step_execute","payload":{}}`,
		`{"envelope_id":7,"type":"events_api"}`,
		`{"envelope_id":"e8","type":"events_api","retry_attempt":"one"}`,
		`{"envelope_id":"e9","type":"slash_commands","payload":{"command":"/incident","text":"declare sev1 <!here> ` + strings.Repeat("x", 300) + `","user_id":"U000000001","channel_id":"C000000009","trigger_id":"t9"}}`,
		`{"envelope_id":"e10","type":"events_api","payload":{"type":"event_callback","event_id":"Ev10","event":{"type":"message","channel":"C000000009","user":"U000000001","text":"TL:","ts":"1.2"}}}`,
		`{"envelope_id":"e11","type":"events_api","payload":{"type":"event_callback","event_id":"Ev11","event":{"type":"reaction_added","user":"U000000001","reaction":"pushpin","item":{"type":"message","channel":"C000000009","ts":"bogus"}}}}`,
		`{"envelope_id":"e12","type":"events_api","payload":{"type":"event_callback","event_id":"Ev12","event":{"type":"app_mention","channel":"C000000009","user":"U000000001","text":"<@U0BOT> note --at 25:99 x","ts":"9999999999.999999"}}}`,
	} {
		f.Add([]byte(s))
	}
	fe := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		env, key, w, acked, withheld := fe.receive(t, frame)
		if withheld != 0 {
			t.Fatalf("%d envelopes withheld with a healthy database: %q", withheld, frame)
		}
		var head struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		hasID := json.Unmarshal(frame, &head) == nil && head.EnvelopeID != ""
		// (Slack never sends a work envelope without an id; one without is
		// not held to the rule.)
		if hasID && head.Type != socketmode.RequestTypeHello && head.Type != socketmode.RequestTypeDisconnect && acked != 1 {
			t.Fatalf("envelope %q acked %d times, want once: %q", head.EnvelopeID, acked, frame)
		}
		if env == nil {
			return
		}
		if key == "" {
			t.Fatalf("empty dedupe key for %q", frame)
		}
		if strings.HasPrefix(key, "env:") || w.calls == 0 {
			return // nothing in the payload identifies a redelivery, or nothing was applied
		}
		// Slack's redelivery: a new envelope id, the same payload.
		again, err := json.Marshal(map[string]any{
			"envelope_id": "redelivered-" + env.ID, "type": env.Type, "payload": env.Payload,
			"retry_attempt": env.RetryAttempt + 1, "retry_reason": "timeout",
		})
		if err != nil {
			t.Fatalf("re-encode %q: %v", frame, err)
		}
		env2, key2, w2, acked2, _ := fe.receive(t, again)
		if env2 == nil || acked2 != 1 {
			t.Fatalf("redelivery of %q: envelope %v, acked %d times", frame, env2 != nil, acked2)
		}
		if key2 != key {
			t.Fatalf("redelivery changed the dedupe key from %q to %q", key, key2)
		}
		if w2.calls != 0 {
			t.Fatalf("redelivery of %q was applied again", frame)
		}
	})
}
