package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Lanes name the outbox's queues: jobs with the same lane run one at a time
// in Seq order, jobs in different lanes run side by side, and posts in one
// lane are spaced by PostInterval. The constructors below are the only way
// lanes should be made, so that two jobs that must not overtake each other
// get the same lane.
//
// A lane string may change from one version to the next. The outbox is
// drained in Seq order per lane and a lane only serialises: it is compared
// for equality, never parsed. After an upgrade, jobs left under an old lane
// string still run, in order within that lane; at worst they run beside new
// jobs that now get another string. A job's Kind and Payload are another
// matter: the runner reads them back after an upgrade, so they may not
// change.
//
// Lanes are logged with every retry and failure, so a lane never holds a
// secret (see ProviderLane).

// ChannelLane is the lane of the calls to one channel (posts, invites, the
// topic, pins, the summary, the update preview): a channel's messages keep
// their order. A post to a user id (a DM Slack opens itself) uses the user
// id as channel. It is the channel id itself: "C0123ABCD".
func ChannelLane(id string) string { return id }

// DMLane is the lane of the page DMs to a user and their updates:
// "dm:U0123ABCD".
func DMLane(user string) string { return "dm:" + user }

// IncidentLane is the lane of an incident's own steps (creating its
// channel, reading messages for its timeline, fetching follow-ups):
// "incident:42".
func IncidentLane(id int64) string { return "incident:" + strconv.FormatInt(id, 10) }

// ProviderLane is the lane of the calls to one paging provider target
// (PagerDuty, Opsgenie, a webhook), given as configured, e.g.
// "pagerduty:<routing key>". A target holds a routing key or a URL with a
// token in it, so the lane holds only a hash: "provider:" and the first 12
// hex digits of the target's SHA-256, e.g. "provider:3f2a9c0d1b7e". The
// same target always gets the same lane.
func ProviderLane(target string) string {
	sum := sha256.Sum256([]byte(target))
	return "provider:" + hex.EncodeToString(sum[:])[:12]
}

// GroupLane is the lane of the paging of a Slack user group (looking up
// its members): "group:S0123ABCD".
func GroupLane(group string) string { return "group:" + group }

// EphemeralLane is the lane of the ephemeral answers to a user:
// "user:U0123ABCD".
func EphemeralLane(user string) string { return "user:" + user }

// RespondLane is the lane of the answers to a user through a slash
// command's response_url: "respond:U0123ABCD".
func RespondLane(user string) string { return "respond:" + user }

// ViewLane is the lane of the modals opened for a user: "view:U0123ABCD".
func ViewLane(user string) string { return "view:" + user }

// NameLane is the lane of looking up a user's display name, "name:U0123ABCD".
func NameLane(user string) string { return "name:" + user }

// MessageLane is the lane of reading one message for the timeline,
// "message:C0123ABCD/1692269160.000100": reads of different messages (a
// pin storm) go in parallel; the draft waits for them all.
func MessageLane(channel, ts string) string { return "message:" + channel + "/" + ts }

// ReactLane is the lane of the bot's reactions on one message,
// "react:C0123ABCD/1692269160.000100": adding and removing a reaction on it
// keep their order, and reactions on different messages (a pin storm's
// confirmations) go in parallel.
func ReactLane(channel, ts string) string { return "react:" + channel + "/" + ts }

// TimerLane is a lane of its own for a job that waits (NotBefore), so the
// jobs behind it do not wait too: kind and ids joined by colons,
// "escalate:1:2:3".
func TimerLane(kind string, ids ...int64) string {
	var b strings.Builder
	b.WriteString(kind)
	for _, id := range ids {
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// EscalationLane is the timer lane of an escalation's step:
// "escalate:<incident>:<escalation>:<step>".
func EscalationLane(incident int64, escalation, step int) string {
	return TimerLane("escalate", incident, int64(escalation), int64(step))
}

// ReminderLane is the timer lane of an incident's update reminder number
// gen: "remind:<incident>:<gen>".
func ReminderLane(incident int64, gen int) string {
	return TimerLane("remind", incident, int64(gen))
}

// AlertLane is an alert's own lane: posting and redrawing its message, in
// order. "alert:<id>".
func AlertLane(alert int64) string { return TimerLane("alert", alert) }

// AlertTimerLane is the lane of an alert's quiet-period timer:
// "alert_quiet:<alert>".
func AlertTimerLane(alert int64) string { return TimerLane("alert_quiet", alert) }

// AlertEscalationLane is the timer lane of an alert escalation's step:
// "alert_escalate:<alert>:<escalation>:<step>".
func AlertEscalationLane(alert int64, escalation, step int) string {
	return TimerLane("alert_escalate", alert, int64(escalation), int64(step))
}
