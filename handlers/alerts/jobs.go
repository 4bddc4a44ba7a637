package alerts

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// load reads a job's alert, with what its message shows of others: the
// incident declared from it and, for a storm alert, the alerts it gathered.
func (m *Module) load(id int64) (*incident.AlertRecord, renderView, error) {
	var a *incident.AlertRecord
	v := renderView{Command: m.command(), Now: m.h.Now()}
	err := m.h.View(func(tx *store.Tx) error {
		var err error
		if a, err = tx.Alert(id); err != nil {
			return err
		}
		if a.Incident != 0 {
			if inc, err := tx.Incident(a.Incident); err == nil {
				v.IncidentRef, v.IncidentChannel = inc.Ref(), inc.ChannelID
			}
		}
		for i, g := range a.Gathered {
			if i == stormShown {
				break
			}
			if x, err := tx.Alert(g); err == nil {
				v.StormMembers = append(v.StormMembers, x)
			}
		}
		return nil
	})
	if err != nil {
		return nil, v, bot.Final(err)
	}
	return a, v, nil
}

// stormShown is how many gathered alerts a storm alert's message lists.
const stormShown = 10

// runPost posts a new alert's message, once (handlers.PostOnce), and
// records where it is. A change made while it was on its way is drawn by a
// redraw right after.
func (m *Module) runPost(ctx context.Context, p alertJob) (func(*store.Tx) error, error) {
	a, v, err := m.load(p.Alert)
	if err != nil || a.TS != "" || a.Storm != 0 {
		return nil, err
	}
	text, blocks := renderAlert(a, v)
	ts, err := m.h.PostOnce(ctx, a.Channel, "", slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		return nil, err
	}
	drawn := a.Version
	return func(tx *store.Tx) error {
		a, err := tx.Alert(p.Alert)
		if err != nil {
			return err
		}
		a.TS = ts
		if err := tx.PutAlert(a); err != nil {
			return err
		}
		// An incident declared before the message was recorded (a click
		// racing this commit, or declare: at once) gets its link now.
		if a.Incident != 0 {
			if inc, err := tx.Incident(a.Incident); err == nil && inc.ChannelID != "" {
				if err := m.linkSummary(m.h.NewRequest(tx), a, inc, true); err != nil {
					return err
				}
			}
		}
		if a.Version != drawn {
			return m.h.NewRequest(tx).EnqueueThrottled(bot.AlertLane(a.ID), jobAlertUpdate, alertJob{Alert: a.ID, Version: a.Version})
		}
		return nil
	}, nil
}

// runUpdate redraws an alert's message, unless a later redraw is queued
// (its version is newer) or the message is not posted yet (runPost draws
// the latest state).
func (m *Module) runUpdate(ctx context.Context, p alertJob) (func(*store.Tx) error, error) {
	a, v, err := m.load(p.Alert)
	if err != nil || a.TS == "" || p.Version < a.Version {
		return nil, err
	}
	text, blocks := renderAlert(a, v)
	_, _, _, err = m.h.API().UpdateMessageContext(ctx, a.Channel, a.TS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if handlers.IsAPIError(err, "message_not_found", "channel_not_found", "cant_update_message") {
		m.h.Log().Warn().Err(err).Str("alert", a.Ref()).Msg("the alert's message is gone; not redrawn")
		return nil, nil
	}
	return nil, err
}

// runQuiet ends an alert's quiet period: it pages the route's target if the
// alert still fires and nobody acknowledged it meanwhile.
func (m *Module) runQuiet(_ context.Context, p alertJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		a, err := tx.Alert(p.Alert)
		if errors.Is(err, incident.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if !a.Open() || a.Acknowledged() || len(a.Escalations) > 0 {
			return nil
		}
		route, ok := m.route(a.Route)
		if !ok {
			return nil // the route was removed from the file since
		}
		r := m.h.NewRequest(tx)
		return m.cfg.Pager.PageAlert(r, a, route.Page, "")
	}, nil
}
