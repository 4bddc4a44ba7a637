package paging

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Paging: /incident page starts an escalation, whose state lives in the
// incident record (an alert's in the alert record: alert.go). Every step is
// a transaction: a timer, a click on Acknowledge or Decline, and a resolve
// each read the escalation, change it, and enqueue the pages that follow,
// so they cannot interleave. A timer that fires after an acknowledgement
// finds the escalation no longer active (or at another step) and does
// nothing.

// handlers.Job kinds and action ids of paging.
const (
	jobPageDM       = "page_dm"
	jobPageGroup    = "page_group"
	jobPageProvider = "page_provider"
	jobPageUpdateDM = "page_update_dm"
	jobPageEscalate = "page_escalate"
	actionPageAck   = "page_ack"
	actionPageDecl  = "page_decline"
)

// pagingActionPrefix starts the action ids of page buttons.
const pagingActionPrefix = "page_"

var (
	groupMention = regexp.MustCompile(`^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$`)
	userMention1 = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
	bareID       = regexp.MustCompile(`^[UWS][A-Z0-9]{6,}$`)
)

// pageCommand handles "/incident page <policy|@user|@group…> [message]".
func (m *Module) pageCommand(r *handlers.Request, args string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	if !inc.Open() {
		return "", incident.Problemf(incident.ErrResolved, "%s is resolved, so I page nobody for it", inc.Ref())
	}
	word, rest := handlers.NextWord(args)
	if word == "" {
		return "", incident.Invalid("Whom should I page?", m.pageHint())
	}
	if p, ok := m.cfg.Policies.Get(word); ok {
		// One escalation per policy at a time: a second would page the same
		// people twice, and acknowledging one would not stop the other.
		for _, e := range inc.ActiveEscalations() {
			if e.Policy == p.Name {
				return "", incident.Invalid(fmt.Sprintf("%s is already paging %s (level %d of %d, since %s).", inc.Ref(), p.Name,
					e.Level+1, len(e.Levels), incident.FormatTime(e.Started)),
					fmt.Sprintf("Wait for an acknowledgement, or page someone else now with %s page @someone.", m.command()))
			}
		}
		return "", m.startEscalation(r, inc, p.Name, p.Levels, p.Repeat, strings.TrimSpace(rest))
	}
	// People and groups, named at the start; the rest is the message.
	var targets []incident.Target
	for word != "" {
		t, ok := directTarget(word)
		if !ok {
			break
		}
		targets = appendTarget(targets, t)
		args = rest
		word, rest = handlers.NextWord(args)
	}
	if len(targets) == 0 {
		return "", incident.Invalid(fmt.Sprintf("%q is not a policy, a person or a user group.", handlers.Clip(word, 40)), m.pageHint())
	}
	level := []incident.Level{{Targets: targets, Timeout: incident.DirectPageTimeout}}
	// A direct page asks twice before it reports that nobody answered.
	return "", m.startEscalation(r, inc, "", level, 1, strings.TrimSpace(args))
}

func directTarget(word string) (incident.Target, bool) {
	if m := userMention1.FindStringSubmatch(word); m != nil {
		return incident.Target(m[1]), true
	}
	if m := groupMention.FindStringSubmatch(word); m != nil {
		return incident.Target(m[1]), true
	}
	// Slack ids have digits: "SECURITY" or "WEBSITE" is a word, not an id.
	if bareID.MatchString(word) && strings.ContainsAny(word, "0123456789") {
		return incident.Target(word), true
	}
	return "", false
}

func appendTarget(ts []incident.Target, t incident.Target) []incident.Target {
	for _, o := range ts {
		if o == t {
			return ts
		}
	}
	return append(ts, t)
}

func (m *Module) pageHint() string {
	hint := fmt.Sprintf("Type %s page @ana Checkout is down, or %s page @platform-oncall", m.command(), m.command())
	if !m.cfg.Policies.Empty() {
		hint = fmt.Sprintf("Type %s page %s Checkout is down, or %s page @ana. Policies: %s (%s oncall shows them)",
			m.command(), m.cfg.Policies.List[0].Name, m.command(), strings.Join(m.policyNames(), ", "), m.command())
	}
	return hint
}

func (m *Module) policyNames() []string {
	var names []string
	if m.cfg.Policies != nil {
		for _, p := range m.cfg.Policies.List {
			names = append(names, p.Name)
		}
	}
	return names
}

// startEscalation begins an escalation of an incident and pages its first
// level.
func (m *Module) startEscalation(r *handlers.Request, inc *incident.Incident, policy string, levels []incident.Level, repeat int, message string) error {
	e, err := inc.StartEscalation(policy, levels, repeat, r.User, message, r.Now)
	if err != nil {
		return err
	}
	return m.pageStep(r, incidentSubject{inc}, e)
}

// pageStep pages the targets of the escalation's current step, says so,
// and sets the timer for the next one. Who declined is skipped for the rest
// of the escalation; a step left with nobody to page moves on at once. It
// writes the subject.
func (m *Module) pageStep(r *handlers.Request, s subject, e *incident.Escalation) error {
	k := s.key()
	var who []string
	for _, t := range e.Targets() {
		if t.Kind() == incident.TargetUser && e.Declined(string(t)) {
			continue
		}
		who = append(who, targetName(t))
		switch t.Kind() {
		case incident.TargetUser:
			if p := e.AddPage(incident.Page{Target: t, User: incident.User{ID: string(t)}, At: r.Now}); p != nil {
				if err := r.Enqueue(bot.DMLane(string(t)), jobPageDM, k.page(e, p)); err != nil {
					return err
				}
			}
		case incident.TargetSchedule:
			name, err := m.pageSchedule(r, s, e, t)
			if err != nil {
				return err
			}
			if name == "" {
				who = who[:len(who)-1] // nobody on call, or they declined
				continue
			}
			who[len(who)-1] = name
		case incident.TargetGroup:
			if err := r.Enqueue(bot.GroupLane(string(t)), jobPageGroup, groupJob{subjectKey: k, Escalation: e.ID, Step: e.Step, Group: string(t)}); err != nil {
				return err
			}
		default:
			if p := e.AddPage(incident.Page{Target: t, At: r.Now}); p != nil {
				if err := r.Enqueue(bot.ProviderLane(string(t)), jobPageProvider, providerJob{subjectKey: k, Escalation: e.ID,
					Page: p.ID, Target: string(t), Action: "trigger"}); err != nil {
					return err
				}
			}
		}
	}
	if len(who) == 0 {
		return m.escalate(r, s, e) // everyone at this level declined
	}
	level := fmt.Sprintf("level %d of %d", e.Level+1, len(e.Levels))
	if e.Round > 0 {
		level += fmt.Sprintf(", repeat %d of %d", e.Round, e.Repeat)
	}
	text := fmt.Sprintf("Paging %s (%s): %s — by %s", e.Name(), level, strings.Join(who, ", "), s.about().pagedBy(e))
	if e.Step > 0 {
		text = fmt.Sprintf("Nobody acknowledged yet; paging %s (%s): %s", e.Name(), level, strings.Join(who, ", "))
	}
	if e.Message != "" && e.Step == 0 {
		text += ": " + e.Message
	}
	if err := s.save(r); err != nil {
		return err
	}
	if err := s.record(r, "paged", text); err != nil {
		return err
	}
	next := "I page the next level"
	if e.Level == len(e.Levels)-1 {
		next = "I page the first level again"
		if e.Round == e.Repeat {
			next = "I tell this channel that nobody answered"
		}
	}
	post := fmt.Sprintf(":pager: %s. If nobody acknowledges within %s, %s.", handlers.Safe(text), incident.FormatDuration(e.Levels[e.Level].Timeout), next)
	if err := s.say(r, post); err != nil {
		return err
	}
	// Its own lane: a waiting timer must not hold up other jobs.
	return r.EnqueueAt(k.escalationLane(e), jobPageEscalate, escalateJob{subjectKey: k, Escalation: e.ID, Step: e.Step}, e.Due)
}

// targetName shows a target in Slack without pinging a whole group.
func targetName(t incident.Target) string {
	switch t.Kind() {
	case incident.TargetUser:
		return "<@" + string(t) + ">"
	case incident.TargetGroup:
		return "user group " + string(t)
	}
	return "`" + t.Redacted() + "`"
}

// escalate moves an active escalation on: the next level, or, when none is
// left, the news that nobody acknowledged. It writes the subject.
func (m *Module) escalate(r *handlers.Request, s subject, e *incident.Escalation) error {
	if e.Advance(r.Now) {
		return m.pageStep(r, s, e)
	}
	var tried []string
	for _, p := range e.Tried() {
		switch {
		case e.Declined(p.User.ID):
			tried = append(tried, handlers.Mention(p.User)+" (declined)")
		case p.User.ID != "":
			tried = append(tried, handlers.Mention(p.User))
		default:
			tried = append(tried, targetName(p.Target))
		}
	}
	text := fmt.Sprintf("Nobody acknowledged the %s after every level and repeat. Tried: %s", e.Name(), strings.Join(tried, ", "))
	if err := s.save(r); err != nil {
		return err
	}
	if err := s.record(r, "page_unanswered", text); err != nil {
		return err
	}
	return s.say(r, fmt.Sprintf(":warning: %s. Page someone else with `%s page @someone`; a late Acknowledge still counts.",
		text, m.command()))
}

// settlePages updates every page DM of an escalation that ended and tells
// its providers (acknowledge or resolve).
func (m *Module) settlePages(r *handlers.Request, s subject, e *incident.Escalation, action string) error {
	k := s.key()
	told := map[incident.Target]bool{}
	for i := range e.Pages {
		p := &e.Pages[i]
		switch {
		case p.User.ID != "" && p.TS != "":
			if err := r.Enqueue(bot.DMLane(p.User.ID), jobPageUpdateDM, k.page(e, p)); err != nil {
				return err
			}
		case p.Target.Provider() && !told[p.Target] && p.State != incident.PageFailed && p.State != incident.PageSkipped:
			told[p.Target] = true
			if err := r.Enqueue(bot.ProviderLane(string(p.Target)), jobPageProvider, providerJob{subjectKey: k, Escalation: e.ID,
				Target: string(p.Target), Action: action, By: cmp.Or(r.User.Name, r.User.ID)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopPaging ends an incident's escalations when it is resolved, and
// resolves what the providers were told. The caller writes the incident.
func (m *Module) stopPaging(r *handlers.Request, inc *incident.Incident) error {
	return m.stop(r, incidentSubject{inc}, inc.Escalations)
}

// stop cancels the active escalations of a subject that was resolved,
// redraws every page DM and tells the providers paged to resolve. The
// caller writes the subject.
func (m *Module) stop(r *handlers.Request, s subject, es incident.Escalations) error {
	for i := range es {
		e := &es[i]
		if e.Cancel(r.Now) {
			if err := s.record(r, "paging_stopped", fmt.Sprintf("Paging (%s) stopped: the incident is resolved", e.Name())); err != nil {
				return err
			}
		}
		if err := m.settlePages(r, s, e, "resolve"); err != nil {
			return err
		}
	}
	return nil
}

// autoPage pages the policy mapped to the incident's severity, once per
// policy, when the incident is declared or upgraded to that severity.
func (m *Module) autoPage(r *handlers.Request, inc *incident.Incident) error {
	p, ok := m.cfg.Policies.ForSeverity(inc.Severity)
	if !ok || !inc.Open() || inc.Escalated(p.Name) || inc.ChannelID == "" {
		return nil
	}
	by := r.User
	if by.ID == "" {
		by = inc.DeclaredBy
	}
	saved := r.User
	r.User = by
	defer func() { r.User = saved }()
	msg := fmt.Sprintf("%s incidents page %s automatically", inc.Severity.Label(), p.Name)
	return m.startEscalation(r, inc, p.Name, p.Levels, p.Repeat, msg)
}
