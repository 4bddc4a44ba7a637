package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack/slackevents"
)

// corpusPayloads reads the events_api payloads of the envelope fuzz corpus
// (frames the fake Slack sent to the real bot: messages, edits, deletions,
// bot messages, mentions, joins, reactions added and removed).
func corpusPayloads(tb testing.TB) map[string]json.RawMessage {
	tb.Helper()
	files, err := filepath.Glob("testdata/fuzz/FuzzEnvelopeDecoding/events_api-*")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no events_api seeds: %v", err)
	}
	out := map[string]json.RawMessage{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		_, lit, _ := strings.Cut(strings.TrimSpace(string(raw)), "[]byte(")
		frame, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		var req struct {
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal([]byte(frame), &req); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = req.Payload
	}
	return out
}

// The leader's decoding of a forwarded event is slack-go's, field for
// field, for every kind of event the bot handles.
func TestParseEventsAPIIsParseEvent(t *testing.T) {
	payloads := corpusPayloads(t)
	// Shapes the corpus lacks: an inner event of a type slack-go does not
	// know, one that is not an object, a url_verification, no event.
	payloads["unknown inner"] = json.RawMessage(`{"type":"event_callback","event_id":"Ev1","event":{"type":"no_such_event"}}`)
	payloads["inner not an object"] = json.RawMessage(`{"type":"event_callback","event_id":"Ev1","event":"text"}`)
	payloads["url_verification"] = json.RawMessage(`{"type":"url_verification","token":"t","challenge":"c"}`)
	payloads["no event"] = json.RawMessage(`{"type":"event_callback","event_id":"Ev1"}`)
	payloads["bad field"] = json.RawMessage(`{"type":"event_callback","event_id":5,"event":{"type":"reaction_added"}}`)
	payloads["bad inner field"] = json.RawMessage(`{"type":"event_callback","event":{"type":"reaction_added","item":[]}}`)
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) { assertParsedAlike(t, p) })
	}
}

// FuzzParseEventsAPI mutates the corpus: wherever slack-go's ParseEvent
// accepts a payload (the only payloads a follower forwards), the leader's
// decoding gives the same event.
func FuzzParseEventsAPI(f *testing.F) {
	for _, p := range corpusPayloads(f) {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, payload []byte) { assertParsedAlike(t, payload) })
}

func assertParsedAlike(t *testing.T, payload []byte) {
	t.Helper()
	want, wantErr := slackevents.ParseEvent(payload, slackevents.OptionNoVerifyToken())
	got, err := parseEventsAPI(payload)
	if wantErr != nil {
		// A payload slack-go refuses never reaches the leader (socketmode
		// drops it on the follower); the decoding need only not panic.
		return
	}
	if err != nil {
		t.Fatalf("slack-go parses %s, the leader's decoding fails: %v", payload, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded differently:\n got %#v\nwant %#v", got, want)
	}
}

// BenchmarkParseEventsAPI decodes a forwarded reaction_added (the pin
// burst's envelope), next to slack-go's ParseEvent, its floor (the work it
// replaces), in the same run.
func BenchmarkParseEventsAPI(b *testing.B) {
	p := corpusPayloads(b)["events_api-reaction_added-1"]
	b.Run("leader", func(b *testing.B) {
		for b.Loop() {
			if _, err := parseEventsAPI(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slack-go", func(b *testing.B) {
		for b.Loop() {
			if _, err := slackevents.ParseEvent(p, slackevents.OptionNoVerifyToken()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
