package incidents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

// resolveCommand handles "/incident resolve [note]" in an incident channel.
func (m *Module) resolveCommand(r *handlers.Request, note string) (string, error) {
	inc, err := r.Changeable()
	if err != nil {
		return "", err
	}
	if err := inc.Resolve(r.Now, note); err != nil {
		return "", err
	}
	return "", m.afterResolve(r, inc)
}

// afterResolve records and announces a resolution (by command, or by a
// posted "resolved" customer update) and uploads the postmortem draft.
func (m *Module) afterResolve(r *handlers.Request, inc *incident.Incident) error {
	if err := r.Notify(inc, func(k handlers.Hooks) handlers.HookFunc { return k.Resolved }); err != nil {
		return err
	}
	if err := r.Tx.PutIncident(inc); err != nil {
		return err
	}
	text := "Resolved by " + handlers.Mention(r.User)
	if inc.ResolutionNote != "" {
		text += ": " + inc.ResolutionNote
	}
	if err := r.TimelineEvent(inc, "resolved", text); err != nil {
		return err
	}
	if err := r.Post(inc.ChannelID, resolvedMessage(inc, r.User, r.Now), nil); err != nil {
		return err
	}
	if err := r.RefreshChannel(inc); err != nil {
		return err
	}
	if m.h.Config().AnnounceChannel != "" && !inc.Private {
		if err := r.Post(m.h.Config().AnnounceChannel, announceResolved(inc, r.Now), nil); err != nil {
			return err
		}
	}
	// In the channel's lane, so the draft arrives after the resolution message.
	return r.EnqueueThrottled(bot.ChannelLane(inc.ChannelID), jobUploadPostmortem, incidentJob{Incident: inc.ID})
}

// Postmortem renders incident id's postmortem draft from the database.
func (m *Module) Postmortem(tx *store.Tx, id int64) (string, error) {
	return report.Postmortem(tx, m.h.Templates(), id, m.h.Now())
}

// pinsWait is how long the draft waits for pinned messages still being
// read (rate-limited, say) before it is uploaded without them.
const pinsWait = 10 * time.Minute

// errPinsPending holds the upload back while pins acked before it are
// still being read: the draft must hold every one of them.
var errPinsPending = errors.New("waiting for pinned messages to be read before uploading the draft")

func (m *Module) runUploadPostmortem(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	p, err := handlers.Decode[incidentJob](job)
	if err != nil {
		return nil, err
	}
	var doc string
	var inc *incident.Incident
	pending := false
	err = m.h.View(func(tx *store.Tx) error {
		var err error
		if inc, err = tx.Incident(p.Incident); err != nil {
			return err
		}
		entries, err := tx.Timeline(p.Incident)
		if err != nil {
			return err
		}
		for _, e := range entries {
			pending = pending || e.Pending && !e.Deleted
		}
		doc, err = m.Postmortem(tx, p.Incident)
		return err
	})
	if err != nil {
		return nil, bot.Final(err)
	}
	if pending && m.h.Now().Sub(job.Created) < pinsWait {
		return nil, bot.Retry(errPinsPending, 2*time.Second)
	}
	_, err = m.h.API().UploadFileContext(ctx, slack.UploadFileParameters{
		Filename: report.Filename(inc.ID), Title: inc.Ref() + " postmortem draft",
		Content: doc, FileSize: len(doc), Channel: inc.ChannelID, SnippetType: "markdown",
		InitialComment: fmt.Sprintf(":memo: Postmortem draft for %s. Fill in the _italic_ prompts; `%s postmortem` regenerates it.",
			inc.Ref(), m.command()),
	})
	return nil, err
}

// postmortemCommand regenerates the draft and uploads it to the channel.
func (m *Module) postmortemCommand(r *handlers.Request, _ string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	if err := r.EnqueueThrottled(bot.ChannelLane(inc.ChannelID), jobUploadPostmortem, incidentJob{Incident: inc.ID}); err != nil {
		return "", err
	}
	return fmt.Sprintf(":memo: Generating the %s postmortem draft; it will appear in this channel as %s.",
		inc.Ref(), report.Filename(inc.ID)), nil
}
