package main

// Reading what the bot showed: the texts in Block Kit, its posts, its
// answers to commands, and everything it showed anyone at all.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// ackText is the text of a slash command's ack payload, as the user reads
// it ("" when the bot answered nothing).
func ackText(ack string) string {
	var p struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(ack), &p); err != nil {
		return ""
	}
	return p.Text
}

// blockText joins every "text" in Block Kit JSON, one per line.
func blockText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return b.String()
}

// renderedTexts returns every string in a Block Kit (or attachments or
// view) JSON document that Slack renders as mrkdwn, where mentions are live;
// plain_text objects, which Slack shows literally, are left out.
func renderedTexts(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return []string{string(raw)}
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "plain_text" {
				return
			}
			for _, child := range x {
				walk(child)
			}
		case []any:
			for _, child := range x {
				walk(child)
			}
		case string:
			out = append(out, x)
		}
	}
	walk(v)
	return out
}

// botMessages are the bot's messages in channel (file shares included)
// containing part, oldest first.
func botMessages(fake *slackfake.Server, channel, part string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range fake.Messages(channel) {
		if m.BotID != "" && strings.Contains(m.Text, part) {
			out = append(out, m)
		}
	}
	return out
}

// botPostTexts returns the texts of the bot's plain posts in channel (no
// file shares, joins or other subtypes), oldest first.
func botPostTexts(fake *slackfake.Server, channel string) []string {
	var out []string
	for _, m := range fake.Messages(channel) {
		if m.User == fake.BotUserID() && m.Subtype == "" {
			out = append(out, m.Text)
		}
	}
	return out
}

// postCalls returns the chat.postMessage calls to channel (whatever the
// fake answered) made at or after since, in arrival order.
func postCalls(fake *slackfake.Server, channel string, since time.Time) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Params.Get("channel") == channel && !c.Time.Before(since) {
			out = append(out, c)
		}
	}
	return out
}

// liveSpecial finds special mentions Slack would notify with in text the
// bot posted: <!channel>, <!here>, <!everyone>, <!subteam^…>, and the plain
// @channel, @here, @everyone (the bot breaks those with a word joiner).
var liveSpecial = regexp.MustCompile(`(?i)<!(channel|here|everyone|subteam)|@(channel|here|everyone)\b`)

// shownText is one thing the bot showed someone.
type shownText struct{ where, text string }

// everythingShown collects every text the bot showed, rendered as Slack
// renders it: its messages in every conversation (text, blocks,
// attachments), every ephemeral it sent to users (ack payloads,
// response_url answers, chat.postEphemeral), topics and purposes, and views.
func everythingShown(fake *slackfake.Server, users ...string) []shownText {
	var out []shownText
	add := func(where string, texts ...string) {
		for _, t := range texts {
			out = append(out, shownText{where, t})
		}
	}
	for _, c := range fake.Channels() {
		add("topic of "+c.ID, c.Topic)
		add("purpose of "+c.ID, c.Purpose)
		for _, m := range fake.Messages(c.ID) {
			if m.User != fake.BotUserID() && m.BotID == "" {
				continue // what people typed is theirs
			}
			where := fmt.Sprintf("message %s in %s", m.TS, c.ID)
			add(where, m.Text)
			add(where+" (blocks)", renderedTexts(m.Blocks)...)
			add(where+" (attachments)", renderedTexts(m.Attachments)...)
		}
	}
	for _, u := range users {
		for _, m := range fake.Ephemerals(u) {
			if m.Via == "timeout" {
				continue // Slack's own notice
			}
			where := fmt.Sprintf("ephemeral to %s via %s", u, m.Via)
			add(where, m.Text)
			add(where+" (blocks)", renderedTexts(m.Blocks)...)
		}
	}
	for _, v := range fake.Views() {
		add("view "+v.ID, renderedTexts(v.JSON)...)
	}
	return out
}

// texts returns the texts of shown.
func texts(shown []shownText) []string {
	out := make([]string, len(shown))
	for i, s := range shown {
		out[i] = s.text
	}
	return out
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// containsAny reports whether one of texts contains part.
func containsAny(texts []string, part string) bool {
	for _, s := range texts {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }

// tsTime turns a Slack ts into the time it names.
func tsTime(t testing.TB, ts string) time.Time {
	t.Helper()
	sec, frac, _ := strings.Cut(ts, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || len(frac) != 6 {
		t.Fatalf("bad ts %q", ts)
	}
	return time.Unix(s, us*1000).UTC()
}
