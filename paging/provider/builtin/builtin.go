// Package builtin assembles the paging providers incidentbot ships with
// into one provider.Set, in the order their names appear in messages.
package builtin

import (
	"net/http"

	"github.com/incidentbot/incidentbot/paging/provider"
	"github.com/incidentbot/incidentbot/paging/provider/jsm"
	"github.com/incidentbot/incidentbot/paging/provider/opsgenie"
	"github.com/incidentbot/incidentbot/paging/provider/pagerduty"
	"github.com/incidentbot/incidentbot/paging/provider/webhook"
)

// Options configure the built-in providers.
type Options struct {
	HTTP         *http.Client        // nil: a client with a 10 s timeout that follows no redirects
	PagerDutyURL string              // INCIDENTBOT_PAGERDUTY_URL; "": pagerduty.DefaultURL
	OpsgenieURL  string              // INCIDENTBOT_OPSGENIE_URL; "": opsgenie.DefaultURL
	JSMURL       string              // INCIDENTBOT_JSM_URL; "": jsm.DefaultURL
	Getenv       func(string) string // reads the API keys opsgenie: and jsm: targets name; nil: os.Getenv
}

// Set returns PagerDuty, Opsgenie, the generic webhook and Jira Service
// Management, in that order.
func Set(o Options) *provider.Set {
	return provider.NewSet(
		pagerduty.New(pagerduty.Options{HTTP: o.HTTP, URL: o.PagerDutyURL}),
		opsgenie.New(opsgenie.Options{HTTP: o.HTTP, URL: o.OpsgenieURL, Getenv: o.Getenv}),
		webhook.New(webhook.Options{HTTP: o.HTTP}),
		jsm.New(jsm.Options{HTTP: o.HTTP, URL: o.JSMURL, Getenv: o.Getenv}),
	)
}
