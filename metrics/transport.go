package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Outcomes of a Slack Web API call, the values of the outcome label.
const (
	outcomeOK           = "ok"            // 2xx, and "ok":true or a body that is not a JSON object
	outcomeError        = "error"         // 2xx with "ok":false: Slack refused the call
	outcomeRateLimited  = "rate_limited"  // 429
	outcomeServerError  = "server_error"  // 5xx
	outcomeClientError  = "client_error"  // other 4xx
	outcomeNetworkError = "network_error" // no response, or its body could not be read
)

const (
	// maxPeek bounds how much of a response body is buffered to find its
	// "ok" field. Slack writes "ok" first, so a longer body (a long
	// conversations.history) is still classified from its start.
	maxPeek = 1 << 20
	// maxMethodLen and methodPattern keep the method label bounded: the
	// path comes from URLs the program builds, but a mistake there (an ID
	// pasted into a path) must not mint a series per call.
	maxMethodLen = 64
	// uploadMethod names the POST to the URL files.getUploadURLExternal
	// hands out, which is not under /api/ (files.slack.com/upload/v1/...).
	uploadMethod = "files.upload"
	otherMethod  = "other"
)

var methodPattern = regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+)+$`)

// Transport wraps next (nil means http.DefaultTransport) so that every call
// through it is counted in incidentbot_slack_api_calls_total by Web API
// method and outcome. Give it to the http.Client slack-go uses: Slack reports
// most failures as HTTP 200 with "ok":false, so only the response body tells
// a refused call from a good one, and slack-go does not expose that per call.
//
// The body is peeked, not consumed: the caller reads exactly the bytes (and
// the read error, if any) it would have read without the wrapper.
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, calls: m}
}

type transport struct {
	next  http.RoundTripper
	calls *Metrics
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := apiMethod(req)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.calls.slackCalls.WithLabelValues(method, outcomeNetworkError).Inc()
		return nil, err
	}
	t.calls.slackCalls.WithLabelValues(method, classify(resp)).Inc()
	return resp, nil
}

// apiMethod names the Web API method req calls, or "other" for anything
// else (response_url webhooks, file downloads).
func apiMethod(req *http.Request) string {
	if req.URL == nil {
		return otherMethod
	}
	path := req.URL.Path
	if i := strings.LastIndex(path, "/api/"); i >= 0 {
		name := path[i+len("/api/"):]
		if len(name) <= maxMethodLen && methodPattern.MatchString(name) {
			return name
		}
		return otherMethod
	}
	if strings.HasPrefix(path, "/upload/") {
		return uploadMethod
	}
	return otherMethod
}

// classify reads resp's outcome, peeking into 2xx bodies for "ok" and
// leaving resp.Body readable from its first byte.
func classify(resp *http.Response) string {
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
	case code == http.StatusTooManyRequests:
		return outcomeRateLimited
	case code >= 500:
		return outcomeServerError
	case code >= 400:
		return outcomeClientError
	default:
		// 1xx and 3xx: the exchange worked, and a redirect that
		// http.Client follows is counted again under its own URL.
		return outcomeOK
	}
	if resp.Body == nil {
		return outcomeOK
	}
	peek, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	rest := io.Reader(resp.Body)
	if err != nil {
		// The caller must see the same failure it would have seen, after
		// the same bytes.
		rest = errReader{err}
	}
	resp.Body = peekedBody{Reader: io.MultiReader(bytes.NewReader(peek), rest), Closer: resp.Body}
	if err != nil {
		return outcomeNetworkError
	}
	if ok, found := okField(peek); found && !ok {
		return outcomeError
	}
	return outcomeOK
}

// okField finds the top-level "ok" member of a JSON object. It walks the
// members in order and stops at "ok", so a body truncated by the peek limit
// after "ok" is still read. A body that is not a JSON object, or has no
// boolean "ok", is not found.
func okField(body []byte) (ok, found bool) {
	// Slack's own bodies start {"ok":true or {"ok":false: read those
	// without a decoder (its allocations were a sixth of a reactions.add
	// call's cost in the bot).
	for _, lit := range [...]struct {
		prefix string
		ok     bool
	}{{`{"ok":true`, true}, {`{"ok":false`, false}} {
		if rest, cut := bytes.CutPrefix(body, []byte(lit.prefix)); cut {
			if len(rest) == 0 || strings.IndexByte(",} \t\r\n", rest[0]) >= 0 {
				return lit.ok, true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false, false
		}
		if key == "ok" {
			var v bool
			if err := dec.Decode(&v); err != nil {
				return false, false
			}
			return v, true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false, false
		}
	}
	return false, false
}

// peekedBody replays the peeked bytes, then the rest of the original body,
// and closes the original.
type peekedBody struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
