// Package alerts posts the alerts of monitoring systems to Slack, pages for
// them and lets people acknowledge, resolve and declare incidents from them.
package alerts

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Alert text comes from a webhook, not from Slack, so it is raw text: every
// label, annotation, title, description, value and summary goes through
// renderText (or renderLine), which escapes it into Slack's format first and
// then makes it Safe. Nothing a monitoring system sends can then ping
// anyone, form a link or mention, or open a code block that would swallow
// the bot's own lines. Inline markers (*, _, ~, `) are left as sent: Slack
// never carries them across a line, and the bot's own markup on each line
// comes before the user text, so they can restyle only that text.

// The action ids of an alert message's buttons. Messages already posted
// keep them, so they never change.
const (
	renderActionAck     = "alert_ack"
	renderActionDeclare = "alert_declare"
	renderActionResolve = "alert_resolve"
)

// Limits that keep an alert message within Slack's and readable.
const (
	renderMaxAlerts    = 10   // alerts of a group shown
	renderMaxMembers   = 10   // alerts of a storm shown
	renderMaxListed    = 50   // lines of renderAlertList
	renderTextLimit    = 4000 // the fallback text
	renderMaxName      = 150  // runes of an alert's summary
	renderMaxValue     = 80   // runes of an alert's value
	renderMaxDesc      = 300  // runes of a description
	renderMaxDescLines = 8    // lines of a description
	renderMaxLabels    = 400  // bytes of an alert's labels line
	renderMaxLinks     = 8    // links of one alert
	renderMaxURL       = 1000 // bytes of a link: a longer one would crowd out the rest
)

// renderView is what rendering needs beyond the record.
type renderView struct {
	Command         string                  // the slash command, e.g. "/incident"
	IncidentRef     string                  // "INC-12" when an incident was declared from the alert
	IncidentChannel string                  // its channel id, if known
	Now             time.Time               // for "for 5m" durations
	StormMembers    []*incident.AlertRecord // for a storm alert: the gathered alerts (first 10 shown)
}

// renderAlert renders an alert's message in its route's channel: the text
// fallback and the blocks.
func renderAlert(a *incident.AlertRecord, v renderView) (text string, blocks []slack.Block) {
	head := renderHead(a, v)
	blocks = []slack.Block{
		slack.NewSectionBlock(handlers.Md(renderFit(head, handlers.SectionLimit)), nil, nil),
		slack.NewContextBlock("", handlers.Md(renderFacts(a, v.Now))),
	}
	if a.IsStorm() {
		if s := renderStormMembers(a, v); s != "" {
			blocks = append(blocks, slack.NewSectionBlock(handlers.Md(s), nil, nil))
		}
	} else {
		blocks = append(blocks, renderAlertBlocks(&a.Group)...)
	}
	status := renderStatusLines(a, v)
	if len(status) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(handlers.Md(renderJoin(status, handlers.SectionLimit, nil)), nil, nil))
	}
	if b := renderButtons(a, v); b != nil {
		blocks = append(blocks, b)
	}
	// The fallback is what a notification shows: the head, and the first
	// thing that happened to the alert (resolved, acknowledged, paging).
	text = head
	if len(status) > 0 {
		text += "\n" + status[0]
	}
	return renderFit(text, renderTextLimit), blocks
}

// renderHead is the alert's first line: state, reference, severity, title
// and route; for a storm alert, what the storm is.
func renderHead(a *incident.AlertRecord, v renderView) string {
	head := renderEmoji(a) + " *" + a.Ref() + "*"
	if a.Severity.Valid() {
		head += " · " + a.Severity.String()
	}
	route := renderLine(a.Route, 80)
	if a.IsStorm() {
		head += fmt.Sprintf(" · *Alert storm on route %s*: %s in a minute", route,
			renderPlural(renderStormCount(a, v.StormMembers), "new alert group"))
		if a.Open() {
			head += "; paging once for all of them"
		}
		return head
	}
	// The route comes last, without markup, so that a lone "*" or "_" in
	// the title has nothing of the bot's to pair with.
	return head + " · " + renderLine(a.Title(), incident.MaxAlertSummary) + " · route " + route
}

// renderEmoji shows the alert's state at a glance; resolved wins, since a
// resolved storm or acknowledged alert needs nobody any more.
func renderEmoji(a *incident.AlertRecord) string {
	switch {
	case !a.Open():
		return ":large_green_circle:"
	case a.IsStorm():
		return ":cyclone:"
	case renderAcked(a):
		return ":eyes:"
	}
	return ":red_circle:"
}

// renderAcked reports whether someone acknowledged the alert, on the record
// or on its last escalation (a page's Acknowledge button).
func renderAcked(a *incident.AlertRecord) bool {
	if a.Acknowledged() {
		return true
	}
	n := len(a.Escalations)
	return n > 0 && a.Escalations[n-1].State == incident.EscalationAcknowledged
}

// renderFacts is the context line: when it started, for how long, when the
// bot heard of it and how often.
func renderFacts(a *incident.AlertRecord, now time.Time) string {
	started := a.Started()
	first := "Started " + incident.FormatTime(started)
	switch {
	case !a.Open() && !a.Resolved.IsZero() && a.Resolved.After(started):
		first += " (lasted " + incident.FormatDuration(a.Resolved.Sub(started)) + ")"
	case a.Open() && !started.IsZero() && now.After(started):
		first += " (for " + incident.FormatDuration(now.Sub(started)) + ")"
	}
	parts := []string{first}
	if !a.Received.Equal(started) {
		parts = append(parts, "received "+incident.FormatTime(a.Received))
	}
	n := renderPlural(a.Notifications, "notification")
	if a.Notifications > 1 && a.Updated.After(a.Received) {
		n += ", the last " + incident.FormatTime(a.Updated)
	}
	return strings.Join(append(parts, n), " · ")
}

// renderAlertBlocks shows the group's alerts, firing ones first, one
// section each so that no alert's text can crowd out another's.
func renderAlertBlocks(g *incident.AlertGroup) []slack.Block {
	order := make([]*incident.Alert, 0, len(g.Alerts))
	for i := range g.Alerts {
		order = append(order, &g.Alerts[i])
	}
	sort.SliceStable(order, func(i, j int) bool {
		return order[i].Status == incident.AlertFiring && order[j].Status != incident.AlertFiring
	})
	var blocks []slack.Block
	for _, al := range order[:min(len(order), renderMaxAlerts)] {
		blocks = append(blocks, slack.NewSectionBlock(handlers.Md(renderOneAlert(g, al)), nil, nil))
	}
	var more []string
	if n := len(order) - renderMaxAlerts; n > 0 {
		more = append(more, "… and "+renderPlural(n, "more alert"))
	}
	if g.Truncated > 0 {
		more = append(more, fmt.Sprintf("%d more the source left out", g.Truncated))
	}
	if len(more) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", handlers.Md(strings.Join(more, " · "))))
	}
	return blocks
}

// renderOneAlert is one alert of a group: its state and name, the labels
// that tell it from the others, its description and its links.
func renderOneAlert(g *incident.AlertGroup, al *incident.Alert) string {
	name := al.Summary
	for _, n := range []string{al.Labels["alertname"], g.Labels["alertname"], al.Fingerprint} {
		if strings.TrimSpace(name) == "" {
			name = n
		}
	}
	if strings.TrimSpace(name) == "" {
		name = "alert"
	}
	first := "• *Firing*"
	if al.Status != incident.AlertFiring {
		first = "• *Resolved*"
		if !al.EndsAt.IsZero() {
			first += " at " + incident.FormatTime(al.EndsAt)
		}
	}
	first += " · " + renderLine(name, renderMaxName)
	if al.Value != "" {
		first += " · value " + renderLine(al.Value, renderMaxValue)
	}
	lines := []string{first}
	if l := renderLabels(g, al); l != "" {
		lines = append(lines, l)
	}
	if d := renderDescription(al.Description); d != "" {
		lines = append(lines, handlers.Quote(d))
	}
	used := len(strings.Join(lines, "\n"))
	if l := renderLinks(al, handlers.SectionLimit-used-8); l != "" {
		lines = append(lines, l)
	}
	return renderJoin(lines, handlers.SectionLimit, nil)
}

// renderLabels lists the alert's own labels, those not shared by the whole
// group (the title shows those): what tells one instance from another.
func renderLabels(g *incident.AlertGroup, al *incident.Alert) string {
	var keys []string
	for k, v := range al.Labels {
		if gv, ok := g.Labels[k]; k != "alertname" && (!ok || gv != v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	size := 0
	for _, k := range keys {
		p := renderLine(k, 40) + "=" + renderLine(al.Labels[k], 80)
		if size+len(p)+2 > renderMaxLabels {
			parts = append(parts, "…")
			break
		}
		parts, size = append(parts, p), size+len(p)+2
	}
	if len(parts) == 0 {
		return ""
	}
	return "Labels: " + strings.Join(parts, ", ")
}

// renderDescription is a description cut to renderMaxDesc runes and
// renderMaxDescLines lines, runs of blank lines folded into one, so that
// one verbose alert does not make the message scroll.
func renderDescription(desc string) string {
	desc = handlers.Clip(strings.TrimSpace(desc), renderMaxDesc)
	var lines []string
	for l := range strings.SplitSeq(desc, "\n") {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" && (len(lines) == 0 || lines[len(lines)-1] == "") {
			continue
		}
		if len(lines) == renderMaxDescLines {
			lines = append(lines, "…")
			break
		}
		lines = append(lines, l)
	}
	return renderText(strings.Join(lines, "\n"))
}

// renderLinks shows the runbook, then the source's links, as long as they
// fit in budget bytes.
func renderLinks(al *incident.Alert, budget int) string {
	links := al.Links
	if al.RunbookURL != "" {
		links = append([]incident.AlertLink{{URL: al.RunbookURL, Text: "Runbook"}}, links...)
	}
	var parts []string
	size := 0
	for _, l := range links[:min(len(links), renderMaxLinks)] {
		u, ok := renderURL(l.URL)
		if !ok {
			continue
		}
		text := renderLine(l.Text, 40)
		if text == "" {
			text = "Link"
		}
		p := "<" + u + "|" + text + ">"
		if size+len(p)+len(" · ") > budget {
			break
		}
		parts, size = append(parts, p), size+len(p)+len(" · ")
	}
	return strings.Join(parts, " · ")
}

// renderButtons are the actions of an open alert; a resolved one has none.
func renderButtons(a *incident.AlertRecord, v renderView) slack.Block {
	if !a.Open() {
		return nil
	}
	value := handlers.EncodeAlertValue(a.ID)
	var els []slack.BlockElement
	if !renderAcked(a) {
		ack := slack.NewButtonBlockElement(renderActionAck, value, handlers.Plain("Acknowledge"))
		ack.Style = slack.StylePrimary
		els = append(els, ack)
	}
	if v.IncidentRef == "" && a.Incident == 0 {
		els = append(els, slack.NewButtonBlockElement(renderActionDeclare, value, handlers.Plain("Declare incident")))
	}
	// Resolving an alert ends its paging but harms nothing, so no danger style.
	els = append(els, slack.NewButtonBlockElement(renderActionResolve, value, handlers.Plain("Resolve")))
	return slack.NewActionBlock("alert_"+value, els...)
}

// renderStormCount is how many alerts a storm gathered.
func renderStormCount(a *incident.AlertRecord, members []*incident.AlertRecord) int {
	return max(len(a.Gathered), len(members))
}

// renderStormMembers lists the first alerts a storm gathered, and where
// to find the rest.
func renderStormMembers(a *incident.AlertRecord, v renderView) string {
	members := v.StormMembers
	var lines []string
	for _, m := range members[:min(len(members), renderMaxMembers)] {
		if m == nil {
			continue
		}
		line := "• *" + m.Ref() + "*"
		if m.Severity.Valid() {
			line += " · " + m.Severity.String()
		}
		lines = append(lines, line+" · "+renderLine(m.Title(), renderMaxName))
	}
	hidden := renderStormCount(a, members) - len(lines)
	return renderJoin(lines, handlers.SectionLimit, func(dropped int) string {
		if dropped+hidden == 0 {
			return ""
		}
		more := fmt.Sprintf("… and %d more", dropped+hidden)
		if v.Command != "" {
			more += " (`" + renderLine(v.Command, 40) + " alerts` lists them)"
		}
		return more
	})
}
