// Package opsgenie pages through the Opsgenie Alert API: a target
// "opsgenie:<ENV_VAR>" names the environment variable that holds the API
// key of an Opsgenie API integration (the key itself never goes in the
// escalation file). Alerts are created, acknowledged and closed by alias,
// the incident's dedup key.
package opsgenie

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/internal/genie"
)

// Scheme is the target prefix, without its colon.
const Scheme = "opsgenie"

// DefaultURL is the Alert API's base (the US instance; EU accounts use
// https://api.eu.opsgenie.com).
const DefaultURL = "https://api.opsgenie.com"

// Options configure a Notifier.
type Options struct {
	HTTP   *http.Client        // nil: a client with a 10 s timeout that follows no redirects
	URL    string              // Alert API base, default DefaultURL
	Getenv func(string) string // reads the API key from the env var a target names; nil: os.Getenv
}

// Notifier is the Opsgenie provider.
type Notifier struct{ api genie.API }

var _ provider.Provider = (*Notifier)(nil)

// New returns the Opsgenie provider.
func New(o Options) *Notifier {
	return &Notifier{api: genie.API{
		Scheme:      Scheme,
		Alerts:      strings.TrimRight(cmp.Or(o.URL, DefaultURL), "/") + "/v2/alerts",
		Example:     "OPSGENIE_API_KEY",
		Integration: "an Opsgenie API integration",
		HTTP:        o.HTTP,
		Getenv:      o.Getenv,
	}}
}

// Scheme returns "opsgenie".
func (n *Notifier) Scheme() string { return Scheme }

// Check reports whether envVar is an environment variable name and set,
// e.g. "not an environment variable name: write opsgenie:<ENV_VAR>, …".
func (n *Notifier) Check(envVar string) error { return n.api.Check(envVar) }

// Redact shows an env var name as it is, anything else (perhaps the key
// pasted in) cut to three characters.
func (n *Notifier) Redact(envVar string) string { return n.api.Redact(envVar) }

// Notify creates (trigger), acknowledges or closes (resolve) the alert
// whose alias is ev.DedupKey. Opsgenie answers 202 to all three.
func (n *Notifier) Notify(ctx context.Context, envVar string, ev provider.Event) (provider.Decision, error) {
	return n.api.Notify(ctx, envVar, ev)
}
