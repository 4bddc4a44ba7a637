package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// providerBodyLimit caps how much of a provider's answer is read.
const providerBodyLimit = 4 << 10

// providerClient is used when Providers.HTTP is nil. It does not follow
// redirects: a POST turned into a GET would look like a delivered page.
var providerClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Providers sends pages to PagerDuty, Opsgenie and generic webhooks.
type Providers struct {
	HTTP         *http.Client        // nil: a client with a 10 s timeout that follows no redirects
	PagerDutyURL string              // Events API base, default "https://events.pagerduty.com"
	OpsgenieURL  string              // Alert API base, default "https://api.opsgenie.com"
	Getenv       func(string) string // reads the Opsgenie API key from the env var a target names; nil: os.Getenv
}

// ProviderEvent is one notification about an incident to a provider.
type ProviderEvent struct {
	Action     string // "trigger", "acknowledge" or "resolve"
	DedupKey   string // the same for every event of one incident, e.g. "incidentbot-INC-3"
	Ref        string // "INC-3"
	Title      string
	Severity   string // "sev1".."sev4"
	Status     string // "investigating" …
	ChannelURL string // link to the Slack channel, may be ""
	Message    string // why they are paged, may be ""
	PagedBy    string // display name, may be ""
	Policy     string // policy name, may be ""
	Level      int    // 1-based, 0 if none
	At         time.Time
}

// ProviderError is a failed delivery to a paging provider. Its text never
// contains a routing key, an API key or a webhook URL's path or query.
type ProviderError struct {
	Provider string        // "pagerduty", "opsgenie", "webhook", or "" for an unknown target
	Status   int           // HTTP status of the answer, 0 for transport errors
	Wait     time.Duration // what the answer's Retry-After asked for, 0 if nothing
	Detail   string        // short explanation from the answer's body or the transport error

	retryable bool
	err       error
}

// Error describes the failure, e.g. "pagerduty answered 429 Too Many Requests: …".
func (e *ProviderError) Error() string {
	msg := cmp.Or(e.Provider, "paging provider")
	if e.Status != 0 {
		msg = strings.TrimSpace(fmt.Sprintf("%s answered %d %s", msg, e.Status, http.StatusText(e.Status)))
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Retryable reports whether trying again later can succeed: rate limits,
// 408, 5xx and network trouble can; other 4xx and bad configuration cannot.
func (e *ProviderError) Retryable() bool { return e.retryable }

// RetryAfter is the delay the provider asked for (Wait), 0 if none.
func (e *ProviderError) RetryAfter() time.Duration { return e.Wait }

// Unwrap returns the transport error, e.g. context.Canceled.
func (e *ProviderError) Unwrap() error { return e.err }

// Send delivers ev to target, which is "pagerduty:<routing key>",
// "opsgenie:<ENV_VAR_NAME>" or "webhook:<url>". It makes one attempt.
func (p *Providers) Send(ctx context.Context, target string, ev ProviderEvent) error {
	kind, rest, found := strings.Cut(target, ":")
	send := map[string]func(context.Context, string, ProviderEvent) error{
		"pagerduty": p.pagerDuty, "opsgenie": p.opsgenie, "webhook": p.webhook,
	}[kind]
	switch {
	case !found: // never quote it: it may be a bare routing key
		return &ProviderError{Detail: "the target has no kind (want pagerduty:, opsgenie: or webhook:)"}
	case send == nil:
		return &ProviderError{Detail: fmt.Sprintf("unknown target kind %q (want pagerduty:, opsgenie: or webhook:)", clip(kind, 40))}
	case ev.Action != "trigger" && ev.Action != "acknowledge" && ev.Action != "resolve":
		return &ProviderError{Provider: kind, Detail: fmt.Sprintf("unknown action %q", clip(ev.Action, 40))}
	case ev.DedupKey == "": // without one, a retried trigger would page twice
		return &ProviderError{Provider: kind, Detail: "the event has no dedup key"}
	}
	return send(ctx, rest, ev)
}

// pagerDuty sends ev to the PagerDuty Events API v2.
func (p *Providers) pagerDuty(ctx context.Context, key string, ev ProviderEvent) error {
	if key == "" {
		return &ProviderError{Provider: "pagerduty", Detail: "the target has no routing key"}
	}
	body := map[string]any{"routing_key": key, "event_action": ev.Action, "dedup_key": ev.DedupKey, "client": "incidentbot"}
	if ev.ChannelURL != "" {
		body["links"] = []map[string]string{{"href": ev.ChannelURL, "text": "Slack channel"}}
	}
	if ev.Action == "trigger" {
		details := map[string]any{"incident": ev.Ref, "status": ev.Status}
		for k, v := range map[string]string{"message": ev.Message, "paged_by": ev.PagedBy, "policy": ev.Policy} {
			if v != "" {
				details[k] = v
			}
		}
		if ev.Level > 0 {
			details["level"] = ev.Level
		}
		body["payload"] = map[string]any{
			"summary": clip(providerSummary(ev), 1024), "source": "incidentbot",
			"severity":  [...]string{"critical", "error", "warning", "info"}[providerSev(ev.Severity)],
			"timestamp": providerTime(ev), "custom_details": details,
		}
	}
	u := strings.TrimRight(cmp.Or(p.PagerDutyURL, "https://events.pagerduty.com"), "/") + "/v2/enqueue"
	return p.post(ctx, "pagerduty", u, nil, body, key)
}

// opsgenie creates, acknowledges or closes an Opsgenie alert by alias.
func (p *Providers) opsgenie(ctx context.Context, envVar string, ev ProviderEvent) error {
	if envVar == "" {
		return &ProviderError{Provider: "opsgenie", Detail: "the target names no env var for the API key"}
	}
	getenv := p.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	key := strings.TrimSpace(getenv(envVar))
	if key == "" {
		return &ProviderError{Provider: "opsgenie", Detail: "env var " + clip(envVar, 80) + " holding the API key is not set"}
	}
	base := strings.TrimRight(cmp.Or(p.OpsgenieURL, "https://api.opsgenie.com"), "/") + "/v2/alerts"
	alias := url.PathEscape(ev.DedupKey)
	u, note := base, map[string]string{"source": "incidentbot"}
	var body any = note
	switch ev.Action {
	case "trigger":
		desc := ev.Message
		if ev.ChannelURL != "" {
			desc = strings.TrimSpace(desc + "\n\nSlack channel: " + ev.ChannelURL)
		}
		details := map[string]string{"incident": ev.Ref, "channel": ev.ChannelURL, "paged_by": ev.PagedBy, "policy": ev.Policy}
		if ev.Level > 0 {
			details["level"] = strconv.Itoa(ev.Level)
		}
		maps.DeleteFunc(details, func(_, v string) bool { return v == "" })
		sev := providerSev(ev.Severity) + 1
		body = map[string]any{
			"message": clip(providerSummary(ev), 130), "alias": ev.DedupKey, "description": clip(desc, 15000),
			"priority": fmt.Sprintf("P%d", sev), "source": "incidentbot",
			"tags": []string{"incidentbot", fmt.Sprintf("sev%d", sev)}, "details": details,
		}
	case "acknowledge":
		u = base + "/" + alias + "/acknowledge?identifierType=alias"
		note["note"] = cmp.Or(ev.Message, "Acknowledged in incidentbot")
	case "resolve":
		u = base + "/" + alias + "/close?identifierType=alias"
		if ev.Message != "" {
			note["note"] = ev.Message
		}
	}
	return p.post(ctx, "opsgenie", u, http.Header{"Authorization": {"GenieKey " + key}}, body, key)
}

// webhook posts ev as incidentbot's own JSON to a URL.
func (p *Providers) webhook(ctx context.Context, raw string, ev ProviderEvent) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ProviderError{Provider: "webhook", Detail: "the target is not an http(s) URL"}
	}
	secrets := []string{raw, u.RawQuery, u.EscapedPath(), u.Path}
	if u.User != nil {
		secrets = append(secrets, u.User.String())
	}
	event := ev.Action
	if event == "trigger" {
		event = "page"
	}
	body := map[string]any{
		"event": event,
		"incident": map[string]string{
			"ref": ev.Ref, "title": ev.Title, "severity": ev.Severity, "status": ev.Status, "channel_url": ev.ChannelURL,
		},
		"message": ev.Message, "paged_by": ev.PagedBy, "policy": ev.Policy, "level": ev.Level,
		"dedup_key": ev.DedupKey, "at": providerTime(ev),
	}
	return p.post(ctx, "webhook", raw, http.Header{"User-Agent": {"incidentbot"}}, body, secrets...)
}

// post sends body as JSON and turns anything but a 2xx answer into a
// *ProviderError whose text has every one of secrets removed.
func (p *Providers) post(ctx context.Context, provider, u string, header http.Header, body any, secrets ...string) error {
	fail := func(e *ProviderError) error {
		e.Provider = provider
		for _, s := range secrets {
			if len(s) > 1 {
				e.Detail = strings.ReplaceAll(e.Detail, s, "[redacted]")
			}
		}
		e.Detail = clip(e.Detail, 200)
		return e
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fail(&ProviderError{Detail: "encoding the event: " + err.Error()})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		// The message would quote the URL.
		return fail(&ProviderError{Detail: "the target URL is not valid"})
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	client := p.HTTP
	if client == nil {
		client = providerClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // ue.Error() quotes the URL
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = ctx.Err()
		}
		return fail(&ProviderError{Detail: err.Error(), retryable: true, err: err})
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, providerBodyLimit))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	s := resp.StatusCode
	return fail(&ProviderError{
		Status:    s,
		Wait:      providerRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Detail:    providerDetail(answer),
		retryable: s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500,
	})
}

// providerDetail picks the explanation out of an error answer: the JSON
// "message" and "errors" that PagerDuty and Opsgenie send, else the text.
func providerDetail(body []byte) string {
	var parsed struct {
		Message string          `json:"message"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		return strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	}
	parts := []string{parsed.Message}
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

// providerRetryAfter reads a Retry-After header: seconds or an HTTP date.
func providerRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if n, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// providerSev maps "sev1".."sev4" to 0..3; anything else counts as sev3.
func providerSev(sev string) int {
	if i, ok := map[string]int{"sev1": 0, "sev2": 1, "sev4": 3}[strings.ToLower(strings.TrimSpace(sev))]; ok {
		return i
	}
	return 2
}

// providerSummary is the one-line title of a page: "[INC-3] <title>".
func providerSummary(ev ProviderEvent) string {
	return strings.TrimSpace("[" + ev.Ref + "] " + ev.Title)
}

// providerTime is the event's time in RFC 3339, now if unset.
func providerTime(ev ProviderEvent) string {
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	return at.UTC().Format(time.RFC3339)
}
