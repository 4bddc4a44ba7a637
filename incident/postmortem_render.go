package incident

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// A postmortem draft is mostly its timeline, and a long incident's has
// 100,000 entries: the draft is written through one buffer, and the
// default template has its timeline written by WriteTimeline, straight
// into that buffer, each entry escaped into reused buffers. So rendering
// costs the escaping of the texts and little else (no allocation per
// entry), and holds a buffer of the draft, never all of it. A template of
// a team's own gets the same view as ever, Timeline lines and all, and may
// call WriteTimeline too.

// draftBufferSize is how much of the draft is written at a time.
const draftBufferSize = 32 << 10

// renderPostmortem is Templates.Postmortem: the view, with Timeline lines
// only for an override (the default template does not use them), rendered
// through a buffer that WriteTimeline writes into as well.
func (t *Templates) renderPostmortem(w io.Writer, in PostmortemInput) error {
	v := newPostmortemView(in, slices.Contains(t.Overridden, PostmortemTemplate))
	bw := bufio.NewWriterSize(w, draftBufferSize)
	v.timeline.out = bw
	err := t.set.ExecuteTemplate(bw, PostmortemTemplate, v)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("render postmortem of %s: %w", in.Incident.Ref(), err)
	}
	return nil
}

// WriteTimeline puts the timeline where it is called, as the default
// template shows it: for each entry the draft shows, a line break and a
// list item "- **[time]** author: text ([link](…))", then a line break and
// a sub-item "  - file: [title](url)" for each file. Call it as an action
// of its own, {{.WriteTimeline}}: when Templates.Postmortem renders the
// draft it writes the list into the draft at that point, as it goes, and
// returns "" (so it is no value to test or keep; Entries tells whether
// there are any); for a view rendered some other way it returns the list.
func (v PostmortemView) WriteTimeline() (string, error) {
	tl := v.timeline
	switch {
	case tl == nil:
		return "", nil
	case tl.out != nil:
		return "", tl.write(tl.out)
	}
	// Buffers of its own: a view shared by renderings at once stays safe.
	var b strings.Builder
	w := bufio.NewWriter(&b)
	if err := newTimelineSource(PostmortemInput{Timeline: tl.entries, Names: tl.d.names}).write(w); err != nil {
		return "", err
	}
	err := w.Flush()
	return b.String(), err
}

// timelineSource is what WriteTimeline writes a timeline from: the entries
// as recorded, escaped as they are written, the same way NewPostmortemView
// escapes its Timeline lines (both use the same draftText and people).
type timelineSource struct {
	entries []Entry
	d       draftText
	people  *people
	out     *bufio.Writer // the draft being rendered, if any
	item    []byte        // the entry being written
	clock   minuteClock
}

func newTimelineSource(in PostmortemInput) *timelineSource {
	d := draftText{names: in.Names, sc: new(scratch)}
	return &timelineSource{entries: in.Timeline, d: d, people: &people{names: in.Names, d: d, seen: map[User]string{}}}
}

// write writes every entry the draft shows to w, one Write each.
func (tl *timelineSource) write(w *bufio.Writer) error {
	for i := range tl.entries {
		e := &tl.entries[i]
		if e.Deleted || e.Pending {
			continue
		}
		tl.item = tl.appendItem(tl.item[:0], e)
		if _, err := w.Write(tl.item); err != nil {
			return err
		}
	}
	return nil
}

// appendItem appends e's list item, with the texts the Timeline line of e
// would have: FormatTime, people.name, block, label (the URL if it is empty).
func (tl *timelineSource) appendItem(b []byte, e *Entry) []byte {
	b = tl.clock.appendTime(append(b, "\n- **["...), e.At)
	b = append(b, "]** "...)
	if e.Kind == KindEvent {
		b = append(b, "_incidentbot:_ "...)
	} else {
		b = append(append(b, tl.people.name(e.Author)...), ": "...)
	}
	b = tl.d.appendBlock(b, e.Text, listIndent)
	if e.Link != "" {
		b = append(append(append(b, " ([link]("...), e.Link...), "))"...)
	}
	for _, f := range e.Files {
		b = append(b, "\n  - file: ["...)
		title := len(b)
		if b = tl.d.appendLabel(b, rawToSlack(f.Title)); len(b) == title {
			b = append(b, f.URL...)
		}
		b = append(append(append(b, "]("...), f.URL...), ')')
	}
	return b
}

// people is the display names of a draft's users, escaped for it, each
// worked out once: a timeline names the same few people thousands of times.
// The last few are at hand without hashing, by the last byte of their id.
type people struct {
	names  map[string]string
	d      draftText
	seen   map[User]string
	recent [8]struct {
		u    User
		name string
	}
}

// name is how the draft names u: the name the input knows for u's id, or
// u's own, escaped as a line; u's id as it is if neither is known.
func (p *people) name(u User) string {
	slot := &p.recent[0]
	if len(u.ID) > 0 {
		slot = &p.recent[u.ID[len(u.ID)-1]%byte(len(p.recent))]
	}
	if slot.u == u && slot.name != "" {
		return slot.name
	}
	n, ok := p.seen[u]
	if !ok {
		n = p.nameOf(u)
		p.seen[u] = n
	}
	slot.u, slot.name = u, n
	return n
}

func (p *people) nameOf(u User) string {
	n := p.names[u.ID]
	if n == "" {
		n = u.Name
	}
	if n == "" {
		return u.ID
	}
	return p.d.line(rawToSlack(n)) // a display name is plain text, not Slack's
}

// minuteClock appends FormatTime(t), calling it once a minute: the entries
// of a busy channel fall many to a minute, and FormatTime shows minutes.
type minuteClock struct {
	minute int64 // the Unix minute text is of, if text is set
	text   []byte
}

func (c *minuteClock) appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, FormatTime(t)...)
	}
	m := t.Unix() / 60
	if t.Unix()%60 < 0 {
		m-- // a floor, before 1970 too
	}
	if c.text == nil || m != c.minute {
		c.minute, c.text = m, append(c.text[:0], FormatTime(t)...)
	}
	return append(b, c.text...)
}
