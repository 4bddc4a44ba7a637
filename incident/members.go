package incident

import (
	"slices"
	"time"
)

// Members are the people in an incident's channel, as the bot has seen them
// join (member_joined_channel, invitations included) and leave, and post
// there. Slack only lets members post, but anyone in the workspace may read
// a public channel and click its buttons: this is how the bot knows who is
// in it without asking Slack while it acks.
type Members struct {
	// Since is when the bot began following the channel (its creation).
	// Zero: an incident from before it did, whose members are unknown.
	Since time.Time `json:"since,omitzero"`
	IDs   []string  `json:"ids,omitempty"`
}

// Follow starts following the channel's members at now; it reports false
// if they were followed already.
func (m *Members) Follow(now time.Time) bool {
	if m.Known() {
		return false
	}
	m.Since = now
	return true
}

// Known reports whether the members are followed at all.
func (m *Members) Known() bool { return !m.Since.IsZero() }

// Has reports whether user is in the channel.
func (m *Members) Has(user string) bool { return slices.Contains(m.IDs, user) }

// Join records that user is in the channel; it reports whether that is news.
func (m *Members) Join(user string) bool {
	if !m.Known() || user == "" || m.Has(user) {
		return false
	}
	m.IDs = append(m.IDs, user)
	return true
}

// Leave records that user left the channel; it reports whether they were in.
func (m *Members) Leave(user string) bool {
	i := slices.Index(m.IDs, user)
	if i < 0 {
		return false
	}
	m.IDs = slices.Delete(m.IDs, i, i+1)
	return true
}
