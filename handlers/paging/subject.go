package paging

import (
	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// One engine pages for incidents and for alerts. Both keep their
// escalations in their own record (incident.Escalations); what differs is
// behind subject: where the record is written, what is said in a channel
// and on a timeline (an alert has neither: its message shows its paging),
// and how a page DM and a provider event name it. Jobs carry a subjectKey
// and load their subject by it.

// subjectKey names what a job pages for: an incident, or (Alert set) an
// alert. It is embedded in the job payloads, so an incident's job encodes
// exactly as before alerts existed: {"incident":1,"escalation":…}.
type subjectKey struct {
	Incident int64 `json:"incident"`
	Alert    int64 `json:"alert,omitempty"`
}

// pageJob names one page of an escalation.
type pageJob struct {
	subjectKey
	Escalation int `json:"escalation"`
	Page       int `json:"page"`
}

// groupJob expands a user group of an escalation step into pages.
type groupJob struct {
	subjectKey
	Escalation int    `json:"escalation"`
	Step       int    `json:"step"`
	Group      string `json:"group"`
}

// escalateJob is an escalation's timer for one step.
type escalateJob struct {
	subjectKey
	Escalation int `json:"escalation"`
	Step       int `json:"step"`
}

// providerJob sends one event to a paging provider: a page's trigger, or an
// acknowledge or resolve for a target paged before.
type providerJob struct {
	subjectKey
	Escalation int    `json:"escalation"`
	Page       int    `json:"page,omitempty"`
	Target     string `json:"target"`
	Action     string `json:"action"`
	// By is who acknowledged or resolved, for the provider's note.
	By string `json:"by,omitempty"`
}

// page is the job of page pg of e.
func (k subjectKey) page(e *incident.Escalation, pg *incident.Page) pageJob {
	return pageJob{subjectKey: k, Escalation: e.ID, Page: pg.ID}
}

// value is the value of the buttons of a page DM (see handlers.Paged).
func (k subjectKey) value(e *incident.Escalation, pg *incident.Page) string {
	if k.Alert != 0 {
		return handlers.EncodeAlertValue(k.Alert, e.ID, pg.ID)
	}
	return handlers.EncodeValue(k.Incident, e.ID, pg.ID)
}

// escalationLane is the lane of e's timer for its current step: its own,
// so a waiting timer holds up no other job.
func (k subjectKey) escalationLane(e *incident.Escalation) string {
	if k.Alert != 0 {
		return bot.AlertEscalationLane(k.Alert, e.ID, e.Step)
	}
	return bot.EscalationLane(k.Incident, e.ID, e.Step)
}

// subject is what an escalation pages for: an incident or an alert.
type subject interface {
	key() subjectKey
	open() bool
	escalation(id int) (*incident.Escalation, error)
	// ready is nil when its pages may go out. An incident's wait for its
	// channel, so that they can link to it (errNoChannelYet).
	ready() error
	// save writes the record; an alert is then redrawn (r.AlertChanged).
	save(r *handlers.Request) error
	// record adds an event to an incident's timeline (an alert has none).
	record(r *handlers.Request, event, text string) error
	// say posts mrkdwn in the incident's channel (an alert says nothing).
	say(r *handlers.Request, text string) error
	// keep notes on an alert that target t of e paged nobody, and why
	// (Slack-formatted text), as a failed page its message shows. An
	// incident keeps nothing: its channel was told.
	keep(r *handlers.Request, e *incident.Escalation, t incident.Target, why string)
	// about describes it for page DMs and providers.
	about() about
}

// about is how a page DM and a provider event name a subject.
type about struct {
	ref, title string
	severity   incident.Severity
	status     string // for providers: the incident's status; firing or resolved
	state      string // for people: "Resolved", or "resolved" of an alert
	channel    string // its channel's id ("" before an incident's exists)
	where      string // the DM's line on where it is
	place      string // the same, as the sentence that ends an answer
	route      string // the alert route, "" for an incident
}

// pagedBy names who started e: a person, or the alert route that paged.
func (a about) pagedBy(e *incident.Escalation) string {
	if e.By.ID == "" && a.route != "" {
		return "alert route " + a.route
	}
	return handlers.Mention(e.By)
}

// pagedByName is pagedBy for providers, as plain text ("" if unknown).
func (a about) pagedByName(e *incident.Escalation) string {
	if e.By.ID == "" && a.route != "" {
		return "alert route " + a.route
	}
	return e.By.Name
}

// load reads the subject a job names.
func (m *Module) load(tx *store.Tx, k subjectKey) (subject, error) {
	if k.Alert != 0 {
		a, err := tx.Alert(k.Alert)
		if err != nil {
			return nil, err
		}
		return m.alertSubject(a), nil
	}
	inc, err := tx.Incident(k.Incident)
	if err != nil {
		return nil, err
	}
	return incidentSubject{inc}, nil
}

// incidentSubject pages for an incident: state in the incident record,
// every step on its timeline and said in its channel.
type incidentSubject struct{ inc *incident.Incident }

func (s incidentSubject) key() subjectKey { return subjectKey{Incident: s.inc.ID} }
func (s incidentSubject) open() bool      { return s.inc.Open() }

func (s incidentSubject) escalation(id int) (*incident.Escalation, error) {
	return s.inc.Escalation(id)
}

func (s incidentSubject) ready() error {
	if s.inc.ChannelID == "" {
		return errNoChannelYet
	}
	return nil
}

func (s incidentSubject) save(r *handlers.Request) error { return r.Tx.PutIncident(s.inc) }

func (s incidentSubject) record(r *handlers.Request, event, text string) error {
	return r.TimelineEvent(s.inc, event, text)
}

func (s incidentSubject) say(r *handlers.Request, text string) error {
	return r.Post(s.inc.ChannelID, text, nil)
}

func (incidentSubject) keep(*handlers.Request, *incident.Escalation, incident.Target, string) {}

func (s incidentSubject) about() about {
	inc := s.inc
	return about{
		ref: inc.Ref(), title: inc.Title, severity: inc.Severity, status: string(inc.Status), state: inc.Status.Title(),
		channel: inc.ChannelID, where: "Channel: " + handlers.ChannelLink(inc), place: "The incident channel: " + handlers.ChannelLink(inc),
	}
}

// warn reports a target of e that paged nobody: in an incident's channel,
// or as a failed page of an alert. why is Slack-formatted; the caller
// saves the subject.
func warn(r *handlers.Request, s subject, e *incident.Escalation, t incident.Target, why string) error {
	s.keep(r, e, t, why)
	return s.say(r, ":warning: "+handlers.Safe(why))
}
