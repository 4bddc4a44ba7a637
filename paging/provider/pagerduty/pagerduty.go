// Package pagerduty pages through the PagerDuty Events API v2: a target
// "pagerduty:<routing key>" holds the Integration Key of an Events API v2
// integration. Trigger, acknowledge and resolve share the incident's dedup
// key, so PagerDuty folds them into one PagerDuty incident.
package pagerduty

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode"

	"github.com/incidentbot/incidentbot/paging/provider"
)

// Scheme is the target prefix, without its colon.
const Scheme = "pagerduty"

// DefaultURL is the Events API's base (EU accounts may use
// https://events.eu.pagerduty.com).
const DefaultURL = "https://events.pagerduty.com"

// summaryLimit is the Events API's limit on payload.summary.
const summaryLimit = 1024

// severities are PagerDuty's names for sev1..sev4.
var severities = [...]string{"critical", "error", "warning", "info"}

// Options configure a Notifier.
type Options struct {
	HTTP *http.Client // nil: a client with a 10 s timeout that follows no redirects
	URL  string       // Events API base, default DefaultURL
}

// Notifier is the PagerDuty provider.
type Notifier struct {
	http    *http.Client
	enqueue string // the Events API's endpoint
}

var _ provider.Provider = (*Notifier)(nil)

// New returns the PagerDuty provider.
func New(o Options) *Notifier {
	return &Notifier{http: o.HTTP, enqueue: strings.TrimRight(cmp.Or(o.URL, DefaultURL), "/") + "/v2/enqueue"}
}

// Scheme returns "pagerduty".
func (n *Notifier) Scheme() string { return Scheme }

// Check reports whether key can be a routing key: present, without spaces.
func (n *Notifier) Check(key string) error {
	if key == "" || strings.ContainsFunc(key, unicode.IsSpace) {
		return errors.New("the routing key is missing or has spaces: write pagerduty:<routing key>, the Integration Key of a PagerDuty Events API v2 integration")
	}
	return nil
}

// Redact cuts the routing key to its first three characters ("R0U…").
func (n *Notifier) Redact(key string) string { return provider.Abbreviate(key) }

// Notify sends ev as an Events API v2 event to the service of key.
func (n *Notifier) Notify(ctx context.Context, key string, ev provider.Event) (provider.Decision, error) {
	if key == "" {
		return provider.Decision{}, &provider.Error{Provider: Scheme, Detail: "the target has no routing key"}
	}
	body := map[string]any{"routing_key": key, "event_action": ev.Action, "dedup_key": ev.DedupKey, "client": "incidentbot"}
	if ev.ChannelURL != "" {
		body["links"] = []map[string]string{{"href": ev.ChannelURL, "text": "Slack channel"}}
	}
	if ev.Action == provider.ActionTrigger {
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
			"summary": provider.Clip(ev.Summary(), summaryLimit), "source": "incidentbot",
			"severity": severities[ev.Rank()], "timestamp": ev.Timestamp(), "custom_details": details,
		}
	}
	return provider.Post(ctx, n.http, Scheme, n.enqueue, nil, body, key)
}
