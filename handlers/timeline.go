package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// timelinePage is how many entries /incident timeline shows at once; Slack
// truncates long ephemeral messages.
const timelinePage = 25

// noteCommand adds a line to the timeline in the user's name: now, at the
// mention's own time, or at a time given with --at (for reconstructing the
// start of an outage after the fact).
func (h *Handlers) noteCommand(r *request, args string) (string, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return "", err
	}
	at := r.now
	if !r.at.IsZero() {
		at = r.at
	}
	text := strings.TrimSpace(args)
	backdated := false
	if rest, ok := cutPrefixFold(text, "--at"); ok {
		when, body, ok := incident.SplitWhen(strings.TrimSpace(rest), r.now)
		if !ok {
			// Say why the leading word is not a time (SplitWhen cannot).
			if _, err := incident.ParseWhen(firstWords(rest, 1), r.now); err != nil {
				return "", err
			}
			return "", incident.Invalid("After --at comes a time, then the note.",
				fmt.Sprintf("Type e.g. %s note --at 10:28 Alerts fired", h.cfg.Command))
		}
		at, text, backdated = when, strings.TrimSpace(body), true
	}
	if text == "" {
		return "", incident.Invalid("The note is empty.",
			fmt.Sprintf("Type e.g. %s note Rolled back the deploy, or %s note --at 10:28 Alerts fired", h.cfg.Command, h.cfg.Command))
	}
	if err := r.tx.AppendEntry(inc.ID, &incident.Entry{
		At: at, Kind: incident.KindNote, Author: r.user, Text: text, RecordedAt: r.now,
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
func (h *Handlers) timelineCommand(r *request, args string) (string, error) {
	inc, err := r.incidentIn()
	if err != nil {
		return "", err
	}
	page := 1
	if a := strings.TrimSpace(args); a != "" {
		page, err = strconv.Atoi(a)
		if err != nil || page < 1 {
			return "", incident.Invalid(fmt.Sprintf("%q is not a page number.", clip(a, 20)),
				fmt.Sprintf("Type %s timeline 2 for the second page.", h.cfg.Command))
		}
	}
	entries, err := r.tx.Timeline(inc.ID)
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
	pages := (len(lines) + timelinePage - 1) / timelinePage
	if page > pages {
		return "", incident.Invalid(fmt.Sprintf("The timeline has %d page(s).", pages),
			fmt.Sprintf("Type %s timeline %d for the last one.", h.cfg.Command, pages))
	}
	from := (page - 1) * timelinePage
	shown := lines[from:min(from+timelinePage, len(lines))]
	head := fmt.Sprintf("*%s timeline* (UTC), page %d of %d:", inc.Ref(), page, pages)
	foot := ""
	if page < pages {
		foot = fmt.Sprintf("\nMore: `%s timeline %d`", h.cfg.Command, page+1)
	}
	return head + "\n" + strings.Join(shown, "\n") + foot, nil
}

func timelineLine(e incident.Entry) string {
	text := safe(clip(e.Text, 500))
	if e.Pending {
		text = "_(fetching the message…)_"
	}
	line := fmt.Sprintf("`%s` %s", e.At.UTC().Format("2006-01-02 15:04"), mention(e.Author))
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
func (h *Handlers) runFetchMessage(ctx context.Context, p fetchJob) (func(*store.Tx) error, error) {
	msg, err := h.findMessage(ctx, p.Channel, p.TS)
	if err != nil {
		return nil, err
	}
	var author incident.User
	var link string
	var files []incident.Link
	if msg != nil {
		author = incident.User{ID: msg.User, Name: msg.Username}
		if msg.User != "" {
			if u, err := h.api.GetUserInfoContext(ctx, msg.User); err == nil {
				author.Name = displayName(u)
			} else if !isAPIError(err, "user_not_found") {
				return nil, err
			}
		} else if msg.BotProfile != nil {
			author = incident.User{ID: msg.BotID, Name: msg.BotProfile.Name}
		}
		link, err = h.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: p.Channel, Ts: p.TS})
		if err != nil && !isAPIError(err, "message_not_found") {
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
		entry, err := tx.EntryBySource(p.Incident, sourceKey(p.Channel, p.TS))
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
		r := &request{tx: tx, now: h.now()}
		return r.react(p.Channel, p.TS, h.cfg.ConfirmEmoji, false)
	}, nil
}

// findMessage returns the message at ts in channel, or nil if it is gone.
// conversations.history holds top-level messages; a thread reply is only
// found through conversations.replies, which accepts any ts in the thread.
func (h *Handlers) findMessage(ctx context.Context, channel, ts string) (*slack.Message, error) {
	hist, err := h.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1})
	if err != nil {
		if isAPIError(err, "channel_not_found", "not_in_channel") {
			return nil, bot.Final(err)
		}
		return nil, err
	}
	for i := range hist.Messages {
		if hist.Messages[i].Timestamp == ts {
			return &hist.Messages[i], nil
		}
	}
	cursor := ""
	for {
		msgs, more, next, err := h.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: ts, Oldest: ts, Inclusive: true, Limit: 200, Cursor: cursor})
		if isAPIError(err, "thread_not_found", "message_not_found") {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for i := range msgs {
			if msgs[i].Timestamp == ts {
				return &msgs[i], nil
			}
		}
		if !more || next == "" {
			return nil, nil
		}
		cursor = next
	}
}

func displayName(u *slack.User) string {
	for _, n := range []string{u.Profile.DisplayName, u.RealName, u.Name} {
		if n != "" {
			return n
		}
	}
	return u.ID
}
