package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Set is the providers a deployment knows, by scheme. Its methods take a
// whole target, "<scheme>:<value>".
type Set struct {
	order []string // schemes in the order given to NewSet, for messages
	by    map[string]Provider
}

// NewSet returns the set of ps. A later provider with the same scheme as
// an earlier one replaces it (keeping the earlier one's place).
func NewSet(ps ...Provider) *Set {
	s := &Set{by: map[string]Provider{}}
	for _, p := range ps {
		if _, dup := s.by[p.Scheme()]; !dup {
			s.order = append(s.order, p.Scheme())
		}
		s.by[p.Scheme()] = p
	}
	return s
}

// Schemes returns the schemes in the order given to NewSet.
func (s *Set) Schemes() []string { return append([]string(nil), s.order...) }

// Lookup returns the provider a target names and the value after its
// colon; ok is false when the target has no colon or an unknown scheme.
func (s *Set) Lookup(target string) (p Provider, value string, ok bool) {
	scheme, value, found := strings.Cut(target, ":")
	p, ok = s.by[scheme]
	return p, value, found && ok
}

// want lists the schemes for messages: "pagerduty:, opsgenie: or webhook:".
func (s *Set) want() string {
	names := make([]string, len(s.order))
	for i, scheme := range s.order {
		names[i] = scheme + ":"
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// problem returns what makes target unusable before any provider sees it:
// no kind, or an unknown one. Neither message quotes the target, which may
// be a bare routing key.
func (s *Set) problem(target string) *Error {
	kind, _, found := strings.Cut(target, ":")
	switch {
	case !found:
		return &Error{Detail: "the target has no kind (want " + s.want() + ")"}
	case s.by[kind] == nil:
		return &Error{Detail: fmt.Sprintf("unknown target kind %q (want %s)", Clip(kind, 40), s.want())}
	}
	return nil
}

// Notify delivers ev to target with one attempt. A target without a kind
// or of an unknown one, an unknown action and an event without a dedup
// key fail with a final Decision: no later attempt can fix them.
func (s *Set) Notify(ctx context.Context, target string, ev Event) (Decision, error) {
	if e := s.problem(target); e != nil {
		return Decision{}, e
	}
	p, value, _ := s.Lookup(target)
	switch {
	case ev.Action != ActionTrigger && ev.Action != ActionAcknowledge && ev.Action != ActionResolve:
		return Decision{}, &Error{Provider: p.Scheme(), Detail: fmt.Sprintf("unknown action %q", Clip(ev.Action, 40))}
	case ev.DedupKey == "": // without one, a retried trigger would page twice
		return Decision{}, &Error{Provider: p.Scheme(), Detail: "the event has no dedup key"}
	}
	return p.Notify(ctx, value, ev)
}

// Check reports what is wrong with target, for the policy loader: the
// provider's own Check for a known scheme, else why it is not a provider
// target at all (the texts Notify would give).
func (s *Set) Check(target string) error {
	if e := s.problem(target); e != nil {
		return errors.New(e.Detail)
	}
	p, value, _ := s.Lookup(target)
	return p.Check(value)
}

// Redact returns target in a form safe to log or show: "<scheme>:" and the
// provider's Redact of the value. A target of no known scheme, which may be
// a key or URL pasted without its prefix, is cut at its first colon, and
// to three characters when longer than 24 (Slack ids are the caller's to
// show: they are not provider targets).
func (s *Set) Redact(target string) string {
	if p, value, ok := s.Lookup(target); ok {
		return p.Scheme() + ":" + p.Redact(value)
	}
	head, _, colon := strings.Cut(target, ":")
	if len(head) > 24 {
		head = Abbreviate(head)
	}
	if colon {
		head += ":…"
	}
	return head
}
