package alerts

import (
	"fmt"
	"strings"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// declare opens an incident from an alert (its button, or the route's
// declare: severity): the alert on its timeline, started at the alert's
// earliest startsAt and detected when the bot received it. The alert's
// message links to the incident, and the incident's channel gets a link
// back once it exists (incidentChannel).
func (m *Module) declare(r *handlers.Request, a *incident.AlertRecord, by incident.User) error {
	if m.cfg.Declarer == nil || a.Incident != 0 {
		return nil
	}
	d := incident.Declaration{
		Title: incidentTitle(a), Severity: a.Severity, By: by, At: r.Now,
		Description: fmt.Sprintf("Declared from alert %s (route %s).", a.Ref(), a.Route),
	}
	if !d.Severity.Valid() {
		d.Severity = incident.DefaultSeverity
	}
	if by.ID == "" {
		// Declared by the route itself: the bot declares it, as the one
		// that received the alert.
		d.By = incident.User{ID: m.h.Config().BotUserID, Name: by.Name}
		by = d.By
	}
	saved := r.User
	r.User = by
	inc, err := m.cfg.Declarer.Declare(r, d)
	r.User = saved
	if err != nil {
		return err
	}
	inc.Alert = a.ID
	inc.Times.Started = a.Started()
	inc.Times.Detected = a.Received
	if err := r.Tx.PutIncident(inc); err != nil {
		return err
	}
	text := fmt.Sprintf("Alert %s (route %s, %s): %s — firing since %s, received %s", a.Ref(), a.Route, a.Severity.Label(),
		a.Title(), incident.FormatTime(a.Started()), incident.FormatTime(a.Received))
	if err := r.TimelineEvent(inc, "alert", text); err != nil {
		return err
	}
	a.Incident = inc.ID
	return m.save(r, a)
}

// incidentTitle is an alert's summary without its "[FIRING:n]" prefix.
func incidentTitle(a *incident.AlertRecord) string {
	t := a.Title()
	if strings.HasPrefix(t, "[") {
		if _, rest, ok := strings.Cut(t, "] "); ok && rest != "" {
			return rest
		}
	}
	return t
}

// incidentChannel is the ChannelCreated hook: an incident declared from an
// alert gets a link back to the alert's message, and the alert's message
// links to the new channel.
func (m *Module) incidentChannel(r *handlers.Request, inc *incident.Incident) error {
	if inc.Alert == 0 {
		return nil
	}
	a, err := r.Tx.Alert(inc.Alert)
	if err != nil {
		return err
	}
	where := "<#" + a.Channel + ">"
	if link, ok := m.permalink(a); ok {
		where = "<" + link + "|the alert's message> in <#" + a.Channel + ">"
		// The summary is posted after this hook: it shows the link.
		if err := m.linkSummary(r, a, inc, false); err != nil {
			return err
		}
	}
	text := fmt.Sprintf(":rotating_light: Declared from alert *%s*: %s — %s", a.Ref(), handlers.Safe(handlers.Clip(a.Title(), 300)), where)
	for _, x := range a.Group.Alerts {
		if x.RunbookURL != "" && safeURL(x.RunbookURL) {
			text += fmt.Sprintf("\nRunbook: <%s|%s>", x.RunbookURL, handlers.PlainSafe(handlers.Clip(x.Summary, 80)))
			break
		}
	}
	if err := r.Post(inc.ChannelID, text, nil); err != nil {
		return err
	}
	// Whoever took the alert is one of its responders.
	if a.AckedBy.ID != "" && a.AckedBy.ID != inc.DeclaredBy.ID {
		if err := r.Invite(inc.ChannelID, a.AckedBy.ID); err != nil {
			return err
		}
	}
	return m.changed(r, a)
}

// safeURL reports whether a URL can sit in a mrkdwn link unchanged.
func safeURL(u string) bool { return u != "" && !strings.ContainsAny(u, "<>| \t\n") }

// permalink is the alert message's permalink, once it is posted.
func (m *Module) permalink(a *incident.AlertRecord) (string, bool) {
	if a.TS == "" {
		return "", false
	}
	return m.h.LocalPermalink(a.Channel, a.TS, "")
}

// linkSummary puts the alert message's permalink in the description of the
// incident declared from it (its pinned summary shows the description
// escaped, and Slack links a bare URL), once; refresh redraws the summary
// (when it is already posted).
func (m *Module) linkSummary(r *handlers.Request, a *incident.AlertRecord, inc *incident.Incident, refresh bool) error {
	link, ok := m.permalink(a)
	if !ok || strings.Contains(inc.Description, link) {
		return nil
	}
	inc.Description = strings.TrimSpace(inc.Description + " " + link)
	if err := r.Tx.PutIncident(inc); err != nil {
		return err
	}
	if refresh {
		return r.RefreshChannel(inc)
	}
	return nil
}
