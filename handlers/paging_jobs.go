package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// errNoChannelYet makes a page wait (with backoff) until the incident's
// channel exists, so the page can link to it.
var errNoChannelYet = errors.New("the incident channel is not created yet")

// loadPage reads a job's incident, escalation and page.
func (h *Handlers) loadPage(p pageJob) (inc *incident.Incident, e *incident.Escalation, pg *incident.Page, err error) {
	err = h.db(func(tx *store.Tx) error {
		if inc, err = tx.Incident(p.Incident); err != nil {
			return err
		}
		if e, err = inc.Escalation(p.Escalation); err != nil {
			return err
		}
		pg, err = e.Page(p.Page)
		return err
	})
	if err != nil {
		return nil, nil, nil, bot.Final(err)
	}
	return inc, e, pg, nil
}

// withPage runs fn on the job's page inside a commit and writes the incident.
func withPage(tx *store.Tx, p pageJob, fn func(inc *incident.Incident, e *incident.Escalation, pg *incident.Page) error) error {
	inc, err := tx.Incident(p.Incident)
	if err != nil {
		return err
	}
	e, err := inc.Escalation(p.Escalation)
	if err != nil {
		return err
	}
	pg, err := e.Page(p.Page)
	if err != nil {
		return err
	}
	if err := fn(inc, e, pg); err != nil {
		return err
	}
	return tx.PutIncident(inc)
}

// runPageDM sends one person their page: a DM with Acknowledge and Decline.
// An escalation that ended before the DM went out sends nothing.
func (h *Handlers) runPageDM(ctx context.Context, p pageJob) (func(*store.Tx) error, error) {
	inc, e, pg, err := h.loadPage(p)
	if err != nil {
		return nil, err
	}
	if !e.Active() || pg.State != incident.PageSending {
		return func(tx *store.Tx) error {
			return withPage(tx, p, func(_ *incident.Incident, _ *incident.Escalation, pg *incident.Page) error {
				if pg.State == incident.PageSending {
					pg.State = incident.PageSkipped
				}
				return nil
			})
		}, nil
	}
	if inc.ChannelID == "" {
		return nil, errNoChannelYet
	}
	im, _, _, err := h.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{pg.User.ID}, ReturnIM: true})
	if err != nil {
		return nil, err
	}
	text, blocks := pageBlocks(inc, e, pg)
	_, ts, err := h.api.PostMessageContext(ctx, im.ID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return nil, err
	}
	// The postmortem names who was paged. Best effort: the page is out, and
	// failing now would send it again.
	name := pg.User.Name
	if name == "" {
		if u, err := h.api.GetUserInfoContext(ctx, pg.User.ID); err == nil {
			name = displayName(u)
		}
	}
	return func(tx *store.Tx) error {
		r := &request{tx: tx, now: h.now()}
		return withPage(tx, p, func(inc *incident.Incident, e *incident.Escalation, pg *incident.Page) error {
			pg.Channel, pg.TS = im.ID, ts
			if pg.User.Name == "" {
				pg.User.Name = name
			}
			if pg.State == incident.PageSending {
				pg.State = incident.PageSent
			}
			if !e.Active() { // it ended while the DM was on its way: show how
				return r.enqueue("dm:"+pg.User.ID, jobPageUpdateDM, p)
			}
			return nil
		})
	}, nil
}

// pageBlocks renders a page DM from the current state: buttons while an
// answer can still help, the outcome once there is one.
func pageBlocks(inc *incident.Incident, e *incident.Escalation, pg *incident.Page) (string, []slack.Block) {
	head := fmt.Sprintf(":rotating_light: *You are being paged for %s (%s)*: %s", inc.Ref(), inc.Severity.Label(), safe(clip(inc.Title, 300)))
	body := fmt.Sprintf("Channel: %s\nPaged by %s · %s, level %d of %d", channelLink(inc), mention(e.By), e.Name(), pg.Level+1, len(e.Levels))
	if pg.Group != "" {
		body += " · through user group " + pg.Group
	}
	if e.Message != "" {
		body += "\n" + quote(safe(clip(e.Message, 1000)))
	}
	var outcome string
	switch {
	case pg.State == incident.PageDeclined:
		outcome = ":no_entry: You declined this page; I page the next people on the list."
		if !e.Active() {
			outcome = ":no_entry: You declined this page."
		}
	case e.State == incident.EscalationAcknowledged:
		outcome = fmt.Sprintf(":white_check_mark: Acknowledged by %s at %s.", mention(e.AckedBy), incident.FormatTime(e.AckedAt))
	case e.State == incident.EscalationCancelled:
		outcome = fmt.Sprintf(":octagonal_sign: Paging stopped at %s: %s is %s.", incident.FormatTime(e.Ended), inc.Ref(), inc.Status.Title())
	case e.State == incident.EscalationExhausted && !inc.Open():
		// It ran out unanswered; once resolved, a late ack no longer helps.
		outcome = fmt.Sprintf(":octagonal_sign: Paging stopped at %s (nobody acknowledged): %s is %s.", incident.FormatTime(e.Ended), inc.Ref(), inc.Status.Title())
	}
	blocks := []slack.Block{slack.NewSectionBlock(md(head), nil, nil), slack.NewSectionBlock(md(clip(body, sectionLimit)), nil, nil)}
	if outcome != "" {
		blocks = append(blocks, slack.NewSectionBlock(md(outcome), nil, nil))
		return head + "\n" + outcome, blocks
	}
	value := strconv.FormatInt(inc.ID, 10) + ":" + strconv.Itoa(e.ID) + ":" + strconv.Itoa(pg.ID)
	ack := slack.NewButtonBlockElement(actionPageAck, value, plain("Acknowledge"))
	ack.Style = slack.StylePrimary
	decline := slack.NewButtonBlockElement(actionPageDecl, value, plain("Decline"))
	decline.Style = slack.StyleDanger
	blocks = append(blocks, slack.NewActionBlock("page_"+value, ack, decline))
	return head, blocks
}

// runPageUpdateDM redraws a page DM after the escalation or the page changed.
func (h *Handlers) runPageUpdateDM(ctx context.Context, p pageJob) (func(*store.Tx) error, error) {
	inc, e, pg, err := h.loadPage(p)
	if err != nil || pg.TS == "" {
		return nil, err // no DM yet: runPageDM redraws it once sent
	}
	text, blocks := pageBlocks(inc, e, pg)
	_, _, _, err = h.api.UpdateMessageContext(ctx, pg.Channel, pg.TS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return nil, err
}

// runPageGroup expands a user group into pages of its members.
func (h *Handlers) runPageGroup(ctx context.Context, p groupJob) (func(*store.Tx) error, error) {
	members, err := h.api.GetUserGroupMembersContext(ctx, p.Group)
	if err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		e, err := inc.Escalation(p.Escalation)
		if err != nil || !e.Active() || e.Step != p.Step {
			return err // moved on meanwhile: this step's pages would be late
		}
		r := &request{tx: tx, now: h.now()}
		if len(members) == 0 {
			return r.post(inc.ChannelID, fmt.Sprintf(":warning: User group %s has no members, so nobody was paged through it.", p.Group), nil)
		}
		for _, id := range members {
			if pg := e.AddPage(incident.Page{Target: incident.Target(id), User: incident.User{ID: id}, Group: p.Group, At: r.now}); pg != nil {
				if err := r.enqueue("dm:"+id, jobPageDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: pg.ID}); err != nil {
					return err
				}
			}
		}
		return tx.PutIncident(inc)
	}, nil
}

// runPageEscalate is an escalation's timer. It calls no Slack API itself:
// its commit checks that the escalation still waits at this step, and only
// then pages the next level. An acknowledgement committed first wins.
func (h *Handlers) runPageEscalate(_ context.Context, p escalateJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		inc, err := tx.Incident(p.Incident)
		if err != nil {
			return err
		}
		e, err := inc.Escalation(p.Escalation)
		if err != nil || !e.Active() || e.Step != p.Step {
			return err
		}
		return h.escalate(&request{tx: tx, now: h.now()}, inc, e)
	}, nil
}

// runPageProvider sends one event to PagerDuty, Opsgenie or a webhook.
// The bot's retry stage retries 429s and 5xx; after ProviderGiveUp of
// failing, the failure is final and reported in the channel.
func (h *Handlers) runPageProvider(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
	p, err := decode[providerJob](job)
	if err != nil {
		return nil, err
	}
	inc, err := h.load(p.Incident)
	if err != nil {
		return nil, bot.Final(err)
	}
	e, err := inc.Escalation(p.Escalation)
	if err != nil {
		return nil, bot.Final(err)
	}
	if p.Action == "trigger" && !e.Active() {
		return func(tx *store.Tx) error {
			return withPage(tx, pageJob{Incident: p.Incident, Escalation: p.Escalation, Page: p.Page},
				func(_ *incident.Incident, _ *incident.Escalation, pg *incident.Page) error {
					pg.State = incident.PageSkipped
					return nil
				})
		}, nil
	}
	if inc.ChannelID == "" {
		return nil, errNoChannelYet
	}
	ev := ProviderEvent{
		Action: p.Action, DedupKey: "incidentbot-" + h.cfg.TeamID + "-" + inc.Ref(), Ref: inc.Ref(), Title: incident.Markdown(inc.Title, nil),
		Severity: inc.Severity.String(), Status: string(inc.Status), ChannelURL: h.channelURL(inc),
		Message: incident.Markdown(e.Message, nil), PagedBy: e.By.Name, Policy: e.Policy, Level: e.Level + 1, At: h.now(),
	}
	if p.Action != "trigger" {
		// What the provider's responders read in the alert's log.
		done := capitalise(actionDone(p.Action))
		ev.Message = fmt.Sprintf("%s in Slack (%s)", done, inc.Ref())
		if p.By != "" {
			ev.Message = fmt.Sprintf("%s in Slack by %s (%s)", done, p.By, inc.Ref())
		}
	}
	err = h.providers.Send(ctx, p.Target, ev)
	left := h.cfg.ProviderGiveUp - h.now().Sub(job.Created)
	if err != nil && left <= 0 {
		err = bot.Final(fmt.Errorf("still failing after %s: %w", incident.FormatDuration(h.cfg.ProviderGiveUp), err))
	}
	// A provider asking to wait longer than we will keep trying is tried
	// once more when the time is up, so the failure is reported on time.
	if pe, ok := errors.AsType[*ProviderError](err); ok && pe.Wait > left && left > 0 {
		pe.Wait = left
	}
	if err != nil {
		return nil, err
	}
	if p.Page == 0 {
		return nil, nil
	}
	return func(tx *store.Tx) error {
		return withPage(tx, pageJob{Incident: p.Incident, Escalation: p.Escalation, Page: p.Page},
			func(_ *incident.Incident, _ *incident.Escalation, pg *incident.Page) error {
				if pg.State == incident.PageSending {
					pg.State = incident.PageSent
				}
				return nil
			})
	}, nil
}

// channelURL links to the incident's channel, for providers outside Slack.
func (h *Handlers) channelURL(inc *incident.Incident) string {
	if h.cfg.TeamID == "" || inc.ChannelID == "" {
		return ""
	}
	return "https://slack.com/app_redirect?team=" + h.cfg.TeamID + "&channel=" + inc.ChannelID
}

// pagingGiveUp reports a page that failed for good: on the page, on the
// timeline and in the channel. The escalation goes on regardless.
func (h *Handlers) pagingGiveUp(tx *store.Tx, job store.Job, cause error) error {
	var p struct {
		providerJob
		Group string `json:"group"`
	}
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return nil
	}
	inc, err := tx.Incident(p.Incident)
	if err != nil || inc.ChannelID == "" {
		return nil
	}
	r := &request{tx: tx, now: h.now()}
	who := "someone"
	if e, err := inc.Escalation(p.Escalation); err == nil {
		if pg, err := e.Page(p.Page); err == nil {
			pg.State, pg.Error = incident.PageFailed, clip(cause.Error(), 200)
			who = targetName(pg.Target)
			if pg.User.ID != "" {
				who = mention(pg.User)
			}
		} else if t := p.Target + p.Group; t != "" {
			who = targetName(incident.Target(t))
		}
	}
	if err := tx.PutIncident(inc); err != nil {
		return err
	}
	what := "page " + who
	if p.Action == "acknowledge" || p.Action == "resolve" {
		what = fmt.Sprintf("tell %s that the incident was %s", who, actionDone(p.Action))
	}
	text := fmt.Sprintf("Could not %s: %s", what, clip(cause.Error(), 300))
	if err := r.timelineEvent(inc, "page_failed", text); err != nil {
		return err
	}
	return r.post(inc.ChannelID, ":warning: "+safe(text)+". Page someone else with `"+h.cfg.Command+" page`.", nil)
}

// actionDone is a provider action in the past tense.
func actionDone(action string) string {
	return map[string]string{"trigger": "paged", "acknowledge": "acknowledged", "resolve": "resolved"}[action]
}

// isPagingJob reports whether a job belongs to paging, for GiveUp.
func isPagingJob(kind string) bool {
	return kind == jobPageDM || kind == jobPageProvider || kind == jobPageGroup
}
