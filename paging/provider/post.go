package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// bodyLimit caps how much of a provider's answer is read: only an error's
// explanation is wanted, and Detail keeps 200 characters of it.
const bodyLimit = 4 << 10

// detailLimit caps Detail, which ends up in a Slack message.
const detailLimit = 200

// defaultClient is used when Post gets a nil client. It does not follow
// redirects: a POST turned into a GET would look like a delivered page.
var defaultClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Post sends body as JSON to u (one attempt) and says what came of it: a
// nil error for a 2xx answer; else an *Error named after scheme, whose
// Detail has every one of secrets (longer than one character) replaced by
// "[redacted]", and the Decision for the next attempt. A nil client is one
// with a 10 s timeout that follows no redirects.
func Post(ctx context.Context, client *http.Client, scheme, u string, header http.Header, body any, secrets ...string) (Decision, error) {
	fail := func(d Decision, e *Error) (Decision, error) {
		e.Provider = scheme
		for _, s := range secrets {
			if len(s) > 1 {
				e.Detail = strings.ReplaceAll(e.Detail, s, "[redacted]")
			}
		}
		e.Detail = Clip(e.Detail, detailLimit)
		return d, e
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fail(Decision{}, &Error{Detail: "encoding the event: " + err.Error()})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		// The message would quote the URL.
		return fail(Decision{}, &Error{Detail: "the target URL is not valid"})
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // ue.Error() quotes the URL
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = ctx.Err()
		}
		// Network trouble may pass. A cancelled attempt stays retryable too:
		// the bot is shutting down and the job must be kept for next time.
		return fail(Decision{Retry: true}, &Error{Detail: err.Error(), err: err})
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return Decision{}, nil
	}
	wait := retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return fail(decide(resp.StatusCode, wait), &Error{Status: resp.StatusCode, Wait: wait, Detail: detail(answer)})
}

// decide is the retry rule for an HTTP answer that is not a 2xx: rate
// limits, 408 and 5xx may pass; any other status (4xx, an unfollowed 3xx)
// says the request or the target is wrong, which waiting cannot fix. A
// Retry-After is kept only for an answer worth retrying.
func decide(status int, wait time.Duration) Decision {
	if status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500 {
		return Decision{Retry: true, After: wait}
	}
	return Decision{}
}

// detail picks the explanation out of an error answer: the JSON "message"
// and "errors" that PagerDuty and Opsgenie send (and the "errorMessages"
// of Atlassian's gateway), else the text with its white space collapsed.
func detail(body []byte) string {
	var parsed struct {
		Message       string          `json:"message"`
		ErrorMessages json.RawMessage `json:"errorMessages"`
		Errors        json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		return strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	}
	var messages []string // decoded on their own: a surprise here must not lose "message"
	json.Unmarshal(parsed.ErrorMessages, &messages)
	parts := append([]string{parsed.Message}, messages...)
	var errs any // PagerDuty: a list of strings; Opsgenie: field → message
	json.Unmarshal(parsed.Errors, &errs)
	switch errs := errs.(type) {
	case []any:
		for _, e := range errs {
			parts = append(parts, fmt.Sprint(e))
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(errs)) {
			parts = append(parts, fmt.Sprintf("%s: %v", k, errs[k]))
		}
	case string:
		parts = append(parts, errs)
	}
	parts = slices.DeleteFunc(parts, func(s string) bool { return strings.TrimSpace(s) == "" })
	return strings.Join(strings.Fields(strings.Join(parts, "; ")), " ")
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent, unreadable or in the past.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if n, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
