package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// print renders one workspace event; events a reader does not need (joins,
// views, the bot's own bookkeeping) are left out.
func (t *transcript) print(ev slackfake.Event) {
	switch ev.Kind {
	case slackfake.EventMessagePosted:
		if m := ev.Message; m != nil && m.Subtype == "" || m != nil && m.Subtype == "bot_message" || m != nil && m.Subtype == "thread_broadcast" {
			t.line(ev.Time, t.where(ev.Channel), t.who(m.User, m.BotID), t.messageText(*m))
		}
	case slackfake.EventMessageUpdated:
		if m := ev.Message; m != nil && m.BotID != "" {
			if text := t.messageText(*m); strings.HasPrefix(text, "┃ INC-") {
				t.line(ev.Time, t.where(ev.Channel), "incidentbot", "updated the pinned summary: "+summaryFields(text))
			} else {
				t.line(ev.Time, t.where(ev.Channel), "incidentbot", "updated its message: "+strings.SplitN(text, "\n", 2)[0])
			}
		}
	case slackfake.EventEphemeral:
		if m := ev.Message; m != nil {
			t.line(ev.Time, t.where(ev.Channel), "incidentbot → only "+t.name(ev.User), t.messageText(*m))
		}
	case slackfake.EventReactionAdded:
		t.line(ev.Time, t.where(ev.Channel), t.name(ev.User), "reacted "+emoji(":"+ev.Reaction+":"))
	case slackfake.EventReactionRemoved:
		t.line(ev.Time, t.where(ev.Channel), t.name(ev.User), "removed "+emoji(":"+ev.Reaction+":"))
	case slackfake.EventPinAdded:
		t.line(ev.Time, t.where(ev.Channel), t.name(ev.User), "pinned the summary message")
	case slackfake.EventTopicSet:
		t.line(ev.Time, t.where(ev.Channel), t.name(ev.User), "set the topic: "+t.mrkdwn(ev.Text))
	case slackfake.EventChannelCreated:
		t.line(ev.Time, "#"+ev.Text, t.name(ev.User), "created the channel")
	case slackfake.EventFileShared:
		if f := ev.File; f != nil {
			t.line(ev.Time, t.where(ev.Channel), t.name(ev.User), fmt.Sprintf("uploaded %s (%d lines)", f.Name, strings.Count(string(f.Content), "\n")))
		}
	}
}

// line prints "HH:MM  #channel  who: text", with a date header when the
// day changes (incidents cross midnight).
func (t *transcript) line(at time.Time, where, who, text string) {
	at = at.UTC()
	if day := at.Format("Monday 2 January 2006"); day != t.day {
		t.day = day
		fmt.Fprintf(t.w, "\n── %s (UTC) %s\n", day, strings.Repeat("─", 40))
	}
	prefix := fmt.Sprintf("%s  %-22s %s: ", at.Format("15:04"), clipRunes(where, 22), who)
	indent := strings.Repeat(" ", 30)
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	fmt.Fprintln(t.w, prefix+lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintln(t.w, indent+l)
	}
}

func (t *transcript) where(channel string) string {
	if c, ok := t.fake.Channel(channel); ok {
		if c.IsIM {
			return "DM " + t.name(c.User)
		}
		return "#" + c.Name
	}
	return channel
}

func (t *transcript) who(user, botID string) string {
	if botID != "" || user == t.fake.BotUserID() {
		return "incidentbot"
	}
	return t.name(user)
}

func (t *transcript) name(id string) string {
	if id == t.fake.BotUserID() {
		return "incidentbot"
	}
	if n, ok := t.names[id]; ok {
		return n
	}
	return id
}

var (
	mentionRe  = regexp.MustCompile(`<([@#!])([^|>]+)(?:\|([^>]*))?>`)
	linkRe     = regexp.MustCompile(`<(https?://[^|>]+)(?:\|([^>]*))?>`)
	shortcodes = strings.NewReplacer(":rotating_light:", "🚨", ":white_check_mark:", "✅", ":pushpin:", "📌",
		":memo:", "📝", ":warning:", "⚠️", ":x:", "❌", ":pager:", "📟", ":loudspeaker:", "📢", ":hourglass:", "⏳",
		":arrows_counterclockwise:", "🔄", ":arrow_double_up:", "⏫", ":lock:", "🔒", ":robot_face:", "🤖")
)

func emoji(s string) string { return shortcodes.Replace(s) }

// mrkdwn turns Slack markup into what a reader would see in Slack.
func (t *transcript) mrkdwn(s string) string {
	s = linkRe.ReplaceAllStringFunc(s, func(m string) string {
		p := linkRe.FindStringSubmatch(m)
		if p[2] != "" {
			return p[2] + " (" + p[1] + ")"
		}
		return p[1]
	})
	s = mentionRe.ReplaceAllStringFunc(s, func(m string) string {
		p := mentionRe.FindStringSubmatch(m)
		switch p[1] {
		case "@":
			return "@" + t.name(p[2])
		case "#":
			if c, ok := t.fake.Channel(p[2]); ok {
				return "#" + c.Name
			}
		}
		if p[3] != "" {
			return p[3]
		}
		return p[1] + p[2]
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u2060", "", "*", "").Replace(s)
	return emoji(s)
}

// messageText renders a message's blocks (header, sections, fields,
// context) as plain lines, or its text when it has no blocks.
func (t *transcript) messageText(m slackfake.Message) string {
	var blocks []struct {
		Type     string                  `json:"type"`
		Text     *struct{ Text string }  `json:"text"`
		Fields   []struct{ Text string } `json:"fields"`
		Elements []struct{ Text string } `json:"elements"`
	}
	// People's messages carry rich_text blocks that repeat their text.
	if m.BotID == "" || len(m.Blocks) == 0 || json.Unmarshal(m.Blocks, &blocks) != nil || len(blocks) == 0 {
		return t.mrkdwn(m.Text)
	}
	var out []string
	for _, b := range blocks {
		switch b.Type {
		case "header":
			out = append(out, "┃ "+strings.ToUpper(t.mrkdwn(b.Text.Text)))
		case "section":
			if b.Text != nil {
				out = append(out, "┃ "+t.mrkdwn(b.Text.Text))
			}
			var fields []string
			for _, f := range b.Fields {
				fields = append(fields, strings.ReplaceAll(t.mrkdwn(f.Text), "\n", " "))
			}
			if len(fields) > 0 {
				out = append(out, "┃ "+strings.Join(fields, " · "))
			}
		case "context":
			for _, e := range b.Elements {
				out = append(out, "┃ "+t.mrkdwn(e.Text))
			}
		}
	}
	return strings.Join(out, "\n")
}

// summaryFields is the second line of a rendered summary: severity, status
// and roles, the part that changes.
func summaryFields(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) < 2 {
		return s
	}
	return strings.TrimPrefix(lines[1], "┃ ")
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
