package incident

import (
	"fmt"
	"strings"
	"time"
)

// PostmortemInput is what a postmortem draft is made from.
type PostmortemInput struct {
	Incident *Incident
	// Timeline is every entry; deleted and pending ones are left out of the draft.
	Timeline []Entry
	// Names maps user ids to display names, for mentions inside texts.
	Names map[string]string
	// Now is when the draft is generated (and the end of an open incident).
	Now time.Time
	// Paging is the "Responders and paging" section, one line each (who
	// was paged when, who acknowledged); empty when nobody was paged.
	Paging []string
}

// PostmortemView is the data the postmortem template sees. Everything is
// already formatted, so a team's own template stays simple.
type PostmortemView struct {
	Ref, Title, Severity, PeakSeverity, Status string
	Lead                                       string
	Authors                                    []string
	Declared, Resolved, Date, Generated        string
	Open                                       bool
	Summary                                    string
	Description                                string
	Impact                                     ImpactView
	KeyTimes                                   []NamedValue
	Measures                                   []NamedValue
	// Timeline is every entry the draft shows, formatted, for a template
	// that lays the timeline out itself; the default calls WriteTimeline.
	// Templates.Postmortem leaves it empty for the default template, which
	// does not use it.
	Timeline []TimelineLine
	// Entries is how many timeline entries the draft shows.
	Entries        int
	ResolutionNote string
	Paging         []string
	Updates        []UpdateLine
	FollowUps      []FollowUpGroup

	timeline *timelineSource // what WriteTimeline writes
}

// UpdateLine is a customer status update as posted.
type UpdateLine struct{ Time, Status, Text string }

// FollowUpGroup is the follow-up actions of one horizon.
type FollowUpGroup struct {
	Name  string
	Items []FollowUpLine
}

// FollowUpLine is one follow-up action and its owner ("" if none).
type FollowUpLine struct{ Text, Owner string }

// ImpactView is the Impact section.
type ImpactView struct {
	Start, End, Duration string
	StartNote            string // says which key time the start is, when not "started"
	Services             []string
	TimeAtSeverity       []NamedValue
}

// NamedValue is a label and its formatted value.
type NamedValue struct{ Name, Value string }

// TimelineLine is one timeline entry, formatted.
type TimelineLine struct {
	Time, Author, Text, Link string
	Bot                      bool
	Kind                     EntryKind
	Files                    []Link
}

// NewPostmortemView prepares the view of a postmortem draft. Every user
// text in it (titles, descriptions, notes, messages, services, names) is
// already escaped for the draft (draftText), so a template cannot forget.
func NewPostmortemView(in PostmortemInput) PostmortemView { return newPostmortemView(in, true) }

// newPostmortemView is NewPostmortemView, with the Timeline lines only if
// withLines: a template that calls WriteTimeline instead does without
// thousands of them.
func newPostmortemView(in PostmortemInput, withLines bool) PostmortemView {
	inc := in.Incident
	tl := newTimelineSource(in)
	d, name := tl.d, tl.people.name
	v := PostmortemView{
		Ref: inc.Ref(), Title: d.line(inc.Title), Severity: inc.Severity.Label(), Status: "Draft",
		Lead: name(inc.Lead()), Declared: FormatTime(inc.Times.Declared), Resolved: FormatTime(inc.Times.Resolved),
		Date: inc.Times.Declared.UTC().Format("2006-01-02"), Generated: FormatTime(in.Now),
		Open: inc.Open(), Description: d.block(inc.Description, 0), ResolutionNote: d.block(inc.ResolutionNote, 0),
	}
	if p := inc.PeakSeverity(); p != inc.Severity {
		v.PeakSeverity = p.Label()
	}
	for _, r := range []Role{RoleLead, RoleComms, RoleScribe} {
		if u, ok := inc.Roles[r]; ok {
			v.Authors = appendUnique(v.Authors, name(u))
		}
	}
	if len(v.Authors) == 0 {
		v.Authors = []string{name(inc.DeclaredBy)}
	}
	v.Impact = impactView(inc, in.Now, d)
	v.Paging = in.Paging
	if len(v.Paging) == 0 {
		v.Paging = pagingLines(inc, name, func(s string) string { return d.block(s, listIndent) })
	}
	for _, u := range inc.Updates {
		v.Updates = append(v.Updates, UpdateLine{Time: FormatTime(u.At), Status: u.Status.Title(), Text: d.block(u.Text, listIndent)})
	}
	v.FollowUps = followUpGroups(inc.FollowUps, d, name)
	v.KeyTimes, v.Measures = keyTimesView(inc.Times)
	v.Summary = summarySentence(inc, v, in.Now)
	v.timeline = tl
	for _, e := range in.Timeline {
		if e.Deleted || e.Pending {
			continue
		}
		v.Entries++
		if !withLines {
			continue
		}
		line := TimelineLine{Time: FormatTime(e.At), Author: name(e.Author), Text: d.block(e.Text, listIndent), Link: e.Link,
			Bot: e.Kind == KindEvent, Kind: e.Kind}
		for _, f := range e.Files {
			line.Files = append(line.Files, Link{Title: d.label(rawToSlack(f.Title)), URL: f.URL})
		}
		if line.Bot {
			line.Author = "incidentbot"
		}
		v.Timeline = append(v.Timeline, line)
	}
	return v
}

// listIndent is where the text of a "- " list item starts; numberedIndent
// the same for "1. " to "99. ", so that a text's later lines stay in the
// item even after a blank line.
const (
	listIndent     = 2
	numberedIndent = 4
)

// rawToSlack escapes plain text (a display name, a file title) as Slack
// does, so it takes the same path as Slack's text.
func rawToSlack(s string) string { return slackEscaper.Replace(s) }

// slackEscaper is built once: a Replacer is safe to share, and returns a
// text with nothing to replace as it is.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// followUpGroups groups follow-ups as the reference reports do: short-term,
// mid-term, future, then the ones nobody sorted.
func followUpGroups(fs []FollowUp, d draftText, name func(User) string) []FollowUpGroup {
	var groups []FollowUpGroup
	for _, h := range []struct {
		h     Horizon
		title string
	}{{ShortTerm, "Short-term"}, {MidTerm, "Mid-term"}, {Future, "Future"}, {Unsorted, "To sort"}} {
		g := FollowUpGroup{Name: h.title}
		for _, f := range fs {
			if f.Horizon == h.h {
				owner := ""
				if f.Owner.ID != "" {
					owner = name(f.Owner)
				}
				g.Items = append(g.Items, FollowUpLine{Text: d.block(f.Text, numberedIndent), Owner: owner})
			}
		}
		if len(g.Items) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

func impactView(inc *Incident, now time.Time, d draftText) ImpactView {
	start, from := inc.Times.ImpactStart()
	iv := ImpactView{Start: FormatTime(start), Duration: inc.Times.Duration(now).String()}
	for _, s := range inc.Services {
		iv.Services = append(iv.Services, d.line(s))
	}
	if from != "" && from != "started" {
		iv.StartNote = fmt.Sprintf("impact start not recorded; measured from when the incident was %s", from)
	}
	if inc.Open() {
		iv.End = "ongoing"
		iv.Duration += " so far"
	} else {
		iv.End = FormatTime(inc.Times.Resolved)
	}
	end := inc.Times.Resolved
	if end.IsZero() {
		end = now
	}
	for i, c := range inc.SeverityLog {
		until := end
		if i+1 < len(inc.SeverityLog) {
			until = inc.SeverityLog[i+1].At
		}
		iv.TimeAtSeverity = append(iv.TimeAtSeverity, NamedValue{c.Severity.Label(),
			fmt.Sprintf("%s (from %s)", FormatDuration(until.Sub(c.At)), FormatTime(c.At))})
	}
	return iv
}

func keyTimesView(k KeyTimes) (times, measures []NamedValue) {
	times = []NamedValue{
		{"Started (impact began)", FormatTime(k.Started)},
		{"Detected", FormatTime(k.Detected)},
		{"Declared", FormatTime(k.Declared)},
		{"Acknowledged", FormatTime(k.Acknowledged)},
		{"Identified", FormatTime(k.Identified)},
		{"Mitigated", FormatTime(k.Mitigated)},
		{"Resolved", FormatTime(k.Resolved)},
	}
	note := func(s Span) string {
		if s.OK && s.From != "" && s.From != "started" && s.From != "declared" {
			return s.String() + " (from " + s.From + ")"
		}
		if s.OK && s.From == "declared" {
			return s.String() + " (from declared; started not recorded)"
		}
		return s.String()
	}
	measures = []NamedValue{
		{"Time to detect", k.TimeToDetect().String()},
		{"Time to acknowledge", note(k.TimeToAcknowledge())},
		{"Time to mitigate", note(k.TimeToMitigate())},
		{"Time to resolve", note(k.TimeToResolve())},
	}
	return times, measures
}

func summarySentence(inc *Incident, v PostmortemView, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "On %s, %s (%s) — %s —", v.Date, v.Ref, v.Severity, v.Title)
	if len(v.Impact.Services) > 0 {
		fmt.Fprintf(&b, " affected %s", joinAnd(v.Impact.Services))
	} else {
		b.WriteString(" affected [which services and customers?]")
	}
	d := inc.Times.Duration(now)
	switch {
	case inc.Open():
		fmt.Fprintf(&b, " and has been ongoing for %s.", d)
	default:
		fmt.Fprintf(&b, " for %s.", d)
	}
	return b.String()
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
