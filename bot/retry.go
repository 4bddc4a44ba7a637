package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// verdict is what the retry stage decides about a failed call.
type verdict struct {
	retry bool
	// after is the delay Slack asked for (Retry-After); zero means use backoff.
	after time.Duration
	// outcome labels the failure for metrics: "rate_limited", "retry", "failed".
	outcome string
}

// retryableAPIErrors are Slack API errors that describe Slack's trouble, not
// the request's: trying again later can succeed.
var retryableAPIErrors = map[string]bool{
	"ratelimited": true, "rate_limited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true, "timeout": true,
}

// classify decides whether a failed Slack call is worth retrying: rate
// limits (after the delay Slack gives), 5xx, and network trouble are;
// Slack's API errors (channel_not_found, invalid_auth …) are final.
func classify(err error) verdict {
	if _, ok := errors.AsType[finalError](err); ok {
		return verdict{outcome: "failed"}
	}
	if p, ok := errors.AsType[*PacedError](err); ok {
		return verdict{retry: true, after: p.Wait, outcome: "paced"}
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return verdict{retry: true, after: rl.RetryAfter, outcome: "rate_limited"}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		if sc.Code == http.StatusTooManyRequests {
			return verdict{retry: true, outcome: "rate_limited"}
		}
		if sc.Code >= 500 {
			return verdict{retry: true, outcome: "retry"}
		}
		return verdict{outcome: "failed"}
	}
	if api, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		if retryableAPIErrors[api.Err] {
			return verdict{retry: true, outcome: "retry"}
		}
		return verdict{outcome: "failed"}
	}
	if r, ok := errors.AsType[retryError](err); ok {
		// Other services' clients (paging providers) decided, and may say
		// how long to wait.
		if r.after > 0 {
			return verdict{retry: true, after: r.after, outcome: "rate_limited"}
		}
		return verdict{retry: true, outcome: "retry"}
	}
	if _, ok := errors.AsType[net.Error](err); ok || errors.Is(err, context.DeadlineExceeded) {
		return verdict{retry: true, outcome: "retry"}
	}
	if errors.Is(err, context.Canceled) {
		return verdict{retry: true, outcome: "retry"}
	}
	// An error we do not recognise is most likely transport trouble (a
	// connection reset, a truncated body): retrying is safer than dropping.
	return verdict{retry: true, outcome: "retry"}
}

// Final wraps an error so the retry stage gives up at once: for runners that
// know a failure cannot be fixed by waiting.
func Final(err error) error { return finalError{err} }

type finalError struct{ error }

func (f finalError) Unwrap() error { return f.error }

// Retry wraps an error that another service's client (a paging provider)
// decided is worth retrying, after the delay the service asked for (0: the
// bot's backoff).
func Retry(err error, after time.Duration) error { return retryError{err, after} }

type retryError struct {
	error
	after time.Duration
}

func (r retryError) Unwrap() error { return r.error }

// backoff returns the delay before attempt n (0-based): base doubled each
// time, capped, with ±20% jitter so lanes do not retry in lockstep.
func backoff(n int, base, max time.Duration, jitter func() float64) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (0.8 + 0.4*jitter()))
}

// fatalAuth returns an explanation when err means the bot token itself is
// no good, so the bot stops instead of failing every call.
func fatalAuth(err error) error {
	api, ok := errors.AsType[slack.SlackErrorResponse](err)
	if !ok {
		return nil
	}
	switch api.Err {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired":
		return fmt.Errorf("slack refused the bot token (%s): reinstall the app to the workspace and set SLACK_BOT_TOKEN to its Bot User OAuth Token (xoxb-…)", api.Err)
	}
	return nil
}

// giveUpMessage is the log message for a job that failed for good: what the
// job did (the runner's Describe) and, for Slack's errors, what an operator
// should do about it.
func giveUpMessage(what string, err error) string {
	if advice := adviceFor(err); advice != "" {
		return what + " failed for good: " + advice
	}
	return what + " failed for good; giving up on it"
}

// adviceFor says what an operator should do about a final Slack error, or
// "" for other errors.
func adviceFor(err error) string {
	api, ok := errors.AsType[slack.SlackErrorResponse](err)
	if !ok {
		return ""
	}
	switch api.Err {
	case "channel_not_found":
		return "slack says the channel does not exist or the bot cannot see it: check the channel id (e.g. INCIDENTBOT_ANNOUNCE_CHANNEL) and invite the bot to private channels"
	case "not_in_channel":
		return "the bot is not a member of the channel: invite it with /invite @incidentbot"
	case "is_archived":
		return "the channel is archived: unarchive it or configure another"
	case "missing_scope":
		return "the app lacks a scope (needed: " + api.Needed + "): add it in deploy/slack-app-manifest.yaml, update the app and reinstall"
	case "user_not_found", "users_not_found":
		return "slack does not know that user id: check the id (it looks like U0123ABCD)"
	case "expired_trigger_id":
		return "the modal could not open in time (Slack allows 3 s): ask the user to run the command again"
	}
	return "slack refused the call (" + api.Err + ")"
}
