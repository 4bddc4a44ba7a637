package alerts

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// renderAlertList renders the open alerts for "/incident alerts" and the
// CLI's "incidentbot alerts": one line each, newest first, at most 50 with
// "… and N more". markdown picks Slack's mrkdwn; else it is a table for a
// terminal. Alerts no longer open are left out, so the caller may pass any.
func renderAlertList(alerts []*incident.AlertRecord, now time.Time, markdown bool) string {
	var open []*incident.AlertRecord
	for _, a := range alerts {
		if a != nil && a.Open() {
			open = append(open, a)
		}
	}
	if len(open) == 0 {
		return "No open alerts."
	}
	slices.SortStableFunc(open, func(x, y *incident.AlertRecord) int {
		if c := y.Received.Compare(x.Received); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	shown := open[:min(len(open), renderMaxListed)]
	more := ""
	if n := len(open) - len(shown); n > 0 {
		more = fmt.Sprintf("… and %d more", n)
	}
	if markdown {
		lines := []string{fmt.Sprintf("*%s*, newest first:", renderPlural(len(open), "open alert"))}
		for _, a := range shown {
			lines = append(lines, renderListLine(a, now))
		}
		if more != "" {
			lines = append(lines, more)
		}
		return strings.Join(lines, "\n")
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tROUTE\tFOR\tINCIDENT\tTITLE")
	for _, a := range shown {
		status, sev, since, inc := "firing", "-", "-", "-"
		if renderAcked(a) {
			status = "acknowledged"
		}
		if a.Severity.Valid() {
			sev = a.Severity.String()
		}
		if d, ok := renderOpenFor(a, now); ok {
			since = d
		}
		if a.Incident != 0 {
			inc = incident.Ref(a.Incident)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Ref(), status, sev, renderPlain(a.Route, 40), since, inc,
			renderPlain(renderListTitle(a), 80))
	}
	tw.Flush() // a strings.Builder never fails
	if more != "" {
		b.WriteString(more + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// renderListLine is one alert of the mrkdwn list.
func renderListLine(a *incident.AlertRecord, now time.Time) string {
	line := "• " + renderEmoji(a) + " *" + a.Ref() + "*"
	if a.Severity.Valid() {
		line += " · " + a.Severity.String()
	}
	line += " · " + renderLine(renderListTitle(a), 120) + " · route " + renderLine(a.Route, 40)
	if d, ok := renderOpenFor(a, now); ok {
		line += " · for " + d
	}
	if a.Acknowledged() {
		line += " · acknowledged by " + handlers.Mention(a.AckedBy)
	}
	if a.Incident != 0 {
		line += " · " + incident.Ref(a.Incident)
	}
	if a.Storm != 0 {
		line += " · in storm " + incident.AlertRef(a.Storm)
	}
	return line
}

// renderListTitle is an alert's raw title for the list; a storm alert's
// group has no title of its own.
func renderListTitle(a *incident.AlertRecord) string {
	if a.IsStorm() {
		return "Alert storm: " + renderPlural(len(a.Gathered), "alert group")
	}
	return a.Title()
}

// renderOpenFor is how long the alert has been firing, when known.
func renderOpenFor(a *incident.AlertRecord, now time.Time) (string, bool) {
	started := a.Started()
	if started.IsZero() || !now.After(started) {
		return "", false
	}
	return incident.FormatDuration(now.Sub(started)), true
}

// renderPlain is raw text for a terminal: one line, cut to n runes, without
// control characters (no escape sequence reaches the terminal) and Defused
// by handlers.PlainSafe.
func renderPlain(s string, n int) string {
	s = renderStripControls(handlers.Clip(strings.Join(strings.Fields(s), " "), n))
	return handlers.PlainSafe(handlers.EscapeRaw(s))
}

// renderStripControls drops control characters but newlines; a tab
// becomes a space.
func renderStripControls(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// renderText makes raw text from a monitoring system safe as mrkdwn:
// control characters dropped (tabs become spaces), < > & escaped so that
// nothing in it is a link or mention, then handlers.Safe for @here and
// bidi controls, and runs of backticks broken so that no code block opens.
func renderText(s string) string {
	s = handlers.Safe(handlers.EscapeRaw(renderStripControls(s)))
	for strings.Contains(s, "``") {
		s = strings.ReplaceAll(s, "``", "`"+incident.WordJoiner+"`")
	}
	return s
}

// renderLine is renderText of s folded onto one line and cut to n runes
// (before escaping, so the cut never splits an entity).
func renderLine(s string, n int) string {
	return renderText(handlers.Clip(strings.Join(strings.Fields(s), " "), n))
}

// renderURL writes an http(s) URL for <url|text>: the characters that would
// end or split the link, or hide in it (|, <, >, spaces, controls, bidi
// controls), percent-encoded, and & as &amp; as Slack writes its own links.
// false when it is no http(s) URL or too long to be worth its room.
func renderURL(raw string) (string, bool) {
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return "", false
	}
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r == '|', r == '<', r == '>', r == '"', unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		case r == '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > renderMaxURL {
		return "", false
	}
	return b.String(), true
}

// renderJoin joins lines with newlines within limit bytes. Lines that do
// not fit are dropped whole, so every link and quote shown stays intact,
// and more(dropped) ends the text ("…" when more is nil; nothing when it
// returns ""). Bytes, not runes, are counted: never fewer than Slack's
// characters.
func renderJoin(lines []string, limit int, more func(dropped int) string) string {
	if more == nil {
		more = func(n int) string {
			if n == 0 {
				return ""
			}
			return "…"
		}
	}
	reserve := len(more(len(lines))) + 1
	var b strings.Builder
	kept := 0
	for _, l := range lines {
		if b.Len()+1+len(l)+reserve > limit {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		kept++
	}
	if kept == 0 && len(lines) > 0 {
		b.WriteString(renderFit(lines[0], limit-reserve))
		kept = 1
	}
	if m := more(len(lines) - kept); m != "" {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m)
	}
	return b.String()
}

// renderFit cuts s to at most n bytes, at a rune boundary, ending in "…":
// the last guard on a limit of Slack's.
func renderFit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := max(n-len("…"), 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// renderPlural counts things: "1 notification", "3 notifications".
func renderPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
