package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Lanes serialise jobs: the outbox runs the jobs of one lane one at a time,
// in the order they were enqueued, and different lanes in parallel. Every
// lane is built here, so two jobs that must not overtake each other get the
// same lane and a job never carries a secret in its lane (lanes are logged).
//
// A lane string is not a persisted interface: it only orders the jobs in
// the outbox, so a new version may build lanes differently (the README's
// upgrade notes say when). Job kinds and payloads, in contrast, never change.

// ChannelLane is the lane of posts, invites, pins, summaries and topics of a
// channel (or a DM by user id): its messages keep their order.
func ChannelLane(channel string) string { return channel }

// IncidentLane is the lane of an incident's own work: creating its channel,
// reading pinned messages.
func IncidentLane(id int64) string { return fmt.Sprintf("incident:%d", id) }

// UserLane is the lane of ephemeral answers to a user.
func UserLane(user string) string { return "user:" + user }

// ReactLane is the lane of the bot's reactions in a channel.
func ReactLane(channel string) string { return "react:" + channel }

// ViewLane is the lane of modals opened for a user.
func ViewLane(user string) string { return "view:" + user }

// RespondLane is the lane of response_url answers to a user.
func RespondLane(user string) string { return "respond:" + user }

// DMLane is the lane of page DMs to a user.
func DMLane(user string) string { return "dm:" + user }

// GroupLane is the lane of expanding a user group into pages.
func GroupLane(group string) string { return "group:" + group }

// ProviderLane is the lane of a paging provider target. It is a hash of the
// target, never the target itself: a routing key or webhook URL is a secret.
func ProviderLane(target string) string {
	sum := sha256.Sum256([]byte(target))
	return "provider:" + hex.EncodeToString(sum[:6])
}

// EscalationLane is an escalation step's timer: a lane of its own, because a
// job waiting in a lane holds up the jobs behind it.
func EscalationLane(incident int64, escalation, step int) string {
	return fmt.Sprintf("escalate:%d:%d:%d", incident, escalation, step)
}

// ReminderLane is an update reminder's timer, one lane per generation.
func ReminderLane(incident int64, gen int) string { return fmt.Sprintf("remind:%d:%d", incident, gen) }
