// Package webhook posts incidentbot's own JSON to a URL: a target
// "webhook:<http(s) URL>". The URL's path and query are taken to be its
// credential (as with Slack's or Teams' incoming webhooks), so neither is
// ever shown.
package webhook

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/incidentbot/incidentbot/paging/provider"
)

// Scheme is the target prefix, without its colon.
const Scheme = "webhook"

// Options configure a Notifier.
type Options struct {
	HTTP *http.Client // nil: a client with a 10 s timeout that follows no redirects
}

// Notifier is the webhook provider.
type Notifier struct{ http *http.Client }

var _ provider.Provider = (*Notifier)(nil)

// New returns the webhook provider.
func New(o Options) *Notifier { return &Notifier{http: o.HTTP} }

// Scheme returns "webhook".
func (n *Notifier) Scheme() string { return Scheme }

// parse returns raw as an http(s) URL with a host, or nil.
func parse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

// secretPart is the shortest path segment or query value taken to be a
// secret on its own: tokens are long, while "hooks" or "v1" are not secret
// and scrubbing them would leave an error unreadable.
const secretPart = 6

// urlSecrets are the parts of u that must not appear in an error: a
// server's error page may echo its URL whole or in parts, such as the last
// path segment (the token of a Slack or Discord webhook) or a query value.
// Wholes come first, so they are scrubbed before their parts.
func urlSecrets(u *url.URL, raw string) []string {
	secrets := []string{raw, u.RawQuery, u.EscapedPath(), u.Path}
	if u.User != nil {
		secrets = append(secrets, u.User.String())
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw)
		}
		if len(u.User.Username()) >= secretPart {
			secrets = append(secrets, u.User.Username())
		}
	}
	for _, part := range strings.Split(u.Path, "/") {
		if len(part) >= secretPart {
			secrets = append(secrets, part)
		}
	}
	q := u.Query()
	for _, k := range slices.Sorted(maps.Keys(q)) { // sorted: the same text every time
		for _, v := range q[k] {
			if len(v) >= secretPart {
				secrets = append(secrets, v)
			}
		}
	}
	return secrets
}

// Check reports whether raw is an http(s) URL with a host.
func (n *Notifier) Check(raw string) error {
	if parse(raw) == nil {
		return errors.New("not an http(s) URL: write e.g. webhook:https://hooks.example.com/page")
	}
	return nil
}

// Redact keeps the URL's scheme and host: "https://hooks.example.com/…".
func (n *Notifier) Redact(raw string) string { return provider.RedactURL(raw) }

// Notify posts ev to the URL raw. The event is "page", "acknowledge" or
// "resolve"; any 2xx answer counts as delivered.
func (n *Notifier) Notify(ctx context.Context, raw string, ev provider.Event) (provider.Decision, error) {
	u := parse(raw)
	if u == nil {
		return provider.Decision{}, &provider.Error{Provider: Scheme, Detail: "the target is not an http(s) URL"}
	}
	secrets := urlSecrets(u, raw)
	event := ev.Action
	if event == provider.ActionTrigger {
		event = "page"
	}
	body := map[string]any{
		"event": event,
		"incident": map[string]string{
			"ref": ev.Ref, "title": ev.Title, "severity": ev.Severity, "status": ev.Status, "channel_url": ev.ChannelURL,
		},
		"message": ev.Message, "paged_by": ev.PagedBy, "policy": ev.Policy, "level": ev.Level,
		"dedup_key": ev.DedupKey, "at": ev.Timestamp(),
	}
	return provider.Post(ctx, n.http, Scheme, raw, http.Header{"User-Agent": {"incidentbot"}}, body, secrets...)
}
