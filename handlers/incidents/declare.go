package incidents

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Block and action ids of the declare modal.
const (
	declareCallback = "declare"
	fieldTitle      = "title"
	fieldSeverity   = "severity"
	fieldDesc       = "description"
	fieldPrivate    = "private"
)

// declareCommand handles "/incident declare [sevN] [--private] <title>";
// without a title it opens the declare form.
func (m *Module) declareCommand(r *handlers.Request, args string) (string, error) {
	d, err := handlers.ParseDeclare(args)
	if err != nil {
		return "", err
	}
	if d.Title == "" && r.TriggerID == "" {
		return "", incident.Invalid("An incident needs a title.", "Type e.g. @incidentbot declare sev2 Checkout is failing for EU customers")
	}
	if d.Title == "" {
		return "", r.OpenView(declareModal(d, r.Channel))
	}
	inc, err := m.declare(r, incident.Declaration{Title: d.Title, Severity: d.Severity, Private: d.Private,
		By: r.User, At: r.Now}, r.ResponseURL, notifyIfNoResponseURL(r))
	if err != nil {
		return "", err
	}
	kind := "channel"
	if inc.Private {
		kind = "private channel"
	}
	return fmt.Sprintf(":rotating_light: Declared *%s* (%s): %s\nCreating its %s and inviting you…",
		inc.Ref(), inc.Severity.Label(), handlers.Safe(handlers.Clip(inc.Title, 300)), kind), nil
}

// notifyIfNoResponseURL is who gets a DM with the new channel when there is
// no response_url to answer through (a declare by mention).
func notifyIfNoResponseURL(r *handlers.Request) string {
	if r.ResponseURL != "" {
		return ""
	}
	return r.User.ID
}

// Declare opens an incident for another module (an alert's Declare
// incident button, or an alert route's declare: severity) in r's
// transaction, as /incident declare does; d.By declares it.
func (m *Module) Declare(r *handlers.Request, d incident.Declaration) (*incident.Incident, error) {
	return m.declare(r, d, "", "")
}

// declare opens an incident: the record, the first timeline entry, and the
// job that creates its channel (which enqueues the rest).
func (m *Module) declare(r *handlers.Request, d incident.Declaration, responseURL, notifyUser string) (*incident.Incident, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	id, err := r.Tx.NextIncidentID()
	if err != nil {
		return nil, err
	}
	inc := incident.New(id, d)
	if err := r.Tx.PutIncident(inc); err != nil {
		return nil, err
	}
	text := fmt.Sprintf("Incident declared (%s) by %s: %s", inc.Severity.Label(), handlers.Mention(r.User), inc.Title)
	if err := r.TimelineEvent(inc, "declared", text); err != nil {
		return nil, err
	}
	if err := r.Enqueue(bot.IncidentLane(id), jobCreateChannel, incidentJob{Incident: id, ResponseURL: responseURL, NotifyUser: notifyUser}); err != nil {
		return nil, err
	}
	return inc, r.Notify(inc, func(k handlers.Hooks) handlers.HookFunc { return k.Declared })
}

func declareModal(d handlers.DeclareArgs, channel string) slack.ModalViewRequest {
	sev := d.Severity
	if sev == 0 {
		sev = incident.DefaultSeverity
	}
	var options []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, s := range incident.Severities {
		o := slack.NewOptionBlockObject(s.String(), handlers.Plain(s.Label()+" — "+s.Meaning()), nil)
		options = append(options, o)
		if s == sev {
			initial = o
		}
	}
	sevSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, fieldSeverity, options...)
	sevSelect.InitialOption = initial

	title := slack.NewPlainTextInputBlockElement(handlers.Plain("e.g. Checkout failing for EU customers"), fieldTitle)
	title.MaxLength = incident.MaxTitle
	desc := slack.NewPlainTextInputBlockElement(handlers.Plain("What is happening, who is affected, what is known so far"), fieldDesc)
	desc.Multiline = true
	privateOpt := slack.NewOptionBlockObject(fieldPrivate, handlers.Plain("Private incident (a private channel, not announced)"), nil)
	private := slack.NewCheckboxGroupsBlockElement(fieldPrivate, privateOpt)
	if d.Private {
		private.InitialOptions = []*slack.OptionBlockObject{privateOpt}
	}

	descBlock := slack.NewInputBlock(fieldDesc, handlers.Plain("Description"), nil, desc)
	descBlock.Optional = true
	privateBlock := slack.NewInputBlock(fieldPrivate, handlers.Plain("Visibility"), nil, private)
	privateBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      declareCallback,
		Title:           handlers.Plain("Declare an incident"),
		Submit:          handlers.Plain("Declare"),
		Close:           handlers.Plain("Cancel"),
		PrivateMetadata: channel,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(fieldTitle, handlers.Plain("Title"), nil, title),
			slack.NewInputBlock(fieldSeverity, handlers.Plain("Severity"), nil, sevSelect),
			descBlock,
			privateBlock,
		}},
	}
}

// submitDeclare handles the declare form. Invalid input is answered inline,
// next to the field, and the form stays open.
func (m *Module) submitDeclare(r *handlers.Request, view slack.View) (any, error) {
	if view.State == nil {
		return handlers.FieldErrors(fieldTitle, incident.Invalid("The form arrived without its fields.", "Submit it again.")), nil
	}
	vals := view.State.Values
	d := incident.Declaration{
		Title:       handlers.EscapeRaw(vals[fieldTitle][fieldTitle].Value),
		Description: handlers.EscapeRaw(strings.TrimSpace(vals[fieldDesc][fieldDesc].Value)),
		Private:     len(vals[fieldPrivate][fieldPrivate].SelectedOptions) > 0,
		By:          r.User, At: r.Now,
	}
	if v := vals[fieldSeverity][fieldSeverity].SelectedOption.Value; v != "" {
		sev, err := incident.ParseSeverity(v)
		if err != nil {
			return handlers.FieldErrors(fieldSeverity, err), nil
		}
		d.Severity = sev
	}
	_, err := m.declare(r, d, "", r.User.ID)
	var in *incident.InputError
	if errors.As(err, &in) {
		return handlers.FieldErrors(fieldTitle, err), nil
	}
	return nil, err
}
