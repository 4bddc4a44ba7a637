// Package jsm pages through Jira Service Management Operations, the
// successor of Opsgenie, with its integration events API: a target
// "jsm:<ENV_VAR>" names the environment variable that holds the API key of
// a JSM Operations "API" integration (an integration key sent as
// "Authorization: GenieKey <key>", not an Atlassian API token).
//
// The API is Opsgenie's alert API under
// https://api.atlassian.com/jsm/ops/integration/v2/alerts: create with
// POST …/alerts, acknowledge and close with
// POST …/alerts/{alias}/acknowledge|close?identifierType=alias; all answer
// 202, the action being processed afterwards.
package jsm

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/internal/genie"
)

// Scheme is the target prefix, without its colon.
const Scheme = "jsm"

// DefaultURL is Atlassian's API gateway: one address for every site and
// region (the integration key says which site it belongs to).
const DefaultURL = "https://api.atlassian.com"

// alertsPath is the integration events API's alerts resource.
const alertsPath = "/jsm/ops/integration/v2/alerts"

// Options configure a Notifier.
type Options struct {
	HTTP   *http.Client        // nil: a client with a 10 s timeout that follows no redirects
	URL    string              // API base, default DefaultURL
	Getenv func(string) string // reads the API key from the env var a target names; nil: os.Getenv
}

// Notifier is the Jira Service Management provider.
type Notifier struct{ api genie.API }

var _ provider.Provider = (*Notifier)(nil)

// New returns the Jira Service Management provider.
func New(o Options) *Notifier {
	return &Notifier{api: genie.API{
		Scheme:      Scheme,
		Alerts:      strings.TrimRight(cmp.Or(o.URL, DefaultURL), "/") + alertsPath,
		Example:     "JSM_API_KEY",
		Integration: "a Jira Service Management API integration",
		HTTP:        o.HTTP,
		Getenv:      o.Getenv,
	}}
}

// Scheme returns "jsm".
func (n *Notifier) Scheme() string { return Scheme }

// Check reports whether envVar is an environment variable name and set,
// e.g. "not an environment variable name: write jsm:<ENV_VAR>, …".
func (n *Notifier) Check(envVar string) error { return n.api.Check(envVar) }

// Redact shows an env var name as it is, anything else (perhaps the key
// pasted in) cut to three characters.
func (n *Notifier) Redact(envVar string) string { return n.api.Redact(envVar) }

// Notify creates (trigger), acknowledges or closes (resolve) the alert
// whose alias is ev.DedupKey. The message is clipped to JSM's 130
// characters rather than have the alert refused.
func (n *Notifier) Notify(ctx context.Context, envVar string, ev provider.Event) (provider.Decision, error) {
	return n.api.Notify(ctx, envVar, ev)
}
