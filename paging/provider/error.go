package provider

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is a failed delivery to a paging provider. Its text never contains
// a routing key, an API key or a webhook URL's path or query. Whether to
// try again is not the error's to say: Notify returns that as a Decision.
type Error struct {
	Provider string        // the scheme: "pagerduty", "opsgenie", "webhook", "jsm"; "" for an unknown target
	Status   int           // HTTP status of the answer, 0 for transport errors and bad targets
	Wait     time.Duration // what the answer's Retry-After asked for, 0 if nothing
	Detail   string        // short explanation from the answer's body or the transport error

	err error // the transport error, for errors.Is(err, context.Canceled)
}

// Error describes the failure, e.g. "pagerduty answered 429 Too Many Requests: …".
func (e *Error) Error() string {
	msg := cmp.Or(e.Provider, "paging provider")
	if e.Status != 0 {
		msg = strings.TrimSpace(fmt.Sprintf("%s answered %d %s", msg, e.Status, http.StatusText(e.Status)))
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the transport error, e.g. context.Canceled, or nil.
func (e *Error) Unwrap() error { return e.err }
