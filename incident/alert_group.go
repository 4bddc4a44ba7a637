package incident

import (
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAlertSummary is the longest Summary, in runes.
const MaxAlertSummary = 200

// Merge folds a later notification of the same group into g: Alertmanager's
// repeat_interval, a new alert joining the group, a resolution, or a retry
// of a request already seen. Alerts are matched by fingerprint: a known one
// takes next's status, end, labels, annotations and links (keeping the
// earlier start); a new one is appended. Alerts absent from next keep their
// state, except that a resolved group resolves them all. g's status is then
// firing while any alert fires. Matching keys is the caller's job; Merge
// does not check them. next is not changed, and g shares no map with it.
func (g *AlertGroup) Merge(next *AlertGroup) {
	if next == nil {
		return
	}
	index := make(map[string]int, len(g.Alerts))
	for i, a := range g.Alerts {
		index[a.Fingerprint] = i
	}
	for _, n := range next.Alerts {
		n = n.clone()
		i, ok := index[n.Fingerprint]
		if !ok {
			index[n.Fingerprint] = len(g.Alerts)
			g.Alerts = append(g.Alerts, n)
			continue
		}
		if old := g.Alerts[i].StartsAt; !old.IsZero() && (n.StartsAt.IsZero() || old.Before(n.StartsAt)) {
			n.StartsAt = old
		}
		g.Alerts[i] = n
	}
	if next.Status == AlertResolved {
		for i := range g.Alerts {
			g.Alerts[i].Status = AlertResolved
		}
	}
	if len(next.Labels) > 0 {
		g.Labels = maps.Clone(next.Labels)
	}
	if len(next.GroupLabels) > 0 {
		g.GroupLabels = maps.Clone(next.GroupLabels)
	}
	if next.ExternalURL != "" {
		g.ExternalURL = next.ExternalURL
	}
	if next.Title != "" {
		g.Title = next.Title
	}
	g.Truncated = next.Truncated
	g.Status = AlertResolved
	if g.Firing() > 0 {
		g.Status = AlertFiring
	}
}

func (a Alert) clone() Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Annotations = maps.Clone(a.Annotations)
	a.Links = append([]AlertLink(nil), a.Links...)
	return a
}

// Firing counts the group's firing alerts.
func (g *AlertGroup) Firing() int {
	n := 0
	for _, a := range g.Alerts {
		if a.Status == AlertFiring {
			n++
		}
	}
	return n
}

// EarliestStart is the earliest StartsAt of the group's alerts, the
// incident's "started"; zero when no alert carries a time (the generic JSON),
// and the caller then uses the time it received the alert.
func (g *AlertGroup) EarliestStart() time.Time {
	var first time.Time
	for _, a := range g.Alerts {
		if !a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
	}
	return first
}

// Summary is one line for a message or a page, in Alertmanager's default
// title's shape: "[FIRING:2] HighErrorRate checkout — Error rate above 5%".
// The name is the values of the group labels, alertname first and then by
// label name; else Grafana's title without its "[FIRING:n]"; else the
// alertname label. The first firing alert's summary follows (the first
// alert's, once all are resolved) unless it repeats the name. At most
// MaxAlertSummary runes.
func (g *AlertGroup) Summary() string {
	prefix := "[RESOLVED]"
	if g.Status == AlertFiring {
		prefix = fmt.Sprintf("[FIRING:%d]", g.Firing())
	}
	name := g.name()
	detail := ""
	for _, a := range g.Alerts {
		if a.Status == AlertFiring || g.Status != AlertFiring {
			detail = a.Summary
			break
		}
	}
	parts := []string{prefix}
	if name != "" {
		parts = append(parts, name)
	}
	if detail != "" && detail != name {
		if name != "" {
			parts = append(parts, "—")
		}
		parts = append(parts, detail)
	}
	if len(parts) == 1 {
		parts = append(parts, "alert group", quoteShort(g.Key))
	}
	return truncateRunes(oneLine(strings.Join(parts, " ")), MaxAlertSummary)
}

func (g *AlertGroup) name() string {
	var values []string
	if v := g.GroupLabels["alertname"]; v != "" {
		values = append(values, v)
	}
	for _, k := range sortedKeys(g.GroupLabels) {
		if v := g.GroupLabels[k]; k != "alertname" && v != "" {
			values = append(values, v)
		}
	}
	if len(values) > 0 {
		return oneLine(strings.Join(values, " "))
	}
	if t := strings.TrimSpace(g.Title); strings.HasPrefix(t, "[") {
		if _, rest, ok := strings.Cut(t, "]"); ok {
			return oneLine(rest)
		}
	} else if t != "" {
		return oneLine(t)
	}
	return oneLine(g.Labels["alertname"])
}

// truncateRunes cuts s to at most n runes, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
