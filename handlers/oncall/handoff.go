package oncall

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Handoffs. Each schedule has one persisted timer job, oncall_handoff, due
// at its next handoff (Schedule.Next) in a lane of its own; it announces
// whoever is on call then and sets the next. An override adds a one-shot
// check at its start and end, each in its own lane (a waiting job holds up
// its lane). Every check compares who is on call with the last handoff
// announced (store.SetHandoff), in the commit that announces it, so a
// handoff is announced once whatever runs it: a handoff that fell due while
// the bot was down is announced on restart (only the latest, once), and a
// restart mid-shift announces nothing. Start enqueues the first timer of a
// schedule that has none, before the bot starts dispatching.

const (
	jobHandoff   = "oncall_handoff"
	jobUsergroup = "oncall_usergroup"
)

// handoffJob checks a schedule's handoff; Chain jobs set the next one.
type handoffJob struct {
	Schedule string `json:"schedule"`
	Chain    bool   `json:"chain,omitempty"`
}

// usergroupJob sets a user group's members.
type usergroupJob struct {
	Group string   `json:"group"`
	Users []string `json:"users"`
}

// idle is when a schedule with nobody ahead within Next's horizon is looked at again.
const idle = 30 * 24 * time.Hour

func chainLane(s *incident.Schedule) string {
	return bot.TimerLane(jobHandoff + ":" + strings.ToLower(s.Name))
}

// Start enqueues, for each schedule without one, the handoff timer (due
// now: it records who is on call and sets the next). The app calls it once
// the database is open, before the bot runs. It also enqueues a read of
// every calendar feed (see feed.go).
func (m *Module) Start(db *store.DB) error {
	if m.cfg.Policies == nil || len(m.cfg.Policies.Schedules) == 0 {
		return nil
	}
	return db.Update(func(tx *store.Tx) error {
		jobs, err := tx.Jobs()
		if err != nil {
			return err
		}
		pending := map[string]bool{}
		for _, j := range jobs {
			if j.Kind == jobHandoff {
				var p handoffJob
				if json.Unmarshal(j.Payload, &p) == nil && p.Chain {
					pending[strings.ToLower(p.Schedule)] = true
				}
			}
		}
		now := m.h.Now()
		for i := range m.cfg.Policies.Schedules {
			s := &m.cfg.Policies.Schedules[i]
			if !pending[strings.ToLower(s.Name)] {
				if err := tx.EnqueueJSON(chainLane(s), jobHandoff, handoffJob{Schedule: s.Name, Chain: true}, now, now); err != nil {
					return err
				}
			}
		}
		return m.startFeeds(tx, jobs, now)
	})
}

// overrideChanged checks the schedule's handoff at an override's start
// (now, if it has begun) and at its end.
func (m *Module) overrideChanged(r *handlers.Request, s *incident.Schedule, o incident.Override) error {
	for i, at := range []time.Time{o.From, o.To} {
		if at.Before(r.Now) {
			at = r.Now
		}
		lane := bot.TimerLane(jobHandoff+":"+strings.ToLower(s.Name), int64(o.ID), int64(i))
		if err := r.EnqueueAt(lane, jobHandoff, handoffJob{Schedule: s.Name}, at); err != nil {
			return err
		}
	}
	return nil
}

// enqueueCheck checks the schedule's handoff now (an override was removed).
func (m *Module) enqueueCheck(r *handlers.Request, s *incident.Schedule) error {
	return r.Enqueue(bot.TimerLane(jobHandoff+":"+strings.ToLower(s.Name), r.Now.UnixNano()), jobHandoff, handoffJob{Schedule: s.Name})
}

// runHandoff calls no Slack API: its commit announces the handoff, if any,
// through the core post jobs, and sets the next timer.
func (m *Module) runHandoff(_ context.Context, p handoffJob) (func(*store.Tx) error, error) {
	return func(tx *store.Tx) error {
		s, ok := m.Schedule(p.Schedule)
		if !ok {
			return nil // gone from the file
		}
		r := m.h.NewRequest(tx)
		ovs, err := overrides(tx, s, r.Now)
		if err != nil {
			return err
		}
		if err := m.handoff(r, s, ovs); err != nil {
			return err
		}
		if !p.Chain {
			return nil
		}
		due := r.Now.Add(idle)
		if s.ICal != "" { // a feed read again may bring a handoff sooner
			due = r.Now.Add(FeedEvery)
		}
		if next, ok := s.Next(r.Now, ovs); ok && next.Start.Before(due) {
			due = next.Start
		}
		return r.EnqueueAt(chainLane(s), jobHandoff, p, due)
	}, nil
}

// handoff announces who is on call now if that is not who was announced
// last. The first check of a schedule only records who is on call: the bot
// starting is not a handoff.
func (m *Module) handoff(r *handlers.Request, s *incident.Schedule, ovs []incident.Override) error {
	cur, ok := s.OnCall(r.Now, ovs)
	last, had, err := r.Tx.LastHandoff(s.Name)
	if err != nil {
		return err
	}
	if !ok {
		if had && last.Who != "" {
			return r.Tx.SetHandoff(s.Name, store.Handoff{Start: r.Now})
		}
		return nil
	}
	if had && last.Who == cur.Who {
		return nil
	}
	if err := r.Tx.SetHandoff(s.Name, store.Handoff{Who: cur.Who, Start: cur.Start}); err != nil {
		return err
	}
	if err := m.syncUsergroup(r, s, cur.Who); err != nil || !had {
		return err
	}
	// Until the end of the person's time on call, across split shifts.
	end := cur.End
	if next, ok := s.Next(r.Now, ovs); ok {
		end = next.Start
	}
	span := fmt.Sprintf("from %s to %s", when(cur.Start, s), when(end, s))
	dm := fmt.Sprintf(":pager: You are on call for %s %s%s.", s.Name, span, overrideMark(cur))
	if err := r.Post(cur.Who, dm, nil); err != nil {
		return err
	}
	if s.HandoffChannel == "" {
		return nil
	}
	text := fmt.Sprintf(":arrows_counterclockwise: Handoff: <@%s> is on call for %s %s%s.", cur.Who, s.Name, span, overrideMark(cur))
	if last.Who != "" {
		text += fmt.Sprintf(" Thanks, <@%s>.", last.Who)
	}
	return r.Post(s.HandoffChannel, text, nil)
}

// syncUsergroup sets the schedule's user group to who is on call.
func (m *Module) syncUsergroup(r *handlers.Request, s *incident.Schedule, who string) error {
	if s.Usergroup == "" || who == "" {
		return nil // Slack keeps no empty user group: the last person stays
	}
	return r.Enqueue(bot.GroupLane(s.Usergroup), jobUsergroup, usergroupJob{Group: s.Usergroup, Users: []string{who}})
}

func (m *Module) runUsergroup(ctx context.Context, p usergroupJob) (func(*store.Tx) error, error) {
	_, err := m.h.API().UpdateUserGroupMembersContext(ctx, p.Group, strings.Join(p.Users, ","))
	if handlers.IsAPIError(err, "no_such_subteam", "missing_scope", "not_allowed_token_type", "permission_denied") {
		err = bot.Final(err)
	}
	return nil, err
}

// logGiveUp logs an on-call job that failed for good: it belongs to no
// incident whose channel could be told.
func (m *Module) logGiveUp(_ *store.Tx, job store.Job, err error) error {
	m.h.Log().Warn().Err(err).Str("kind", job.Kind).RawJSON("payload", job.Payload).Msg("an on-call job failed for good")
	return nil
}
