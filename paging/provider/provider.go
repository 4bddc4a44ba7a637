// Package provider is how incidentbot pages people outside Slack: one
// Provider per external pager (its own package under paging/provider/),
// the shared HTTP transport they post through (Post), and the Set a
// deployment assembles from them.
//
// A failed attempt says in its return type whether another one may
// succeed (Decision); the error (*Error) only says what went wrong, in
// words that are safe to show in Slack: no routing key, API key or
// webhook path ever appears in it.
package provider

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// The actions an Event can carry.
const (
	ActionTrigger     = "trigger"
	ActionAcknowledge = "acknowledge"
	ActionResolve     = "resolve"
)

// Event is one notification about an incident to a provider.
type Event struct {
	Action     string // ActionTrigger, ActionAcknowledge or ActionResolve
	DedupKey   string // the same for every event of one incident, e.g. "incidentbot-INC-3"
	Ref        string // "INC-3"
	Title      string
	Severity   string // "sev1".."sev4"
	Status     string // "investigating" …
	ChannelURL string // link to the Slack channel, may be ""
	Message    string // why they are paged (for a trigger) or the note for the alert's log, may be ""
	PagedBy    string // display name of who paged, may be ""
	Policy     string // policy name, may be ""
	Level      int    // 1-based, 0 if none
	At         time.Time
}

// Summary is the one-line title of a page: "[INC-3] <title>".
func (ev Event) Summary() string {
	return strings.TrimSpace("[" + ev.Ref + "] " + ev.Title)
}

// Timestamp is the event's time in RFC 3339 (UTC), now if At is unset.
func (ev Event) Timestamp() string {
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	return at.UTC().Format(time.RFC3339)
}

// Rank maps the severity "sev1".."sev4" (any case) to 0..3; anything else
// counts as sev3, the middle of the scale, so a page is never dropped for
// an odd severity.
func (ev Event) Rank() int {
	if i, ok := map[string]int{"sev1": 0, "sev2": 1, "sev4": 3}[strings.ToLower(strings.TrimSpace(ev.Severity))]; ok {
		return i
	}
	return 2
}

// Decision is what a failed attempt means for the next one. The zero
// Decision is final: trying again cannot help.
type Decision struct {
	Retry bool          // another attempt may succeed (429, 408, 5xx, network trouble)
	After time.Duration // the provider's Retry-After, 0: the caller's own backoff
}

// Provider is one external pager. A target naming it is
// "<Scheme()>:<value>"; the Set splits the target and hands the provider
// only the value.
type Provider interface {
	// Scheme is the target prefix without its colon: "pagerduty", "opsgenie", "webhook", "jsm".
	Scheme() string
	// Check reports what is wrong with the value after "scheme:", for the
	// policy loader. The message says what a valid value looks like and
	// never quotes a secret.
	Check(value string) error
	// Redact returns what of the value may be shown or logged; the Set
	// puts the scheme in front.
	Redact(value string) string
	// Notify makes one attempt to deliver ev; a nil error means delivered.
	// The Set has already checked ev's Action and DedupKey.
	Notify(ctx context.Context, value string, ev Event) (Decision, error)
}

// Clip shortens text to at most n characters (runes), ending a clipped
// text with "…": providers cap their fields and reject longer ones.
func Clip(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	if n <= 0 {
		return ""
	}
	r := []rune(text)
	return string(r[:n-1]) + "…"
}

// Abbreviate keeps a long secret's first three characters, and none of a
// short one: enough to tell two keys apart, too little to use either.
func Abbreviate(s string) string {
	if r := []rune(s); len(r) > 6 {
		return string(r[:3]) + "…"
	}
	return "…"
}

// RedactURL returns what of a URL may be shown: "scheme://host/…", or "…"
// when raw has no scheme or host (or does not parse). The path and query
// of a webhook are its credential, so neither is ever kept.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "…"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
