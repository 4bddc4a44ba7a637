package handlers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
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
func (h *Handlers) declareCommand(r *Request, args string) (string, error) {
	d, err := ParseDeclare(args)
	if err != nil {
		return "", err
	}
	if d.Title == "" && r.TriggerID == "" {
		return "", incident.Invalid("An incident needs a title.", "Type e.g. @incidentbot declare sev2 Checkout is failing for EU customers")
	}
	if d.Title == "" {
		return "", r.OpenView(declareModal(d, r.Channel))
	}
	inc, err := h.declare(r, incident.Declaration{Title: d.Title, Severity: d.Severity, Private: d.Private,
		By: r.User, At: r.Now}, r.ResponseURL, notifyIfNoResponseURL(r))
	if err != nil {
		return "", err
	}
	kind := "channel"
	if inc.Private {
		kind = "private channel"
	}
	return fmt.Sprintf(":rotating_light: Declared *%s* (%s): %s\nCreating its %s and inviting you…",
		inc.Ref(), inc.Severity.Label(), Safe(Clip(inc.Title, 300)), kind), nil
}

// notifyIfNoResponseURL is who gets a DM with the new channel when there is
// no response_url to answer through (a declare by mention).
func notifyIfNoResponseURL(r *Request) string {
	if r.ResponseURL != "" {
		return ""
	}
	return r.User.ID
}

// declare opens an incident: the record, the first timeline entry, and the
// job that creates its channel (which enqueues the rest).
func (h *Handlers) declare(r *Request, d incident.Declaration, responseURL, notifyUser string) (*incident.Incident, error) {
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
	text := fmt.Sprintf("Incident declared (%s) by %s: %s", inc.Severity.Label(), Mention(r.User), inc.Title)
	if err := r.TimelineEvent(inc, "declared", text); err != nil {
		return nil, err
	}
	if err := r.Enqueue(bot.IncidentLane(id), jobCreateChannel, incidentJob{Incident: id, ResponseURL: responseURL, NotifyUser: notifyUser}); err != nil {
		return nil, err
	}
	return inc, h.reg.each(func(k Hooks) error { return call(k.Declared, r, inc) })
}

func declareModal(d DeclareArgs, channel string) slack.ModalViewRequest {
	sev := d.Severity
	if sev == 0 {
		sev = incident.DefaultSeverity
	}
	var options []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, s := range incident.Severities {
		o := slack.NewOptionBlockObject(s.String(), Plain(s.Label()+" — "+s.Meaning()), nil)
		options = append(options, o)
		if s == sev {
			initial = o
		}
	}
	sevSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, fieldSeverity, options...)
	sevSelect.InitialOption = initial

	title := slack.NewPlainTextInputBlockElement(Plain("e.g. Checkout failing for EU customers"), fieldTitle)
	title.MaxLength = incident.MaxTitle
	desc := slack.NewPlainTextInputBlockElement(Plain("What is happening, who is affected, what is known so far"), fieldDesc)
	desc.Multiline = true
	privateOpt := slack.NewOptionBlockObject(fieldPrivate, Plain("Private incident (a private channel, not announced)"), nil)
	private := slack.NewCheckboxGroupsBlockElement(fieldPrivate, privateOpt)
	if d.Private {
		private.InitialOptions = []*slack.OptionBlockObject{privateOpt}
	}

	descBlock := slack.NewInputBlock(fieldDesc, Plain("Description"), nil, desc)
	descBlock.Optional = true
	privateBlock := slack.NewInputBlock(fieldPrivate, Plain("Visibility"), nil, private)
	privateBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      declareCallback,
		Title:           Plain("Declare an incident"),
		Submit:          Plain("Declare"),
		Close:           Plain("Cancel"),
		PrivateMetadata: channel,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(fieldTitle, Plain("Title"), nil, title),
			slack.NewInputBlock(fieldSeverity, Plain("Severity"), nil, sevSelect),
			descBlock,
			privateBlock,
		}},
	}
}

// Plain is a plain-text object.
func Plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// submitDeclare handles the declare form. Invalid input is answered inline,
// next to the field, and the form stays open.
func (h *Handlers) submitDeclare(r *Request, view slack.View) (any, error) {
	if view.State == nil {
		return FieldErrors(fieldTitle, incident.Invalid("The form arrived without its fields.", "Submit it again.")), nil
	}
	vals := view.State.Values
	d := incident.Declaration{
		Title:       EscapeRaw(vals[fieldTitle][fieldTitle].Value),
		Description: EscapeRaw(strings.TrimSpace(vals[fieldDesc][fieldDesc].Value)),
		Private:     len(vals[fieldPrivate][fieldPrivate].SelectedOptions) > 0,
		By:          r.User, At: r.Now,
	}
	if v := vals[fieldSeverity][fieldSeverity].SelectedOption.Value; v != "" {
		sev, err := incident.ParseSeverity(v)
		if err != nil {
			return FieldErrors(fieldSeverity, err), nil
		}
		d.Severity = sev
	}
	_, err := h.declare(r, d, "", r.User.ID)
	var in *incident.InputError
	if errors.As(err, &in) {
		return FieldErrors(fieldTitle, err), nil
	}
	return nil, err
}

// FieldErrors is the ack that shows err next to a form field.
func FieldErrors(block string, err error) map[string]any {
	return map[string]any{"response_action": "errors", "errors": map[string]string{block: err.Error()}}
}
