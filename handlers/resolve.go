package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// resolveCommand handles "/incident resolve [note]" in an incident channel.
func (h *Handlers) resolveCommand(r *request, note string) (string, error) {
	inc, err := h.changeable(r)
	if err != nil {
		return "", err
	}
	if err := inc.Resolve(r.now, note); err != nil {
		return "", err
	}
	return "", h.afterResolve(r, inc)
}

// afterResolve records and announces a resolution (by command, or by a
// posted "resolved" customer update) and uploads the postmortem draft.
func (h *Handlers) afterResolve(r *request, inc *incident.Incident) error {
	if err := h.stopPaging(r, inc); err != nil {
		return err
	}
	if err := r.tx.PutIncident(inc); err != nil {
		return err
	}
	text := "Resolved by " + mention(r.user)
	if inc.ResolutionNote != "" {
		text += ": " + inc.ResolutionNote
	}
	if err := r.timelineEvent(inc, "resolved", text); err != nil {
		return err
	}
	if err := r.post(inc.ChannelID, resolvedMessage(inc, r.user, r.now), nil); err != nil {
		return err
	}
	if err := r.refreshChannel(inc); err != nil {
		return err
	}
	if h.cfg.AnnounceChannel != "" && !inc.Private {
		if err := r.post(h.cfg.AnnounceChannel, announceResolved(inc, r.now), nil); err != nil {
			return err
		}
	}
	// In the channel's lane, so the draft arrives after the resolution message.
	return r.enqueueThrottled(inc.ChannelID, jobUploadPostmortem, incidentJob{Incident: inc.ID})
}

// Postmortem renders incident id's postmortem draft from the database.
func (h *Handlers) Postmortem(tx *store.Tx, id int64) (string, error) {
	return RenderPostmortem(tx, h.templates, id, h.now())
}

// RenderPostmortem renders incident id's draft from what tx holds. The
// export command uses it offline, with no Slack.
func RenderPostmortem(tx *store.Tx, t *incident.Templates, id int64, now time.Time) (string, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return "", err
	}
	entries, err := tx.Timeline(id)
	if err != nil {
		return "", err
	}
	return t.PostmortemString(incident.PostmortemInput{Incident: inc, Timeline: entries, Names: names(inc, entries), Now: now})
}

// names collects the display names the incident knows, for mentions in texts.
func names(inc *incident.Incident, entries []incident.Entry) map[string]string {
	n := map[string]string{}
	add := func(u incident.User) {
		if u.ID != "" && u.Name != "" {
			n[u.ID] = u.Name
		}
	}
	add(inc.DeclaredBy)
	for _, u := range inc.Roles {
		add(u)
	}
	for _, e := range entries {
		add(e.Author)
	}
	for _, f := range inc.FollowUps {
		add(f.Owner)
		add(f.By)
	}
	for _, e := range inc.Escalations {
		add(e.By)
		add(e.AckedBy)
	}
	return n
}

// PostmortemFilename is the name of the uploaded draft, e.g. INC-7-postmortem.md.
func PostmortemFilename(id int64) string { return incident.Ref(id) + "-postmortem.md" }

func (h *Handlers) runUploadPostmortem(ctx context.Context, p incidentJob) (func(*store.Tx) error, error) {
	var doc string
	var inc *incident.Incident
	err := h.db(func(tx *store.Tx) error {
		var err error
		if inc, err = tx.Incident(p.Incident); err != nil {
			return err
		}
		doc, err = h.Postmortem(tx, p.Incident)
		return err
	})
	if err != nil {
		return nil, bot.Final(err)
	}
	_, err = h.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: PostmortemFilename(inc.ID), Title: inc.Ref() + " postmortem draft",
		Content: doc, FileSize: len(doc), Channel: inc.ChannelID, SnippetType: "markdown",
		InitialComment: fmt.Sprintf(":memo: Postmortem draft for %s. Fill in the _italic_ prompts; `%s postmortem` regenerates it.",
			inc.Ref(), h.cfg.Command),
	})
	return nil, err
}

// IncidentRecord is an incident's whole record, for `export --format json`.
type IncidentRecord struct {
	Incident *incident.Incident `json:"incident"`
	Timeline []incident.Entry   `json:"timeline"`
}

// Record returns incident id's whole record.
func Record(tx *store.Tx, id int64) (*IncidentRecord, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return nil, err
	}
	entries, err := tx.Timeline(id)
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []incident.Entry{}
	}
	return &IncidentRecord{Incident: inc, Timeline: entries}, nil
}
