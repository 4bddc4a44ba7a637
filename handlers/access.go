package handlers

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

// Who may do what. Every button, form and reaction is registered with an
// Access, and the core checks it (Request.allowed) before the module's
// handler runs; the commands that change an incident pass the same check
// through Request.Changeable. A refusal is one kind of error
// (incident.ErrForbidden, "nothing changed: …"), shown to the person who
// acted as every user-facing error is (Handlers.UserMessage): an ephemeral
// for a button or a command, the form itself for a form, a DM for a
// reaction by someone not in the channel.

// Access says who may use a button, form or reaction, and from where.
type Access int

const (
	// Anyone may use it: it acts on no incident (the declare form).
	Anyone Access = iota + 1
	// Members are the people in the incident's channel, acting from that
	// channel: what pins, notes and follow-ups need.
	Members
	// Responders are Members who are also INCIDENTBOT_RESPONDERS, when that
	// is set: whatever changes the incident, as its commands do.
	Responders
	// Paged is only the person a page was sent to, in the DM it was sent
	// to. The button's value is EncodeValue(incident, escalation, page),
	// or EncodeAlertValue(alert, escalation, page) for a page of an alert.
	Paged
	// AlertChannel is whoever acts from the channel an alert was posted to
	// (and is one of INCIDENTBOT_RESPONDERS, when that is set): the alert
	// message's buttons. The value is EncodeAlertValue(alert, …).
	AlertChannel
)

func (a Access) String() string {
	switch a {
	case Anyone:
		return "anyone"
	case Members:
		return "members"
	case Responders:
		return "responders"
	case Paged:
		return "paged"
	case AlertChannel:
		return "alert channel"
	}
	return "access(" + strconv.Itoa(int(a)) + ")"
}

// forbidden is the one refusal: nothing changed, why, and what to do.
func forbidden(format string, args ...any) error {
	return incident.Problemf(incident.ErrForbidden, "nothing changed: "+format, args...)
}

// act is what the check knows of where something was done.
type act struct {
	// from is the conversation it was done in (a click's container).
	from string
	// form: submitted in a form, which floats over Slack and is bound to
	// the person it was opened for instead (see OpenView).
	form bool
	// member: Slack vouches that the person is in from (they typed a
	// command there, which Slack only lets members do).
	member bool
	// page is the page a Paged button answers, if it exists.
	page *incident.Page
}

// allowed is the one permission check: may r.User do what access allows
// on inc, done as a says?
func (r *Request) allowed(inc *incident.Incident, access Access, a act) error {
	switch access {
	case Anyone:
		return nil
	case Paged:
		p := a.page
		if p == nil || p.User.ID == "" || p.User.ID != r.User.ID || a.form ||
			(p.Channel != "" && a.from != p.Channel) || (p.Channel == "" && !strings.HasPrefix(a.from, "D")) {
			return forbidden("this page can be answered only by the person it was sent to, in the DM it was sent to")
		}
		return nil
	case Members, Responders:
	default:
		return forbidden("this is not registered with an access level")
	}
	if !a.form && (a.from == "" || a.from != inc.ChannelID) {
		return forbidden("this button works only in the channel of the incident it belongs to")
	}
	if !a.member && inc.Members.Known() && !inc.Members.Has(r.User.ID) {
		where := "the incident's channel"
		if !inc.Private && inc.ChannelID != "" {
			where = "<#" + inc.ChannelID + ">"
		}
		return forbidden("only people in %s may do this; join it first", where)
	}
	if access == Responders {
		return r.responder()
	}
	return nil
}

// responder refuses anyone but INCIDENTBOT_RESPONDERS, when it is set.
func (r *Request) responder() error {
	allowed := r.h.responders.Load()
	if allowed == nil {
		return nil
	}
	var who []string
	for _, id := range *allowed {
		if id == r.User.ID {
			return nil
		}
		if len(who) < 10 {
			who = append(who, "<@"+id+">")
		}
	}
	return forbidden("only the responders set by the operator (INCIDENTBOT_RESPONDERS) may change incidents: %s; ask one of them",
		strings.Join(who, ", "))
}

// valueIncident reads the incident a button value or form metadata names
// (its first part, see EncodeValue).
func (r *Request) valueIncident(value string) (*incident.Incident, error) {
	first, _, _ := strings.Cut(value, ":")
	id, err := strconv.ParseInt(first, 10, 64)
	if err != nil || id <= 0 {
		return nil, forbidden("I could not tell which incident this belongs to")
	}
	inc, err := r.Tx.Incident(id)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, forbidden("it belongs to an incident I do not know")
	}
	return inc, err
}

// actionAllowed checks a click on a button of access with value, made in
// the conversation from.
func (r *Request) actionAllowed(access Access, value, from string) error {
	if access == Anyone {
		return nil
	}
	if access == AlertChannel || (access == Paged && IsAlertValue(value)) {
		return r.alertActionAllowed(access, value, from)
	}
	inc, err := r.valueIncident(value)
	if err != nil {
		return err
	}
	a := act{from: from}
	if access == Paged {
		if _, ids, err := ParseValue(value, 2); err == nil {
			if e, err := inc.Escalation(ids[0]); err == nil {
				a.page, _ = e.Page(ids[1])
			}
		}
	}
	return r.allowed(inc, access, a)
}

// alertActionAllowed checks a click on an alert's button, or on the page
// DM of an alert's page.
func (r *Request) alertActionAllowed(access Access, value, from string) error {
	n := 0
	if access == Paged {
		n = 2
	}
	id, ids, err := ParseAlertValue(value, n)
	if err != nil && access == AlertChannel {
		id, _, err = ParseAlertValue(value, 1) // e.g. "a7:1", a button naming more
	}
	if err != nil {
		return forbidden("I could not tell which alert this belongs to")
	}
	a, err := r.Tx.Alert(id)
	if errors.Is(err, incident.ErrNotFound) {
		return forbidden("it belongs to an alert I do not know")
	} else if err != nil {
		return err
	}
	if access == Paged {
		var p *incident.Page
		if e, err := a.Escalation(ids[0]); err == nil {
			p, _ = e.Page(ids[1])
		}
		return r.allowed(nil, Paged, act{from: from, page: p})
	}
	if from == "" || from != a.Channel {
		return forbidden("this button works only in the channel the alert was posted to")
	}
	return r.responder()
}

// Forms are bound to the person they were opened for: OpenView appends
// "@<user>" to the private_metadata the module set, and the core strips it
// before the module reads its metadata back.
const formOwnerSep = "@"

func withFormOwner(metadata, user string) string { return metadata + formOwnerSep + user }

// cutFormOwner splits metadata into the module's part and the user the form
// was opened for; bound is false for a form opened without one (before
// forms were bound, or not by OpenView).
func cutFormOwner(metadata string) (meta, user string, bound bool) {
	i := strings.LastIndex(metadata, formOwnerSep)
	if i < 0 || !validUser(metadata[i+1:]) {
		return metadata, "", false
	}
	return metadata[:i], metadata[i+1:], true
}

// formAllowed checks a form submission of access whose metadata (the
// module's part) is meta, opened for owner.
func (r *Request) formAllowed(access Access, meta, owner string, bound bool) error {
	switch {
	case bound && owner != r.User.ID:
		return forbidden("this form was opened for someone else; open your own")
	case access == Anyone:
		return nil
	case !bound:
		return forbidden("this form was not opened by this version of incidentbot; open it again")
	}
	inc, err := r.valueIncident(meta)
	if err != nil {
		return err
	}
	return r.allowed(inc, access, act{form: true})
}

// refusedForm answers a refused form submission in the form itself.
func (h *Handlers) refusedForm(err error) map[string]any {
	view := slack.ModalViewRequest{
		Type: slack.VTModal, Title: Plain("Not saved"), Close: Plain("Close"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(Md(h.UserMessage(err)), nil, nil)}},
	}
	return map[string]any{"response_action": "update", "view": view}
}

// ListedResponder reports whether user is one of INCIDENTBOT_RESPONDERS;
// false when that is not set (unlike the check, which then lets anyone).
func (h *Handlers) ListedResponder(user string) bool {
	allowed := h.responders.Load()
	return allowed != nil && slices.Contains(*allowed, user)
}
