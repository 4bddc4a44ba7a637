package handlers

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Slack ids and timestamps are checked where envelopes come in (Handle),
// so that nothing malformed is stored, used as a key, or passed back to
// Slack (where "not-a-ts" would fail every retry of a job for ever). They
// are checked byte by byte rather than with regexps, since every envelope
// pays for them on the ack path; ids_test.go holds the patterns they
// implement and checks the two agree.

// slackID reports whether id is one of kinds (its first letter) followed
// by two or more of A–Z and 0–9: `^[kinds][A-Z0-9]{2,}$`.
func slackID(id, kinds string) bool {
	if len(id) < 3 || strings.IndexByte(kinds, id[0]) < 0 {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func validUser(id string) bool    { return slackID(id, "UW") }
func validChannel(id string) bool { return slackID(id, "CGD") }

// validAuthor is who wrote a message: a person, or an app (B…).
func validAuthor(id string) bool { return slackID(id, "UWB") }

// ValidTS reports whether ts is a Slack message timestamp
// ("1692269160.000100": `^\d{10}\.\d{6}$`).
func ValidTS(ts string) bool {
	if len(ts) != 17 || ts[10] != '.' {
		return false
	}
	for i := 0; i < len(ts); i++ {
		if c := ts[i]; i != 10 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// idCheck collects what is malformed in one envelope.
type idCheck []string

func (c *idCheck) check(field, value string, ok func(string) bool, optional bool) {
	if value == "" && optional {
		return
	}
	if !ok(value) {
		*c = append(*c, fmt.Sprintf("%s %q", field, Clip(value, 40)))
	}
}

func (c *idCheck) user(field, v string, optional bool)    { c.check(field, v, validUser, optional) }
func (c *idCheck) channel(field, v string, optional bool) { c.check(field, v, validChannel, optional) }
func (c *idCheck) ts(field, v string, optional bool)      { c.check(field, v, ValidTS, optional) }

// malformed says which Slack ids and timestamps of an envelope's payload
// are malformed ("" when none is): the ones the handlers use.
func malformed(data any) string {
	var c idCheck
	switch d := data.(type) {
	case slack.SlashCommand:
		c.user("user_id", d.UserID, false)
		c.channel("channel_id", d.ChannelID, false)
	case slack.InteractionCallback:
		c.user("user.id", d.User.ID, false)
		c.channel("container.channel_id", d.Container.ChannelID, true)
		c.channel("channel.id", d.Channel.ID, true)
		c.ts("container.message_ts", d.Container.MessageTs, true)
	case slackevents.EventsAPIEvent:
		eventIDs(&c, d.InnerEvent.Data)
	}
	return strings.Join(c, ", ")
}

func eventIDs(c *idCheck, ev any) {
	switch e := ev.(type) {
	case *slackevents.ReactionAddedEvent:
		reactionIDs(c, slackevents.ReactionRemovedEvent(*e))
	case *slackevents.ReactionRemovedEvent:
		reactionIDs(c, *e)
	case *slackevents.MessageEvent:
		c.channel("channel", e.Channel, false)
		c.user("user", e.User, true)
		c.ts("thread_ts", e.ThreadTimeStamp, true)
		switch e.SubType {
		case "message_changed":
			if e.Message != nil {
				c.ts("message.ts", e.Message.Timestamp, false)
			}
		case "message_deleted":
			c.ts("deleted_ts", e.DeletedTimeStamp, false)
		default:
			c.ts("ts", e.TimeStamp, false)
		}
	case *slackevents.AppMentionEvent:
		c.channel("channel", e.Channel, false)
		c.user("user", e.User, true)
		c.ts("ts", e.TimeStamp, false)
		c.ts("thread_ts", e.ThreadTimeStamp, true)
	case *slackevents.MemberJoinedChannelEvent:
		c.channel("channel", e.Channel, false)
		c.user("user", e.User, false)
	case *slackevents.MemberLeftChannelEvent:
		c.channel("channel", e.Channel, false)
		c.user("user", e.User, false)
	}
}

func reactionIDs(c *idCheck, e slackevents.ReactionRemovedEvent) {
	c.user("user", e.User, false)
	if e.Item.Type != "message" {
		return
	}
	c.channel("item.channel", e.Item.Channel, false)
	c.ts("item.ts", e.Item.Timestamp, false)
	c.check("item_user", e.ItemUser, validAuthor, true)
}
