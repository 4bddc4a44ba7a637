package handlers

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

// Paging: /incident page starts an escalation, whose state lives in the
// incident record. Every step is a transaction: a timer, a click on
// Acknowledge or Decline, and a resolve each read the escalation, change it,
// and enqueue the pages that follow, so they cannot interleave. A timer that
// fires after an acknowledgement finds the escalation no longer active (or at
// another step) and does nothing.

// Job kinds and action ids of paging.
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

// pageJob names one page of an escalation.
type pageJob struct {
	Incident   int64 `json:"incident"`
	Escalation int   `json:"escalation"`
	Page       int   `json:"page"`
}

// groupJob expands a user group of an escalation step into pages.
type groupJob struct {
	Incident   int64  `json:"incident"`
	Escalation int    `json:"escalation"`
	Step       int    `json:"step"`
	Group      string `json:"group"`
}

// escalateJob is an escalation's timer for one step.
type escalateJob struct {
	Incident   int64 `json:"incident"`
	Escalation int   `json:"escalation"`
	Step       int   `json:"step"`
}

// providerJob sends one event to a paging provider: a page's trigger, or an
// acknowledge or resolve for a target paged before.
type providerJob struct {
	Incident   int64  `json:"incident"`
	Escalation int    `json:"escalation"`
	Page       int    `json:"page,omitempty"`
	Target     string `json:"target"`
	Action     string `json:"action"`
	// By is who acknowledged or resolved, for the provider's note.
	By string `json:"by,omitempty"`
}

// pagingCommands are the paging commands.
func (h *Handlers) pagingCommands() map[string]commandFunc {
	return map[string]commandFunc{"page": h.pageCommand, "oncall": h.oncallCommand, "ack": h.ackCommand}
}

// pagingRunners are the paging job runners.
func (h *Handlers) pagingRunners() map[string]runFunc {
	return map[string]runFunc{
		jobPageDM:       decoded(h.runPageDM),
		jobPageGroup:    decoded(h.runPageGroup),
		jobPageProvider: h.runPageProvider,
		jobPageUpdateDM: decoded(h.runPageUpdateDM),
		jobPageEscalate: decoded(h.runPageEscalate),
	}
}

var (
	groupMention = regexp.MustCompile(`^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$`)
	userMention1 = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
	bareID       = regexp.MustCompile(`^[UWS][A-Z0-9]{6,}$`)
)

// pageCommand handles "/incident page <policy|@user|@group…> [message]".
func (h *Handlers) pageCommand(r *request, args string) (string, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return "", err
	}
	if !inc.Open() {
		return "", incident.Problemf(incident.ErrResolved, "%s is resolved, so I page nobody for it", inc.Ref())
	}
	word, rest := nextWord(args)
	if word == "" {
		return "", incident.Invalid("Whom should I page?", h.pageHint())
	}
	if p, ok := h.cfg.Policies.Get(word); ok {
		// One escalation per policy at a time: a second would page the same
		// people twice, and acknowledging one would not stop the other.
		for _, e := range inc.ActiveEscalations() {
			if e.Policy == p.Name {
				return "", incident.Invalid(fmt.Sprintf("%s is already paging %s (level %d of %d, since %s).", inc.Ref(), p.Name,
					e.Level+1, len(e.Levels), incident.FormatTime(e.Started)),
					fmt.Sprintf("Wait for an acknowledgement, or page someone else now with %s page @someone.", h.cfg.Command))
			}
		}
		return "", h.startEscalation(r, inc, p.Name, p.Levels, p.Repeat, strings.TrimSpace(rest))
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
		word, rest = nextWord(args)
	}
	if len(targets) == 0 {
		return "", incident.Invalid(fmt.Sprintf("%q is not a policy, a person or a user group.", safe(clip(word, 40))), h.pageHint())
	}
	level := []incident.Level{{Targets: targets, Timeout: incident.DirectPageTimeout}}
	// A direct page asks twice before it reports that nobody answered.
	return "", h.startEscalation(r, inc, "", level, 1, strings.TrimSpace(args))
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

func (h *Handlers) pageHint() string {
	hint := fmt.Sprintf("Type %s page @ana Checkout is down, or %s page @platform-oncall", h.cfg.Command, h.cfg.Command)
	if !h.cfg.Policies.Empty() {
		hint = fmt.Sprintf("Type %s page %s Checkout is down, or %s page @ana. Policies: %s (%s oncall shows them)",
			h.cfg.Command, h.cfg.Policies.List[0].Name, h.cfg.Command, strings.Join(h.policyNames(), ", "), h.cfg.Command)
	}
	return hint
}

func (h *Handlers) policyNames() []string {
	var names []string
	if h.cfg.Policies != nil {
		for _, p := range h.cfg.Policies.List {
			names = append(names, p.Name)
		}
	}
	return names
}

// startEscalation begins an escalation and pages its first level.
func (h *Handlers) startEscalation(r *request, inc *incident.Incident, policy string, levels []incident.Level, repeat int, message string) error {
	e, err := inc.StartEscalation(policy, levels, repeat, r.user, message, r.now)
	if err != nil {
		return err
	}
	return h.pageStep(r, inc, e)
}

// pageStep pages the targets of the escalation's current step, says so,
// and sets the timer for the next one. It writes the incident.
func (h *Handlers) pageStep(r *request, inc *incident.Incident, e *incident.Escalation) error {
	var who []string
	for _, t := range e.Targets() {
		who = append(who, targetName(t))
		switch t.Kind() {
		case incident.TargetUser:
			if p := e.AddPage(incident.Page{Target: t, User: incident.User{ID: string(t)}, At: r.now}); p != nil {
				if err := r.enqueue("dm:"+string(t), jobPageDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: p.ID}); err != nil {
					return err
				}
			}
		case incident.TargetGroup:
			if err := r.enqueue("group:"+string(t), jobPageGroup, groupJob{Incident: inc.ID, Escalation: e.ID, Step: e.Step, Group: string(t)}); err != nil {
				return err
			}
		default:
			if p := e.AddPage(incident.Page{Target: t, At: r.now}); p != nil {
				if err := r.enqueue("provider:"+t.Value(), jobPageProvider, providerJob{Incident: inc.ID, Escalation: e.ID,
					Page: p.ID, Target: string(t), Action: "trigger"}); err != nil {
					return err
				}
			}
		}
	}
	level := fmt.Sprintf("level %d of %d", e.Level+1, len(e.Levels))
	if e.Round > 0 {
		level += fmt.Sprintf(", repeat %d of %d", e.Round, e.Repeat)
	}
	text := fmt.Sprintf("Paging %s (%s): %s — by %s", e.Name(), level, strings.Join(who, ", "), mention(e.By))
	if e.Step > 0 {
		text = fmt.Sprintf("Nobody acknowledged yet; paging %s (%s): %s", e.Name(), level, strings.Join(who, ", "))
	}
	if e.Message != "" && e.Step == 0 {
		text += ": " + e.Message
	}
	if err := r.tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.timelineEvent(inc, "paged", text); err != nil {
		return err
	}
	next := "I page the next level"
	if e.Level == len(e.Levels)-1 {
		next = "I page the first level again"
		if e.Round == e.Repeat {
			next = "I tell this channel that nobody answered"
		}
	}
	post := fmt.Sprintf(":pager: %s. If nobody acknowledges within %s, %s.", safe(text), incident.FormatDuration(e.Levels[e.Level].Timeout), next)
	if err := r.post(inc.ChannelID, post, nil); err != nil {
		return err
	}
	// Its own lane: a waiting timer must not hold up other jobs.
	return r.tx.EnqueueJSON(fmt.Sprintf("escalate:%d:%d:%d", inc.ID, e.ID, e.Step), jobPageEscalate,
		escalateJob{Incident: inc.ID, Escalation: e.ID, Step: e.Step}, r.now, e.Due)
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
// left, the news that nobody acknowledged. It writes the incident.
func (h *Handlers) escalate(r *request, inc *incident.Incident, e *incident.Escalation) error {
	if e.Advance(r.now) {
		return h.pageStep(r, inc, e)
	}
	var tried []string
	for _, p := range e.Tried() {
		if p.User.ID != "" {
			tried = append(tried, mention(p.User))
		} else {
			tried = append(tried, targetName(p.Target))
		}
	}
	text := fmt.Sprintf("Nobody acknowledged the %s after every level and repeat. Tried: %s", e.Name(), strings.Join(tried, ", "))
	if err := r.tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.timelineEvent(inc, "page_unanswered", text); err != nil {
		return err
	}
	return r.post(inc.ChannelID, fmt.Sprintf(":warning: %s. Page someone else with `%s page @someone`; a late Acknowledge still counts.",
		text, h.cfg.Command), nil)
}

// pagingAction handles a click on a page DM's Acknowledge or Decline.
func (h *Handlers) pagingAction(r *request, _ slack.InteractionCallback, a *slack.BlockAction) error {
	parts := strings.Split(a.Value, ":")
	if len(parts) != 3 {
		return nil // not ours: a malformed value changes nothing
	}
	id, _ := strconv.ParseInt(parts[0], 10, 64)
	escID, _ := strconv.Atoi(parts[1])
	inc, err := r.tx.Incident(id)
	if err != nil {
		return nil
	}
	e, err := inc.Escalation(escID)
	if err != nil {
		return nil
	}
	switch a.ActionID {
	case actionPageAck:
		return h.acknowledge(r, inc, e)
	case actionPageDecl:
		return h.decline(r, inc, e)
	}
	return nil
}

// acknowledge stops an escalation because r.user is on it.
func (h *Handlers) acknowledge(r *request, inc *incident.Incident, e *incident.Escalation) error {
	// A resolved incident takes no acknowledgement, even of paging that ran out.
	if !inc.Open() || !e.Acknowledge(r.user, r.now) {
		return h.pageEnded(r, inc, e)
	}
	if inc.Times.Acknowledged.IsZero() {
		inc.Times.Acknowledged = r.now
	}
	text := fmt.Sprintf("Page acknowledged by %s (%s, %s after paging)", mention(r.user), e.Name(),
		incident.FormatDuration(r.now.Sub(e.Started)))
	// The summary and topic show nothing of paging: no refresh needed.
	if err := r.tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.timelineEvent(inc, "acknowledged", text); err != nil {
		return err
	}
	if err := r.enqueue(inc.ChannelID, jobInvite, inviteJob{Channel: inc.ChannelID, Users: []string{r.user.ID}}); err != nil {
		return err
	}
	if err := r.post(inc.ChannelID, ":white_check_mark: "+text+". Paging stopped.", nil); err != nil {
		return err
	}
	return h.settlePages(r, inc, e, "acknowledge")
}

// pageEnded tells someone who answered a page that it no longer waits for
// an answer, and where the incident is.
func (h *Handlers) pageEnded(r *request, inc *incident.Incident, e *incident.Escalation) error {
	text := fmt.Sprintf("%s's page was already acknowledged by %s at %s. The incident channel: %s",
		inc.Ref(), mention(e.AckedBy), incident.FormatTime(e.AckedAt), channelLink(inc))
	if e.State != incident.EscalationAcknowledged {
		text = fmt.Sprintf("Paging for %s had stopped (%s). The incident channel: %s", inc.Ref(), inc.Status.Title(), channelLink(inc))
	}
	return r.enqueue("user:"+r.user.ID, jobEphemeral, ephemeralJob{Channel: r.channel, User: r.user.ID, Text: text})
}

// decline records r.user's decline and, if theirs was the current level,
// moves on at once.
func (h *Handlers) decline(r *request, inc *incident.Incident, e *incident.Escalation) error {
	if !inc.Open() || e.State == incident.EscalationAcknowledged || e.State == incident.EscalationCancelled {
		return h.pageEnded(r, inc, e) // nothing is waiting for this answer any more
	}
	moveOn := e.Decline(r.user)
	if err := r.tx.PutIncident(inc); err != nil {
		return err
	}
	if err := r.timelineEvent(inc, "declined", fmt.Sprintf("%s declined the page (%s)", mention(r.user), e.Name())); err != nil {
		return err
	}
	for _, p := range e.Pages {
		if p.User.ID == r.user.ID {
			if err := r.enqueue("dm:"+p.User.ID, jobPageUpdateDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: p.ID}); err != nil {
				return err
			}
		}
	}
	if !moveOn {
		return nil
	}
	if err := r.post(inc.ChannelID, fmt.Sprintf(":no_entry: %s declined the page; moving on now.", mention(r.user)), nil); err != nil {
		return err
	}
	return h.escalate(r, inc, e)
}

// settlePages updates every page DM of an escalation that ended and tells
// its providers (acknowledge or resolve).
func (h *Handlers) settlePages(r *request, inc *incident.Incident, e *incident.Escalation, action string) error {
	told := map[incident.Target]bool{}
	for _, p := range e.Pages {
		switch {
		case p.User.ID != "" && p.TS != "":
			if err := r.enqueue("dm:"+p.User.ID, jobPageUpdateDM, pageJob{Incident: inc.ID, Escalation: e.ID, Page: p.ID}); err != nil {
				return err
			}
		case p.Target.Provider() && !told[p.Target] && p.State != incident.PageFailed && p.State != incident.PageSkipped:
			told[p.Target] = true
			if err := r.enqueue("provider:"+p.Target.Value(), jobPageProvider, providerJob{Incident: inc.ID, Escalation: e.ID,
				Target: string(p.Target), Action: action, By: cmp.Or(r.user.Name, r.user.ID)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopPaging ends an incident's escalations when it is resolved, and
// resolves what the providers were told. The caller writes the incident.
func (h *Handlers) stopPaging(r *request, inc *incident.Incident) error {
	for i := range inc.Escalations {
		e := &inc.Escalations[i]
		if e.Cancel(r.now) {
			if err := r.timelineEvent(inc, "paging_stopped", fmt.Sprintf("Paging (%s) stopped: the incident is resolved", e.Name())); err != nil {
				return err
			}
		}
		if err := h.settlePages(r, inc, e, "resolve"); err != nil {
			return err
		}
	}
	return nil
}

// autoPage pages the policy mapped to the incident's severity, once per
// policy, when the incident is declared or upgraded to that severity.
func (h *Handlers) autoPage(r *request, inc *incident.Incident) error {
	p, ok := h.cfg.Policies.ForSeverity(inc.Severity)
	if !ok || !inc.Open() || inc.Escalated(p.Name) || inc.ChannelID == "" {
		return nil
	}
	by := r.user
	if by.ID == "" {
		by = inc.DeclaredBy
	}
	saved := r.user
	r.user = by
	defer func() { r.user = saved }()
	msg := fmt.Sprintf("%s incidents page %s automatically", inc.Severity.Label(), p.Name)
	return h.startEscalation(r, inc, p.Name, p.Levels, p.Repeat, msg)
}

// oncallCommand shows the escalation policies.
func (h *Handlers) oncallCommand(_ *request, _ string) (string, error) {
	if h.cfg.Policies.Empty() {
		return fmt.Sprintf("No escalation policies are configured (INCIDENTBOT_ESCALATION_FILE). You can still page people directly: `%s page @ana`.", h.cfg.Command), nil
	}
	lines := []string{"*Escalation policies* — page one with `" + h.cfg.Command + " page <policy> [message]`:"}
	auto := map[string][]string{}
	for _, s := range incident.Severities {
		if p, ok := h.cfg.Policies.ForSeverity(s); ok {
			auto[p.Name] = append(auto[p.Name], s.Label())
		}
	}
	for _, p := range h.cfg.Policies.List {
		line := "• *" + p.Name + "*"
		if p.Description != "" {
			line += " — " + safe(p.Description)
		}
		for i, l := range p.Levels {
			var who []string
			for _, t := range l.Targets {
				who = append(who, targetName(t))
			}
			line += fmt.Sprintf("\n    %d. %s, then %s", i+1, strings.Join(who, ", "), incident.FormatDuration(l.Timeout))
		}
		if p.Repeat > 0 {
			line += fmt.Sprintf("\n    repeated %d more time(s)", p.Repeat)
		}
		if s := auto[p.Name]; len(s) > 0 {
			line += "\n    paged automatically for " + strings.Join(s, ", ")
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

// ackCommand acknowledges the incident's active escalations: for someone
// reached through PagerDuty or a phone, who has no DM button to press.
func (h *Handlers) ackCommand(r *request, _ string) (string, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return "", err
	}
	// Paging that ran out still takes a late acknowledgement, as its DMs do.
	var waiting []*incident.Escalation
	for i := range inc.Escalations {
		if e := &inc.Escalations[i]; inc.Open() && (e.Active() || e.State == incident.EscalationExhausted) {
			waiting = append(waiting, e)
		}
	}
	if len(waiting) == 0 {
		return fmt.Sprintf("Nothing to acknowledge: no page of %s is waiting for an answer.", inc.Ref()), nil
	}
	for _, e := range waiting {
		if err := h.acknowledge(r, inc, e); err != nil {
			return "", err
		}
	}
	return "", nil
}
