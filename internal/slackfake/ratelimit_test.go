package slackfake

import (
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// TestRateLimitsRefuseCallsOverTheTier checks the fake refuses a limited
// method's calls over its limit in the (scaled) minute with a Retry-After,
// leaves other methods alone, and lets calls through again once the
// window has moved on.
func TestRateLimitsRefuseCallsOverTheTier(t *testing.T) {
	s := New(Options{RateLimits: map[string]int{"reactions.add": 2}, RateScale: 600})
	defer s.Close()
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	ch := s.AddChannel("ops", false, s.BotUserID())
	ts := s.PostMessage(s.BotUserID(), ch, "hello")
	ref := slack.NewRefToMessage(ch, ts)
	for i, name := range []string{"eyes", "tada"} {
		if err := api.AddReactionContext(tctx(t), name, ref); err != nil {
			t.Fatalf("call %d within the limit: %v", i+1, err)
		}
	}
	err := api.AddReactionContext(tctx(t), "rocket", ref)
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("call over the limit = %v, want a 429 with Retry-After", err)
	}
	if _, err := api.GetPermalinkContext(tctx(t), &slack.PermalinkParameters{Channel: ch, Ts: ts}); err != nil {
		t.Errorf("an unlimited method was refused: %v", err)
	}
	time.Sleep(110 * time.Millisecond) // the window is a minute / 600
	if err := api.AddReactionContext(tctx(t), "rocket", ref); err != nil {
		t.Errorf("after the window moved on: %v", err)
	}
}
