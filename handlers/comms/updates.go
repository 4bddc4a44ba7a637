package comms

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// handlers.Job kinds and ids of customer status updates.
const (
	jobUpdatePreview  = "update_preview"
	jobRefreshPreview = "update_refresh_preview"
	jobRemind         = "update_remind"
	jobFetchFollowUp  = "fetch_followup"

	// updateActionPrefix starts the action ids of update buttons.
	updateActionPrefix = "update_"
	actionUpdatePost   = "update_post"
	actionUpdateEdit   = "update_edit"
	actionUpdateCancel = "update_cancel"
	actionUpdateStart  = "update_start"
	actionUpdateSnooze = "update_snooze"
	actionUpdateSkip   = "update_skip"
	updateEditCallback = "update_edit"
	fieldUpdateText    = "text"

	// snoozeFor is how long "Snooze" puts off an update reminder.
	snoozeFor = 15 * time.Minute
)

// draftJob names an update draft of an incident.
type draftJob struct {
	Incident int64 `json:"incident"`
	Draft    int   `json:"draft"`
}

// remindJob is an update reminder timer; Gen must still match the
// incident's Reminder counter when it fires, or something happened since.
type remindJob struct {
	Incident int64 `json:"incident"`
	Gen      int   `json:"gen"`
}

// updateCommand handles "/incident update <status> [message]": it renders
// the status's template and shows a preview with Post, Edit and Cancel.
func (m *Module) updateCommand(r *handlers.Request, args string) (string, error) {
	word, message := handlers.NextWord(args)
	if word == "" {
		return "", incident.Invalid("Which status does the update announce?",
			fmt.Sprintf("Type e.g. %s update identified We found a bad config push and are rolling it back.", m.command()))
	}
	status, err := incident.ParseStatus(word)
	if err != nil {
		return "", err
	}
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	return m.draftUpdate(r, inc, status, message)
}

func (m *Module) draftUpdate(r *handlers.Request, inc *incident.Incident, status incident.Status, message string) (string, error) {
	text, err := m.h.Templates().Update(status, incident.NewUpdateView(inc, status, message, r.Now, m.cfg.UpdateEvery))
	if err != nil {
		return "", err
	}
	d := inc.AddDraft(status, text, r.User, r.Now)
	if err := r.Tx.PutIncident(inc); err != nil {
		return "", err
	}
	return "", r.EnqueueThrottled(bot.ChannelLane(inc.ChannelID), jobUpdatePreview, draftJob{Incident: inc.ID, Draft: d.ID})
}

// previewBlocks shows a draft and, while it is pending, its buttons.
func (m *Module) previewBlocks(inc *incident.Incident, d *incident.UpdateDraft) (string, []slack.Block) {
	where := "the incident channel only (INCIDENTBOT_STATUS_CHANNEL is not set)"
	if m.cfg.StatusChannel != "" {
		where = "<#" + m.cfg.StatusChannel + ">"
	}
	for _, c := range inc.CustomerChannels {
		where += ", <#" + c + ">"
	}
	var head string
	switch d.State {
	case incident.DraftPending:
		head = fmt.Sprintf(":loudspeaker: *Preview of a customer update* (%s) by %s — Post sends it to %s and sets the status to %s.",
			d.Status.Title(), handlers.Mention(d.By), where, d.Status.Title())
	case incident.DraftPosted:
		head = fmt.Sprintf(":white_check_mark: *Customer update posted* (%s) to %s.", d.Status.Title(), where)
	default:
		head = fmt.Sprintf(":x: *Customer update cancelled* (%s).", d.Status.Title())
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(handlers.Md(head), nil, nil),
		slack.NewSectionBlock(handlers.Md(handlers.Clip(handlers.Quote(handlers.Safe(d.Text)), handlers.SectionLimit)), nil, nil),
	}
	if d.State == incident.DraftPending {
		value := handlers.EncodeValue(inc.ID, d.ID)
		post := slack.NewButtonBlockElement(actionUpdatePost, value, handlers.Plain("Post"))
		post.Style = slack.StylePrimary
		edit := slack.NewButtonBlockElement(actionUpdateEdit, value, handlers.Plain("Edit"))
		cancel := slack.NewButtonBlockElement(actionUpdateCancel, value, handlers.Plain("Cancel"))
		blocks = append(blocks, slack.NewActionBlock("update_"+value, post, edit, cancel))
	}
	return head, blocks
}

// loadDraft reads a job's incident and draft; a missing one is final.
func (m *Module) loadDraft(p draftJob) (inc *incident.Incident, d *incident.UpdateDraft, err error) {
	err = m.h.View(func(tx *store.Tx) error {
		if inc, err = tx.Incident(p.Incident); err != nil {
			return err
		}
		d, err = inc.Draft(p.Draft)
		return err
	})
	if err != nil {
		return nil, nil, bot.Final(err)
	}
	return inc, d, nil
}

func (m *Module) runUpdatePreview(ctx context.Context, p draftJob) (func(*store.Tx) error, error) {
	inc, d, err := m.loadDraft(p)
	if err != nil {
		return nil, err
	}
	text, blocks := m.previewBlocks(inc, d)
	ts, err := m.h.PostOnce(ctx, inc.ChannelID, "", slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		d, err := inc.Draft(p.Draft)
		if err != nil {
			return err
		}
		d.PreviewTS = ts
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		if d.State != incident.DraftPending { // clicked before we knew the ts
			return m.h.NewRequest(tx).Enqueue(bot.ChannelLane(inc.ChannelID), jobRefreshPreview, p)
		}
		return nil
	}, nil
}

func (m *Module) runRefreshPreview(ctx context.Context, p draftJob) (func(*store.Tx) error, error) {
	inc, d, err := m.loadDraft(p)
	if err != nil {
		return nil, err
	}
	if d.PreviewTS == "" {
		return nil, nil // the preview job will refresh it once posted
	}
	text, blocks := m.previewBlocks(inc, d)
	_, _, _, err = m.h.API().UpdateMessageContext(ctx, inc.ChannelID, d.PreviewTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}

// updateAction handles the buttons of update previews and reminders. The
// core has checked the click (handlers.Responders): the incident exists, the
// click came from its channel, by someone who may change it.
func (m *Module) updateAction(r *handlers.Request, cb slack.InteractionCallback, a *slack.BlockAction) error {
	id, ids, err := handlers.ParseValue(a.Value, 1)
	if err != nil {
		m.h.Log().Warn().Err(err).Str("action", a.ActionID).Msg("refused a button with a malformed value")
		return incident.Invalid("Nothing changed: I could not read this button.",
			fmt.Sprintf("Type %s update <status> [message] instead.", m.command()))
	}
	inc, err := r.Tx.Incident(id)
	if err != nil {
		return err
	}
	n := ids[0]
	if a.ActionID == actionUpdateEdit {
		return m.openEditUpdate(r, inc, n)
	}
	return m.applyUpdateAction(r, inc, a.ActionID, n)
}

func (m *Module) applyUpdateAction(r *handlers.Request, inc *incident.Incident, action string, draft int) error {
	switch action {
	case actionUpdatePost:
		return m.postUpdate(r, inc, draft)
	case actionUpdateCancel:
		ok, err := inc.CancelDraft(draft)
		if !ok || err != nil {
			return nil
		}
		if err := r.Tx.PutIncident(inc); err != nil {
			return err
		}
		return r.Enqueue(bot.ChannelLane(inc.ChannelID), jobRefreshPreview, draftJob{Incident: inc.ID, Draft: draft})
	case actionUpdateStart:
		if !inc.Open() {
			return nil
		}
		_, err := m.draftUpdate(r, inc, inc.Status, "")
		return err
	case actionUpdateSnooze, actionUpdateSkip:
		if !inc.Open() {
			return nil
		}
		wait, what := snoozeFor, "snoozed for "+incident.FormatDuration(snoozeFor)
		if action == actionUpdateSkip {
			wait, what = m.cfg.UpdateEvery, "skipped; next reminder in "+incident.FormatDuration(m.cfg.UpdateEvery)
		}
		inc.Reminder++
		if err := r.Tx.PutIncident(inc); err != nil {
			return err
		}
		if err := r.TimelineEvent(inc, "reminder", "Customer update reminder "+what+" by "+handlers.Mention(r.User)); err != nil {
			return err
		}
		return m.scheduleReminder(r, inc, r.Now.Add(wait))
	}
	return nil
}

// postUpdate publishes a draft once: a second click or a redelivered click
// finds it no longer pending and changes nothing.
func (m *Module) postUpdate(r *handlers.Request, inc *incident.Incident, draft int) error {
	before := inc.Status
	var channels []string
	if m.cfg.StatusChannel != "" {
		channels = append(channels, m.cfg.StatusChannel)
	}
	channels = append(channels, inc.CustomerChannels...)
	posted, err := inc.PostDraft(draft, r.User, r.Now, channels)
	if err != nil && handlers.UserFacing(err) {
		return r.Ephemeral(inc.ChannelID, r.User.ID, m.h.UserMessage(err), "")
	}
	if !posted || err != nil {
		return err
	}
	u := inc.Updates[len(inc.Updates)-1]
	for _, c := range channels {
		if err := r.PostFor(inc.ID, c, handlers.Safe(u.Text), nil); err != nil {
			return err
		}
	}
	text := fmt.Sprintf("Customer update posted (%s) by %s: %s", u.Status.Title(), handlers.Mention(r.User), u.Text)
	if err := r.Enqueue(bot.ChannelLane(inc.ChannelID), jobRefreshPreview, draftJob{Incident: inc.ID, Draft: draft}); err != nil {
		return err
	}
	if inc.Status == incident.Resolved && before != incident.Resolved {
		if err := r.TimelineEvent(inc, "update", text); err != nil {
			return err
		}
		return r.Resolve(inc)
	}
	if err := r.Changed(inc, "update", text, false); err != nil {
		return err
	}
	if inc.Status != before {
		if err := r.Post(inc.ChannelID, fmt.Sprintf(":arrows_counterclockwise: Status changed from %s to *%s* with the customer update.",
			before.Title(), inc.Status.Title()), nil); err != nil {
			return err
		}
	}
	return m.scheduleReminder(r, inc, r.Now.Add(m.cfg.UpdateEvery))
}

// openEditUpdate opens a modal with the draft's text.
func (m *Module) openEditUpdate(r *handlers.Request, inc *incident.Incident, draft int) error {
	d, err := inc.Draft(draft)
	if err != nil {
		return err
	}
	if d.State != incident.DraftPending {
		return incident.Invalid(fmt.Sprintf("Nothing to edit: this update was already %s.", d.State), "")
	}
	if r.TriggerID == "" {
		return nil // Slack always sends one with a click
	}
	input := slack.NewPlainTextInputBlockElement(nil, fieldUpdateText)
	input.Multiline = true
	input.InitialValue = unescape(d.Text)
	view := slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: updateEditCallback,
		Title: handlers.Plain("Edit customer update"), Submit: handlers.Plain("Save"), Close: handlers.Plain("Cancel"),
		PrivateMetadata: handlers.EncodeValue(inc.ID, draft),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(fieldUpdateText, handlers.Plain(d.Status.Title()+" update"), nil, input),
		}},
	}
	return r.OpenView(view)
}

// communicationView saves an edited draft and refreshes its preview.
func (m *Module) communicationView(r *handlers.Request, cb slack.InteractionCallback) (any, error) {
	if cb.View.CallbackID != updateEditCallback {
		return nil, nil
	}
	id, ids, err := handlers.ParseValue(cb.View.PrivateMetadata, 1)
	if err != nil {
		m.h.Log().Warn().Err(err).Msg("refused a form with malformed private_metadata")
		return nil, incident.Invalid("Nothing was saved: I could not read this form.", "Click Edit on the preview again.")
	}
	n := ids[0]
	if cb.View.State == nil {
		return handlers.FieldErrors(fieldUpdateText, incident.Invalid("The form arrived without its text.", "Save it again.")), nil
	}
	text := strings.TrimSpace(cb.View.State.Values[fieldUpdateText][fieldUpdateText].Value)
	if text == "" {
		return handlers.FieldErrors(fieldUpdateText, incident.Invalid("The update is empty.", "Write what customers should read.")), nil
	}
	inc, err := r.Tx.Incident(id)
	if err != nil {
		return nil, err
	}
	d, err := inc.Draft(n)
	if err != nil {
		return nil, err
	}
	if d.State != incident.DraftPending {
		return handlers.FieldErrors(fieldUpdateText, incident.Invalid(fmt.Sprintf("Nothing was saved: this update was %s meanwhile.", d.State),
			"Close the form and start a new update.")), nil
	}
	d.Text = handlers.EscapeRaw(text)
	if err := r.Tx.PutIncident(inc); err != nil {
		return nil, err
	}
	return nil, r.Enqueue(bot.ChannelLane(inc.ChannelID), jobRefreshPreview, draftJob{Incident: inc.ID, Draft: n})
}

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// scheduleReminder sets the next update reminder; any reminder scheduled
// before is now stale (its Gen no longer matches).
func (m *Module) scheduleReminder(r *handlers.Request, inc *incident.Incident, at time.Time) error {
	if m.cfg.UpdateEvery <= 0 || !inc.Open() {
		return nil
	}
	// Its own lane: a timer waiting in a lane would hold up the jobs behind it.
	return r.EnqueueAt(bot.ReminderLane(inc.ID, inc.Reminder), jobRemind, remindJob{Incident: inc.ID, Gen: inc.Reminder}, at)
}

// runRemind nudges the channel when no update was posted for UpdateEvery.
// It calls no Slack API itself: its commit checks the incident is still
// waiting for this reminder, then enqueues the nudge and the next timer.
func (m *Module) runRemind(_ context.Context, p remindJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil || !inc.Open() || inc.Reminder != p.Gen {
			return nil
		}
		now := m.h.Now()
		r := m.h.NewRequest(tx)
		who := ""
		if u, ok := inc.Roles[incident.RoleComms]; ok {
			who = handlers.Mention(u) + " "
		}
		value := handlers.EncodeValue(inc.ID, 0)
		text := fmt.Sprintf(":hourglass: %sNo customer update for %s since %s. Customers are waiting to hear from us.",
			who, inc.Ref(), incident.FormatTime(inc.LastUpdate()))
		blocks := []slack.Block{
			slack.NewSectionBlock(handlers.Md(text), nil, nil),
			slack.NewActionBlock("remind_"+value,
				slack.NewButtonBlockElement(actionUpdateStart, value, handlers.Plain("Write an update")),
				slack.NewButtonBlockElement(actionUpdateSnooze, value, handlers.Plain("Snooze 15m")),
				slack.NewButtonBlockElement(actionUpdateSkip, value, handlers.Plain("Skip"))),
		}
		if err := r.Post(inc.ChannelID, text, blocks); err != nil {
			return err
		}
		// Until someone acts, nudge again after another period.
		return m.scheduleReminder(r, inc, now.Add(m.cfg.UpdateEvery))
	}, nil
}
