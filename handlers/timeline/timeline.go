package timeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// timelinePage is how many entries /incident timeline shows at once; Slack
// truncates long ephemeral messages.
const timelinePage = 25

// noteCommand adds a line to the timeline in the user's name: now, at the
// mention's own time, or at a time given with --at (for reconstructing the
// start of an outage after the fact).
func (m *Module) noteCommand(r *handlers.Request, args string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	at := r.Now
	if !r.At.IsZero() {
		at = r.At
	}
	text := strings.TrimSpace(args)
	backdated := false
	if rest, ok := handlers.CutPrefixFold(text, "--at"); ok {
		when, body, ok := incident.SplitWhen(strings.TrimSpace(rest), r.Now)
		if !ok {
			// Say why the leading word is not a time (SplitWhen cannot).
			if _, err := incident.ParseWhen(firstWords(rest, 1), r.Now); err != nil {
				return "", err
			}
			return "", incident.Invalid("After --at comes a time, then the note.",
				fmt.Sprintf("Type e.g. %s note --at 10:28 Alerts fired", m.command()))
		}
		at, text, backdated = when, strings.TrimSpace(body), true
	}
	if text == "" {
		return "", incident.Invalid("The note is empty.",
			fmt.Sprintf("Type e.g. %s note Rolled back the deploy, or %s note --at 10:28 Alerts fired", m.command(), m.command()))
	}
	if err := r.Tx.AppendEntry(inc.ID, &incident.Entry{
		At: at, Kind: incident.KindNote, Author: r.User, Text: text, RecordedAt: r.Now,
	}); err != nil {
		return "", err
	}
	reply := fmt.Sprintf(":memo: Added to the %s timeline at *%s*.", inc.Ref(), incident.FormatTime(at))
	if backdated {
		reply += " (Times without a zone are UTC.)"
	}
	return reply, nil
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

// timelineCommand shows the timeline, a page at a time, with dates.
func (m *Module) timelineCommand(r *handlers.Request, args string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	page := 1
	if a := strings.TrimSpace(args); a != "" {
		page, err = strconv.Atoi(a)
		if err != nil || page < 1 {
			return "", incident.Invalid(fmt.Sprintf("%q is not a page number.", handlers.Clip(a, 20)),
				fmt.Sprintf("Type %s timeline 2 for the second page.", m.command()))
		}
	}
	entries, err := r.Tx.Timeline(inc.ID)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, e := range entries {
		if e.Deleted {
			continue
		}
		lines = append(lines, timelineLine(e))
	}
	if len(lines) == 0 {
		return "The timeline is empty.", nil
	}
	// Pages of at most timelinePage entries and of a size one answer carries
	// (30 long pins in Japanese would not fit an ack).
	all := handlers.Pages(lines, timelinePage)
	pages := len(all)
	if page > pages {
		return "", incident.Invalid(fmt.Sprintf("The timeline has %d page(s).", pages),
			fmt.Sprintf("Type %s timeline %d for the last one.", m.command(), pages))
	}
	shown := all[page-1]
	head := fmt.Sprintf("*%s timeline* (UTC), page %d of %d:", inc.Ref(), page, pages)
	foot := ""
	if page < pages {
		foot = fmt.Sprintf("\nMore: `%s timeline %d`", m.command(), page+1)
	}
	return head + "\n" + strings.Join(shown, "\n") + foot, nil
}

func timelineLine(e incident.Entry) string {
	// One line per entry: a multi-line message is joined, so none of its
	// lines can start a quote or a list of its own in the listing.
	text := handlers.Safe(handlers.Clip(strings.Join(strings.Fields(e.Text), " "), 500))
	if e.Pending {
		text = "_(fetching the message…)_"
	}
	line := fmt.Sprintf("`%s` %s", e.At.UTC().Format("2006-01-02 15:04"), handlers.Mention(e.Author))
	if e.Kind == incident.KindEvent {
		line = fmt.Sprintf("`%s` :robot_face:", e.At.UTC().Format("2006-01-02 15:04"))
	}
	line += " " + text
	if e.Link != "" {
		line += " <" + e.Link + "|link>"
	}
	return line
}

// fetchJob reads a message a timeline reaction named.
type fetchJob struct {
	Incident int64  `json:"incident"`
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
}

// runFetchMessage reads the pinned message (history, or the thread for a
// reply), its author's name and its permalink, then fills in the entry and
// confirms with a reaction. The reads are idempotent, so a retry is safe.
func (m *Module) runFetchMessage(ctx context.Context, p fetchJob) (func(*store.Tx) error, error) {
	msg, err := m.findMessage(ctx, p.Channel, p.TS)
	if err != nil {
		return nil, err
	}
	var author incident.User
	var link string
	var files []incident.Link
	if msg != nil {
		author = incident.User{ID: msg.User, Name: msg.Username}
		if msg.User != "" {
			name, found, err := m.h.UserName(ctx, msg.User)
			if err != nil {
				return nil, err
			}
			if found {
				author.Name = name
			}
		} else if msg.BotProfile != nil {
			author = incident.User{ID: msg.BotID, Name: msg.BotProfile.Name}
		}
		link, err = m.h.Permalink(ctx, p.Channel, p.TS, msg.ThreadTimestamp)
		if err != nil && !handlers.IsAPIError(err, "message_not_found") {
			return nil, err
		}
		for _, f := range msg.Files {
			title := f.Title
			if title == "" {
				title = f.Name
			}
			files = append(files, incident.Link{Title: title, URL: f.Permalink})
		}
	}
	return func(tx *store.Tx) error {
		entry, err := tx.EntryBySource(p.Incident, handlers.SourceKey(p.Channel, p.TS))
		if errors.Is(err, incident.ErrNotFound) {
			return nil // unpinned while we fetched
		}
		if err != nil {
			return err
		}
		entry.Pending = false
		if msg == nil {
			entry.Deleted = true // gone before we could read it
			entry.Text = "(message deleted before it was captured)"
			return tx.PutEntry(p.Incident, entry)
		}
		if entry.Text == "" || entry.Text == msg.Text {
			entry.Text = msg.Text
		}
		entry.Author, entry.Link, entry.Files = author, link, files
		if err := tx.PutEntry(p.Incident, entry); err != nil {
			return err
		}
		r := m.h.NewRequest(tx)
		return r.React(p.Channel, p.TS, m.h.Config().ConfirmEmoji, false)
	}, nil
}

// findMessage returns the pinned message: as its message event brought it,
// when the bot saw that, else from Slack's history, read once for the pins
// waiting in the channel (history.find), else alone (a reply in a thread).
func (m *Module) findMessage(ctx context.Context, channel, ts string) (*slack.Message, error) {
	if s, ok := m.seen.get(handlers.SourceKey(channel, ts)); ok {
		msg := &slack.Message{}
		msg.User, msg.Text, msg.Timestamp, msg.ThreadTimestamp = s.User, s.Text, ts, s.ThreadTS
		return msg, nil
	}
	msg, ok, err := m.history.find(ctx, channel, ts, m.historyPages)
	if ok || err != nil {
		return msg, err
	}
	return m.h.FindMessage(ctx, channel, ts)
}

// fetchGaveUp settles an entry whose message could not be read (the bot was
// removed from the channel, say): it stops waiting for its text, so the
// postmortem draft, which waits for pending pins, is not held up by it,
// and the channel is told as for any job that failed.
func (m *Module) fetchGaveUp(tx *store.Tx, job store.Job, cause error) error {
	p, err := handlers.Decode[fetchJob](job)
	if err != nil {
		return nil
	}
	entry, err := tx.EntryBySource(p.Incident, handlers.SourceKey(p.Channel, p.TS))
	if err == nil && entry.Pending {
		entry.Pending = false
		if entry.Text == "" {
			entry.Text = "(the message could not be read: " + handlers.Clip(cause.Error(), 100) + ")"
		}
		if err := tx.PutEntry(p.Incident, entry); err != nil {
			return err
		}
	}
	return m.h.ReportFailure(tx, job, cause)
}
