package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Job kinds and ids of customer status updates.
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
func (h *Handlers) updateCommand(r *request, args string) (string, error) {
	word, message := nextWord(args)
	if word == "" {
		return "", incident.Invalid("Which status does the update announce?",
			fmt.Sprintf("Type e.g. %s update identified We found a bad config push and are rolling it back.", h.cfg.Command))
	}
	status, err := incident.ParseStatus(word)
	if err != nil {
		return "", err
	}
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	return h.draftUpdate(r, inc, status, message)
}

func (h *Handlers) draftUpdate(r *request, inc *incident.Incident, status incident.Status, message string) (string, error) {
	text, err := h.templates.Update(status, incident.NewUpdateView(inc, status, message, r.now, h.cfg.UpdateEvery))
	if err != nil {
		return "", err
	}
	d := inc.AddDraft(status, text, r.user, r.now)
	if err := r.tx.PutIncident(inc); err != nil {
		return "", err
	}
	return "", r.enqueueThrottled(inc.ChannelID, jobUpdatePreview, draftJob{Incident: inc.ID, Draft: d.ID})
}

// previewBlocks shows a draft and, while it is pending, its buttons.
func (h *Handlers) previewBlocks(inc *incident.Incident, d *incident.UpdateDraft) (string, []slack.Block) {
	where := "the incident channel only (INCIDENTBOT_STATUS_CHANNEL is not set)"
	if h.cfg.StatusChannel != "" {
		where = "<#" + h.cfg.StatusChannel + ">"
	}
	for _, c := range inc.CustomerChannels {
		where += ", <#" + c + ">"
	}
	var head string
	switch d.State {
	case incident.DraftPending:
		head = fmt.Sprintf(":loudspeaker: *Preview of a customer update* (%s) by %s — Post sends it to %s and sets the status to %s.",
			d.Status.Title(), mention(d.By), where, d.Status.Title())
	case incident.DraftPosted:
		head = fmt.Sprintf(":white_check_mark: *Customer update posted* (%s) to %s.", d.Status.Title(), where)
	default:
		head = fmt.Sprintf(":x: *Customer update cancelled* (%s).", d.Status.Title())
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(md(head), nil, nil),
		slack.NewSectionBlock(md(clip(quote(safe(d.Text)), sectionLimit)), nil, nil),
	}
	if d.State == incident.DraftPending {
		value := strconv.FormatInt(inc.ID, 10) + ":" + strconv.Itoa(d.ID)
		post := slack.NewButtonBlockElement(actionUpdatePost, value, plain("Post"))
		post.Style = slack.StylePrimary
		edit := slack.NewButtonBlockElement(actionUpdateEdit, value, plain("Edit"))
		cancel := slack.NewButtonBlockElement(actionUpdateCancel, value, plain("Cancel"))
		blocks = append(blocks, slack.NewActionBlock("update_"+value, post, edit, cancel))
	}
	return head, blocks
}

func quote(text string) string { return ">" + strings.ReplaceAll(text, "\n", "\n>") }

// loadDraft reads a job's incident and draft; a missing one is final.
func (h *Handlers) loadDraft(p draftJob) (inc *incident.Incident, d *incident.UpdateDraft, err error) {
	err = h.db(func(tx *store.Tx) error {
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

func (h *Handlers) runUpdatePreview(ctx context.Context, p draftJob) (func(*store.Tx) error, error) {
	inc, d, err := h.loadDraft(p)
	if err != nil {
		return nil, err
	}
	text, blocks := h.previewBlocks(inc, d)
	_, ts, err := h.api.PostMessageContext(ctx, inc.ChannelID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
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
			return (&request{tx: tx, now: h.now()}).enqueue(inc.ChannelID, jobRefreshPreview, p)
		}
		return nil
	}, nil
}

func (h *Handlers) runRefreshPreview(ctx context.Context, p draftJob) (func(*store.Tx) error, error) {
	inc, d, err := h.loadDraft(p)
	if err != nil {
		return nil, err
	}
	if d.PreviewTS == "" {
		return nil, nil // the preview job will refresh it once posted
	}
	text, blocks := h.previewBlocks(inc, d)
	_, _, _, err = h.api.UpdateMessageContext(ctx, inc.ChannelID, d.PreviewTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}

// updateAction handles the buttons of update previews and reminders.
func (h *Handlers) updateAction(r *request, cb slack.InteractionCallback, a *slack.BlockAction) error {
	incID, draftID, _ := strings.Cut(a.Value, ":")
	id, err := strconv.ParseInt(incID, 10, 64)
	if err != nil {
		return nil // not ours: a malformed value changes nothing
	}
	inc, err := r.tx.Incident(id)
	if err != nil {
		return nil
	}
	n, _ := strconv.Atoi(draftID)
	if a.ActionID == actionUpdateEdit {
		return h.openEditUpdate(r, inc, n)
	}
	return h.applyUpdateAction(r, inc, a.ActionID, n)
}

func (h *Handlers) applyUpdateAction(r *request, inc *incident.Incident, action string, draft int) error {
	switch action {
	case actionUpdatePost:
		return h.postUpdate(r, inc, draft)
	case actionUpdateCancel:
		ok, err := inc.CancelDraft(draft)
		if !ok || err != nil {
			return nil
		}
		if err := r.tx.PutIncident(inc); err != nil {
			return err
		}
		return r.enqueue(inc.ChannelID, jobRefreshPreview, draftJob{Incident: inc.ID, Draft: draft})
	case actionUpdateStart:
		if !inc.Open() {
			return nil
		}
		_, err := h.draftUpdate(r, inc, inc.Status, "")
		return err
	case actionUpdateSnooze, actionUpdateSkip:
		if !inc.Open() {
			return nil
		}
		wait, what := snoozeFor, "snoozed for "+incident.FormatDuration(snoozeFor)
		if action == actionUpdateSkip {
			wait, what = h.cfg.UpdateEvery, "skipped; next reminder in "+incident.FormatDuration(h.cfg.UpdateEvery)
		}
		inc.Reminder++
		if err := r.tx.PutIncident(inc); err != nil {
			return err
		}
		if err := r.timelineEvent(inc, "reminder", "Customer update reminder "+what+" by "+mention(r.user)); err != nil {
			return err
		}
		return h.scheduleReminder(r, inc, r.now.Add(wait))
	}
	return nil
}

// postUpdate publishes a draft once: a second click or a redelivered click
// finds it no longer pending and changes nothing.
func (h *Handlers) postUpdate(r *request, inc *incident.Incident, draft int) error {
	before := inc.Status
	var channels []string
	if h.cfg.StatusChannel != "" {
		channels = append(channels, h.cfg.StatusChannel)
	}
	channels = append(channels, inc.CustomerChannels...)
	posted, err := inc.PostDraft(draft, r.user, r.now, channels)
	if err != nil && userFacing(err) {
		return r.enqueue("user:"+r.user.ID, jobEphemeral, ephemeralJob{Channel: inc.ChannelID, User: r.user.ID, Text: h.userMessage(err)})
	}
	if !posted || err != nil {
		return err
	}
	u := inc.Updates[len(inc.Updates)-1]
	for _, c := range channels {
		if err := r.post(c, safe(u.Text), nil); err != nil {
			return err
		}
	}
	text := fmt.Sprintf("Customer update posted (%s) by %s: %s", u.Status.Title(), mention(r.user), u.Text)
	if err := r.enqueue(inc.ChannelID, jobRefreshPreview, draftJob{Incident: inc.ID, Draft: draft}); err != nil {
		return err
	}
	if inc.Status == incident.Resolved && before != incident.Resolved {
		if err := r.timelineEvent(inc, "update", text); err != nil {
			return err
		}
		return h.afterResolve(r, inc)
	}
	if err := r.changed(inc, "update", text, false); err != nil {
		return err
	}
	if inc.Status != before {
		if err := r.post(inc.ChannelID, fmt.Sprintf(":arrows_counterclockwise: Status changed from %s to *%s* with the customer update.",
			before.Title(), inc.Status.Title()), nil); err != nil {
			return err
		}
	}
	return h.scheduleReminder(r, inc, r.now.Add(h.cfg.UpdateEvery))
}

// openEditUpdate opens a modal with the draft's text.
func (h *Handlers) openEditUpdate(r *request, inc *incident.Incident, draft int) error {
	d, err := inc.Draft(draft)
	if err != nil || d.State != incident.DraftPending || r.triggerID == "" {
		return nil
	}
	input := slack.NewPlainTextInputBlockElement(nil, fieldUpdateText)
	input.Multiline = true
	input.InitialValue = unescape(d.Text)
	view := slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: updateEditCallback,
		Title: plain("Edit customer update"), Submit: plain("Save"), Close: plain("Cancel"),
		PrivateMetadata: strconv.FormatInt(inc.ID, 10) + ":" + strconv.Itoa(draft),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(fieldUpdateText, plain(d.Status.Title()+" update"), nil, input),
		}},
	}
	raw, err := json.Marshal(view)
	if err != nil {
		return err
	}
	return r.enqueue("view:"+r.user.ID, jobOpenView, viewJob{TriggerID: r.triggerID, View: raw})
}

// communicationView saves an edited draft and refreshes its preview.
func (h *Handlers) communicationView(r *request, cb slack.InteractionCallback) (any, error) {
	if cb.View.CallbackID != updateEditCallback {
		return nil, nil
	}
	incID, draftID, _ := strings.Cut(cb.View.PrivateMetadata, ":")
	id, _ := strconv.ParseInt(incID, 10, 64)
	n, _ := strconv.Atoi(draftID)
	if cb.View.State == nil {
		return fieldErrors(fieldUpdateText, incident.Invalid("The form arrived without its text.", "Save it again.")), nil
	}
	text := strings.TrimSpace(cb.View.State.Values[fieldUpdateText][fieldUpdateText].Value)
	if text == "" {
		return fieldErrors(fieldUpdateText, incident.Invalid("The update is empty.", "Write what customers should read.")), nil
	}
	inc, err := r.tx.Incident(id)
	if err != nil {
		return nil, nil
	}
	d, err := inc.Draft(n)
	if err != nil || d.State != incident.DraftPending {
		return nil, nil
	}
	d.Text = escapeRaw(text)
	if err := r.tx.PutIncident(inc); err != nil {
		return nil, err
	}
	return nil, r.enqueue(inc.ChannelID, jobRefreshPreview, draftJob{Incident: inc.ID, Draft: n})
}

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// scheduleReminder sets the next update reminder; any reminder scheduled
// before is now stale (its Gen no longer matches).
func (h *Handlers) scheduleReminder(r *request, inc *incident.Incident, at time.Time) error {
	if h.cfg.UpdateEvery <= 0 || !inc.Open() {
		return nil
	}
	// Its own lane: a timer waiting in a lane would hold up the jobs behind it.
	return r.tx.EnqueueJSON(fmt.Sprintf("remind:%d:%d", inc.ID, inc.Reminder), jobRemind,
		remindJob{Incident: inc.ID, Gen: inc.Reminder}, r.now, at)
}

// runRemind nudges the channel when no update was posted for UpdateEvery.
// It calls no Slack API itself: its commit checks the incident is still
// waiting for this reminder, then enqueues the nudge and the next timer.
func (h *Handlers) runRemind(_ context.Context, p remindJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil || !inc.Open() || inc.Reminder != p.Gen {
			return nil
		}
		now := h.now()
		r := &request{tx: tx, now: now}
		who := ""
		if u, ok := inc.Roles[incident.RoleComms]; ok {
			who = mention(u) + " "
		}
		value := strconv.FormatInt(inc.ID, 10) + ":0"
		text := fmt.Sprintf(":hourglass: %sNo customer update for %s since %s. Customers are waiting to hear from us.",
			who, inc.Ref(), incident.FormatTime(inc.LastUpdate()))
		blocks := []slack.Block{
			slack.NewSectionBlock(md(text), nil, nil),
			slack.NewActionBlock("remind_"+value,
				slack.NewButtonBlockElement(actionUpdateStart, value, plain("Write an update")),
				slack.NewButtonBlockElement(actionUpdateSnooze, value, plain("Snooze 15m")),
				slack.NewButtonBlockElement(actionUpdateSkip, value, plain("Skip"))),
		}
		if err := r.post(inc.ChannelID, text, blocks); err != nil {
			return err
		}
		// Until someone acts, nudge again after another period.
		return h.scheduleReminder(r, inc, now.Add(h.cfg.UpdateEvery))
	}, nil
}
