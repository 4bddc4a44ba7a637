// Package genie is the Opsgenie alert API, which Jira Service Management's
// Operations integration API keeps unchanged (same GenieKey header, same
// bodies, same create/acknowledge/close by alias) at another address. The
// opsgenie and jsm packages are each one API value; only the scheme, the
// address and the words in their messages differ.
package genie

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/incidentbot/incidentbot/paging/provider"
)

// The API's field limits (Opsgenie's documented ones, which JSM shares):
// a longer message or description is rejected, so ours are clipped.
const (
	MessageLimit     = 130
	DescriptionLimit = 15000
)

// envNameRE is what an environment variable name looks like; a target
// that is not one is most likely the API key pasted in by mistake.
var envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// API is one Opsgenie-style alert API whose key is read from the
// environment variable a target names.
type API struct {
	Scheme      string              // "opsgenie"
	Alerts      string              // the alerts resource, e.g. "https://api.opsgenie.com/v2/alerts"
	Example     string              // an env var name for messages, e.g. "OPSGENIE_API_KEY"
	Integration string              // what the key belongs to, for messages: "an Opsgenie API integration"
	HTTP        *http.Client        // nil: provider.Post's default
	Getenv      func(string) string // nil: os.Getenv
}

func (a *API) getenv(name string) string {
	if a.Getenv == nil {
		return os.Getenv(name)
	}
	return a.Getenv(name)
}

// Check reports whether envVar names a set environment variable.
func (a *API) Check(envVar string) error {
	if !envNameRE.MatchString(envVar) {
		return fmt.Errorf("not an environment variable name: write %[1]s:<ENV_VAR>, the name of the variable holding the API key (e.g. %[1]s:%[2]s), not the key itself", a.Scheme, a.Example)
	}
	if a.getenv(envVar) == "" {
		return fmt.Errorf("the environment variable %s is not set: set it to the API key of %s", envVar, a.Integration)
	}
	return nil
}

// Redact shows an env var name as it is (it is no secret), and anything
// else, which may be the key itself, abbreviated.
func (a *API) Redact(envVar string) string {
	if envNameRE.MatchString(envVar) {
		return envVar
	}
	return provider.Abbreviate(envVar)
}

// Notify creates, acknowledges or closes the alert whose alias is ev's
// dedup key, with the API key read from envVar.
func (a *API) Notify(ctx context.Context, envVar string, ev provider.Event) (provider.Decision, error) {
	if envVar == "" {
		return provider.Decision{}, &provider.Error{Provider: a.Scheme, Detail: "the target names no env var for the API key"}
	}
	key := strings.TrimSpace(a.getenv(envVar))
	if key == "" {
		return provider.Decision{}, &provider.Error{Provider: a.Scheme, Detail: "env var " + provider.Clip(envVar, 80) + " holding the API key is not set"}
	}
	u, body, err := Request(a.Alerts, ev)
	if err != nil {
		return provider.Decision{}, &provider.Error{Provider: a.Scheme, Detail: err.Error()}
	}
	return provider.Post(ctx, a.HTTP, a.Scheme, u, http.Header{"Authorization": {"GenieKey " + key}}, body, key)
}

// Request returns the URL under alerts and the JSON body for ev: a create
// for a trigger, an acknowledge or close by alias otherwise. The alias is
// the dedup key, so a retried create is deduplicated and not paged twice.
func Request(alerts string, ev provider.Event) (string, any, error) {
	alerts = strings.TrimRight(alerts, "/")
	alias := url.PathEscape(ev.DedupKey)
	note := map[string]string{"source": "incidentbot"}
	switch ev.Action {
	case provider.ActionTrigger:
		return alerts, createBody(ev), nil
	case provider.ActionAcknowledge:
		note["note"] = cmp.Or(ev.Message, "Acknowledged in incidentbot")
		return alerts + "/" + alias + "/acknowledge?identifierType=alias", note, nil
	case provider.ActionResolve:
		if ev.Message != "" {
			note["note"] = ev.Message
		}
		return alerts + "/" + alias + "/close?identifierType=alias", note, nil
	}
	return "", nil, errors.New("unknown action " + strconv.Quote(provider.Clip(ev.Action, 40)))
}

// createBody is the alert a trigger creates.
func createBody(ev provider.Event) map[string]any {
	desc := ev.Message
	if ev.ChannelURL != "" {
		desc = strings.TrimSpace(desc + "\n\nSlack channel: " + ev.ChannelURL)
	}
	details := map[string]string{"incident": ev.Ref, "channel": ev.ChannelURL, "paged_by": ev.PagedBy, "policy": ev.Policy}
	if ev.Level > 0 {
		details["level"] = strconv.Itoa(ev.Level)
	}
	maps.DeleteFunc(details, func(_, v string) bool { return v == "" })
	sev := ev.Rank() + 1
	return map[string]any{
		"message": provider.Clip(ev.Summary(), MessageLimit), "alias": ev.DedupKey,
		"description": provider.Clip(desc, DescriptionLimit),
		"priority":    fmt.Sprintf("P%d", sev), "source": "incidentbot",
		"tags": []string{"incidentbot", fmt.Sprintf("sev%d", sev)}, "details": details,
	}
}
