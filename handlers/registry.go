package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// A Module is one capability (customer communication, paging, …). New calls
// Register once; the module keeps h for its services (database, Slack,
// clock) and declares on reg everything it handles. Modules never see each
// other: what one must know of another's events comes through Hooks.
type Module interface {
	// Name names the module in registry errors and in the help of its
	// commands, e.g. "paging".
	Name() string
	Register(h *Handlers, reg *Registry)
}

// CommandFunc runs one subcommand and returns the ephemeral answer ("" for
// none). Only internal failures are errors; a user's mistake is an
// incident.InputError or a Problem, turned into text by UserMessage.
type CommandFunc func(r *Request, args string) (string, error)

// Command is one /incident subcommand.
type Command struct {
	Name string
	// Usage is what follows the command name in help, e.g.
	// "page <policy|@user|@group…> [message]" (the name included).
	Usage string
	// Help says in a few words what it does.
	Help string
	// Global commands work anywhere; the others in an incident channel.
	Global bool
	Run    CommandFunc
}

// RunFunc performs one job. Its Slack call runs outside any transaction;
// the returned commit (may be nil) is applied with the job's removal.
type RunFunc func(ctx context.Context, job store.Job) (func(*store.Tx) error, error)

// GiveUpFunc records that a job failed for good, in the transaction that
// removes it.
type GiveUpFunc func(tx *store.Tx, job store.Job, err error) error

// Job is one job kind. Kinds are persisted in the outbox: never rename one.
type Job struct {
	Kind string
	// Describe completes "I could not …", e.g. "post a message".
	Describe string
	Run      RunFunc
	// GiveUp, if set, replaces the default report of a failed job (a
	// warning in the incident channel).
	GiveUp GiveUpFunc
	// Redoable: running it again after a crash does no harm (a reaction),
	// so a success that records nothing is removed from the outbox in a
	// later shared commit.
	Redoable bool
}

// ActionFunc handles one clicked button (block action), once the core has
// checked the button's Access. A user-facing error (incident.InputError,
// Problem) is shown to the person who clicked.
type ActionFunc func(r *Request, cb slack.InteractionCallback, a *slack.BlockAction) error

// ViewFunc handles a modal submission and returns the ack payload (field
// errors, or nil to close the form), once the core has checked the form's
// Access. Its private_metadata reads as the module set it.
type ViewFunc func(r *Request, cb slack.InteractionCallback) (any, error)

// ReactionFunc handles a reaction added or removed on a message in an
// incident's channel, once the core has checked the reaction's Access. inc
// is shared by the reactions of one commit (store.Tx.IncidentView): read
// it, never modify it; a change to the incident is made on one read with
// Tx.Incident and put back.
type ReactionFunc func(r *Request, inc *incident.Incident, ev Reaction) error

// Reaction is a reaction event, reduced to what modules use.
type Reaction struct {
	Emoji    string
	Channel  string
	TS       string
	ItemUser string // the author of the message reacted to
	Added    bool
}

// MessageFunc sees every message event; it returns quickly when the
// message is not its business.
type MessageFunc func(r *Request, m Message) error

// Message is a message event (new, changed or deleted), reduced to what
// modules use.
type Message struct {
	SubType  string // "", "message_changed", "message_deleted", …
	Channel  string
	User     string
	BotID    string
	TS       string
	ThreadTS string
	Text     string
}

// HookFunc follows one lifecycle event of an incident.
type HookFunc func(r *Request, inc *incident.Incident) error

// Hooks are the incident lifecycle events a module may follow. Each runs in
// the transaction of the change, in the order the modules were given to New.
type Hooks struct {
	// Declared: a new incident, written, before its channel exists.
	Declared HookFunc
	// ChannelCreated: the incident's channel exists.
	ChannelCreated HookFunc
	// Changed: the incident changed (and was written): refresh what shows it.
	Changed HookFunc
	// SeverityUpgraded: the severity went up (sev3 → sev1).
	SeverityUpgraded HookFunc
	// Reopened: a resolved incident is open again.
	Reopened HookFunc
	// Resolved: the incident is resolving; the hook runs before it is
	// written, so it may change it (paging stops its escalations).
	Resolved HookFunc
	// AlertChanged: an alert changed (and was written), e.g. paging moved
	// on or someone acknowledged a page of it: redraw what shows it.
	AlertChanged AlertHookFunc
}

// AlertHookFunc is a hook on an alert (see Hooks.AlertChanged).
type AlertHookFunc func(r *Request, a *incident.AlertRecord) error

// Registry is everything the handlers dispatch to, declared by the core and
// the modules. A name or prefix claimed twice is an error of New.
type Registry struct {
	owner     string // the module registering now
	commands  map[string]*Command
	order     []*Command
	owners    map[string]string // "command:x", "job:y", "action:z" → module
	jobs      map[string]*Job
	actions   []action
	views     map[string]view
	reactions map[string]reaction
	messages  []MessageFunc
	hooks     []Hooks
	resolver  HookFunc
	errs      []error
}

type action struct {
	prefix string
	access Access
	fn     ActionFunc
}

type view struct {
	access Access
	fn     ViewFunc
}

type reaction struct {
	access Access
	fn     ReactionFunc
}

func newRegistry() *Registry {
	return &Registry{commands: map[string]*Command{}, owners: map[string]string{}, jobs: map[string]*Job{},
		views: map[string]view{}, reactions: map[string]reaction{}}
}

// accessOK checks that what is being registered declares one of the access
// levels that make sense for it.
func (r *Registry) accessOK(what string, access Access, allowed ...Access) bool {
	for _, a := range allowed {
		if a == access {
			return true
		}
	}
	r.errs = append(r.errs, fmt.Errorf("%s: %s needs an access level of %v, not %v", r.owner, what, allowed, access))
	return false
}

func (r *Registry) claim(what string) bool {
	if prev, ok := r.owners[what]; ok {
		r.errs = append(r.errs, fmt.Errorf("%s: %s is already registered by %s", r.owner, what, prev))
		return false
	}
	r.owners[what] = r.owner
	return true
}

// Command registers a subcommand.
func (r *Registry) Command(c Command) {
	switch {
	case c.Name == "" || c.Usage == "" || c.Help == "" || c.Run == nil:
		r.errs = append(r.errs, fmt.Errorf("%s: command %q needs a name, usage, help and a func", r.owner, c.Name))
	case !strings.HasPrefix(c.Usage, c.Name):
		r.errs = append(r.errs, fmt.Errorf("%s: the usage of %q must start with its name: %q", r.owner, c.Name, c.Usage))
	case r.claim("command " + c.Name):
		r.commands[c.Name] = &c
		r.order = append(r.order, &c)
	}
}

// Job registers a job kind.
func (r *Registry) Job(j Job) {
	switch {
	case j.Kind == "" || j.Describe == "" || j.Run == nil:
		r.errs = append(r.errs, fmt.Errorf("%s: job kind %q needs a kind, a description and a func", r.owner, j.Kind))
	case r.claim("job kind " + j.Kind):
		r.jobs[j.Kind] = &j
	}
}

// Action registers the buttons whose action ids start with prefix, usable
// as access says (their values start with the incident, see EncodeValue).
// No prefix may start another (both would claim the same ids).
func (r *Registry) Action(prefix string, access Access, fn ActionFunc) {
	if !r.accessOK("action "+prefix, access, Anyone, Members, Responders, Paged, AlertChannel) {
		return
	}
	for _, a := range r.actions {
		if strings.HasPrefix(a.prefix, prefix) || strings.HasPrefix(prefix, a.prefix) {
			r.errs = append(r.errs, fmt.Errorf("%s: action prefix %q overlaps %q of %s", r.owner, prefix, a.prefix, r.owners["action "+a.prefix]))
			return
		}
	}
	if prefix != "" && fn != nil && r.claim("action "+prefix) {
		r.actions = append(r.actions, action{prefix, access, fn})
	}
}

// View registers the modal with the given callback id, usable as access
// says (its private_metadata starts with the incident, unless Anyone).
func (r *Registry) View(callbackID string, access Access, fn ViewFunc) {
	if r.accessOK("view "+callbackID, access, Anyone, Members, Responders) &&
		callbackID != "" && fn != nil && r.claim("view "+callbackID) {
		r.views[callbackID] = view{access, fn}
	}
}

// Reaction registers what a reaction with the given emoji does, usable as
// access says.
func (r *Registry) Reaction(emoji string, access Access, fn ReactionFunc) {
	if r.accessOK("reaction :"+emoji+":", access, Members, Responders) &&
		emoji != "" && fn != nil && r.claim("reaction :"+emoji+":") {
		r.reactions[emoji] = reaction{access, fn}
	}
}

// Message registers a follower of message events.
func (r *Registry) Message(fn MessageFunc) { r.messages = append(r.messages, fn) }

// Hooks registers lifecycle hooks; unset ones are skipped.
func (r *Registry) Hooks(h Hooks) { r.hooks = append(r.hooks, h) }

// Resolver registers what resolving an incident does (announce it, upload
// the draft). One module owns it; any module may ask for it with
// Request.Resolve (a posted "resolved" customer update resolves).
func (r *Registry) Resolver(fn HookFunc) {
	if fn != nil && r.claim("resolver") {
		r.resolver = fn
	}
}

func (r *Registry) err() error { return errors.Join(r.errs...) }

// action returns the registration of an action id, nil if none.
func (r *Registry) action(id string) *action {
	for i := range r.actions {
		if strings.HasPrefix(id, r.actions[i].prefix) {
			return &r.actions[i]
		}
	}
	return nil
}

// Commands returns every registered command, sorted by name.
func (r *Registry) Commands() []Command {
	out := make([]Command, 0, len(r.order))
	for _, c := range r.order {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// JobKinds returns every registered job kind with its owner, sorted.
func (r *Registry) JobKinds() []JobInfo {
	var out []JobInfo
	for kind, j := range r.jobs {
		out = append(out, JobInfo{Kind: kind, Owner: r.owners["job kind "+kind], Describe: j.Describe})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// JobInfo describes a registered job kind.
type JobInfo struct{ Kind, Owner, Describe string }

// Owner returns the module that registered a command ("command x"), job kind
// ("job kind y"), action prefix, view or reaction; "" if none did.
func (r *Registry) Owner(what string) string { return r.owners[what] }

// AlertChanged runs every module's AlertChanged hook for a, which the
// caller has written.
func (r *Request) AlertChanged(a *incident.AlertRecord) error {
	for _, k := range r.h.reg.hooks {
		if k.AlertChanged != nil {
			if err := k.AlertChanged(r, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Notify runs, for every module that set it, the hook pick selects, e.g.
// r.Notify(inc, func(k Hooks) HookFunc { return k.Declared }). It stops at
// the first error.
func (r *Request) Notify(inc *incident.Incident, pick func(Hooks) HookFunc) error {
	for _, k := range r.h.reg.hooks {
		if fn := pick(k); fn != nil {
			if err := fn(r, inc); err != nil {
				return err
			}
		}
	}
	return nil
}
