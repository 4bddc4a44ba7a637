package bot

import (
	"context"

	"github.com/slack-go/slack/socketmode"
)

// ReceiveOneForTest runs one socket event through the receive path, as
// receive does for a batch of one: observe (which acks envelopes socketmode
// could not decode), then record (dedupe, handle, commit, ack). It returns
// the envelope observe made of the event (nil when it carries no work) and
// its dedupe key. For envelope_fuzz_test.go.
func (b *Bot) ReceiveOneForTest(ctx context.Context, ev socketmode.Event) (env *Envelope, key string) {
	env = b.observe(ctx, ev)
	if env == nil {
		return nil, ""
	}
	key = dedupeKey(env)
	b.record(ctx, []*Envelope{env})
	return env, key
}
