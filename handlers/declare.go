package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

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
func (h *Handlers) declareCommand(r *request, args string) (string, error) {
	d, err := ParseDeclare(args)
	if err != nil {
		return "", err
	}
	if d.Title == "" && r.triggerID == "" {
		return "", incident.Invalid("An incident needs a title.", "Type e.g. @incidentbot declare sev2 Checkout is failing for EU customers")
	}
	if d.Title == "" {
		view, err := json.Marshal(declareModal(d, r.channel))
		if err != nil {
			return "", err
		}
		return "", r.enqueue("view:"+r.user.ID, jobOpenView, viewJob{TriggerID: r.triggerID, View: view})
	}
	inc, err := h.declare(r, incident.Declaration{Title: d.Title, Severity: d.Severity, Private: d.Private,
		By: r.user, At: r.now}, r.responseURL, notifyIfNoResponseURL(r))
	if err != nil {
		return "", err
	}
	kind := "channel"
	if inc.Private {
		kind = "private channel"
	}
	return fmt.Sprintf(":rotating_light: Declared *%s* (%s): %s\nCreating its %s and inviting you…",
		inc.Ref(), inc.Severity.Label(), safe(clip(inc.Title, 300)), kind), nil
}

// notifyIfNoResponseURL is who gets a DM with the new channel when there is
// no response_url to answer through (a declare by mention).
func notifyIfNoResponseURL(r *request) string {
	if r.responseURL != "" {
		return ""
	}
	return r.user.ID
}

// declare opens an incident: the record, the first timeline entry, and the
// job that creates its channel (which enqueues the rest).
func (h *Handlers) declare(r *request, d incident.Declaration, responseURL, notifyUser string) (*incident.Incident, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	id, err := r.tx.NextIncidentID()
	if err != nil {
		return nil, err
	}
	inc := incident.New(id, d)
	if err := r.tx.PutIncident(inc); err != nil {
		return nil, err
	}
	text := fmt.Sprintf("Incident declared (%s) by %s: %s", inc.Severity.Label(), mention(r.user), inc.Title)
	if err := r.timelineEvent(inc, "declared", text); err != nil {
		return nil, err
	}
	if err := r.enqueue(lane(inc), jobCreateChannel, incidentJob{Incident: id, ResponseURL: responseURL, NotifyUser: notifyUser}); err != nil {
		return nil, err
	}
	return inc, h.scheduleReminder(r, inc, r.now.Add(h.cfg.UpdateEvery))
}

func declareModal(d DeclareArgs, channel string) slack.ModalViewRequest {
	sev := d.Severity
	if sev == 0 {
		sev = incident.DefaultSeverity
	}
	var options []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, s := range incident.Severities {
		o := slack.NewOptionBlockObject(s.String(), plain(s.Label()+" — "+s.Meaning()), nil)
		options = append(options, o)
		if s == sev {
			initial = o
		}
	}
	sevSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, fieldSeverity, options...)
	sevSelect.InitialOption = initial

	title := slack.NewPlainTextInputBlockElement(plain("e.g. Checkout failing for EU customers"), fieldTitle)
	title.MaxLength = incident.MaxTitle
	desc := slack.NewPlainTextInputBlockElement(plain("What is happening, who is affected, what is known so far"), fieldDesc)
	desc.Multiline = true
	privateOpt := slack.NewOptionBlockObject(fieldPrivate, plain("Private incident (a private channel, not announced)"), nil)
	private := slack.NewCheckboxGroupsBlockElement(fieldPrivate, privateOpt)
	if d.Private {
		private.InitialOptions = []*slack.OptionBlockObject{privateOpt}
	}

	descBlock := slack.NewInputBlock(fieldDesc, plain("Description"), nil, desc)
	descBlock.Optional = true
	privateBlock := slack.NewInputBlock(fieldPrivate, plain("Visibility"), nil, private)
	privateBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      declareCallback,
		Title:           plain("Declare an incident"),
		Submit:          plain("Declare"),
		Close:           plain("Cancel"),
		PrivateMetadata: channel,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(fieldTitle, plain("Title"), nil, title),
			slack.NewInputBlock(fieldSeverity, plain("Severity"), nil, sevSelect),
			descBlock,
			privateBlock,
		}},
	}
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// submitDeclare handles the declare form. Invalid input is answered inline,
// next to the field, and the form stays open.
func (h *Handlers) submitDeclare(r *request, view slack.View) (any, error) {
	if view.State == nil {
		return fieldErrors(fieldTitle, incident.Invalid("The form arrived without its fields.", "Submit it again.")), nil
	}
	vals := view.State.Values
	d := incident.Declaration{
		Title:       escapeRaw(vals[fieldTitle][fieldTitle].Value),
		Description: escapeRaw(strings.TrimSpace(vals[fieldDesc][fieldDesc].Value)),
		Private:     len(vals[fieldPrivate][fieldPrivate].SelectedOptions) > 0,
		By:          r.user, At: r.now,
	}
	if v := vals[fieldSeverity][fieldSeverity].SelectedOption.Value; v != "" {
		sev, err := incident.ParseSeverity(v)
		if err != nil {
			return fieldErrors(fieldSeverity, err), nil
		}
		d.Severity = sev
	}
	_, err := h.declare(r, d, "", r.user.ID)
	var in *incident.InputError
	if errors.As(err, &in) {
		return fieldErrors(fieldTitle, err), nil
	}
	return nil, err
}

func fieldErrors(block string, err error) map[string]any {
	return map[string]any{"response_action": "errors", "errors": map[string]string{block: err.Error()}}
}
