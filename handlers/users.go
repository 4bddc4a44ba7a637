package handlers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// userTTL is how long a looked-up display name is trusted; a user_change
// event forgets it sooner.
const userTTL = time.Hour

// users caches display names: a pin storm by two people is two users.info
// calls, not one per pin.
type users struct {
	mu    sync.Mutex
	names map[string]cachedUser
	// asking holds a lookup in flight per user: parallel reads of a pin
	// storm wait for it instead of asking Slack again.
	asking map[string]chan struct{}
}

type cachedUser struct {
	name    string
	found   bool
	fetched time.Time
}

// UserName returns the name Slack shows for a user, from the cache or
// users.info. found is false for a user Slack does not know
// (user_not_found), which is cached too.
func (h *Handlers) UserName(ctx context.Context, id string) (name string, found bool, err error) {
	now := h.now()
	for {
		h.users.mu.Lock()
		c, ok := h.users.names[id]
		if ok && now.Sub(c.fetched) < userTTL && !c.fetched.After(now) {
			h.users.mu.Unlock()
			return c.name, c.found, nil
		}
		wait, asking := h.users.asking[id]
		if !asking {
			if h.users.asking == nil {
				h.users.asking = map[string]chan struct{}{}
			}
			done := make(chan struct{})
			h.users.asking[id] = done
			h.users.mu.Unlock()
			defer func() {
				h.users.mu.Lock()
				delete(h.users.asking, id)
				h.users.mu.Unlock()
				close(done)
			}()
			break
		}
		h.users.mu.Unlock()
		select {
		case <-wait: // the other lookup ended: use its answer (or ask, if it failed)
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	var c cachedUser
	u, err := h.api.GetUserInfoContext(ctx, id)
	switch {
	case err == nil:
		c = cachedUser{name: DisplayName(u), found: true, fetched: now}
	case IsAPIError(err, "user_not_found"):
		c = cachedUser{fetched: now}
	default:
		return "", false, err
	}
	h.users.mu.Lock()
	if h.users.names == nil {
		h.users.names = map[string]cachedUser{}
	}
	h.users.names[id] = c
	h.users.mu.Unlock()
	return c.name, c.found, nil
}

// CachedUserName returns a user's name if it is cached and fresh, without
// calling Slack (for the ack path).
func (h *Handlers) CachedUserName(id string) (string, bool) {
	now := h.now()
	h.users.mu.Lock()
	defer h.users.mu.Unlock()
	c, ok := h.users.names[id]
	if !ok || !c.found || now.Sub(c.fetched) >= userTTL || c.fetched.After(now) {
		return "", false
	}
	return c.name, true
}

// ForgetUser drops a cached name (on user_change: a new display name).
func (h *Handlers) ForgetUser(id string) {
	h.users.mu.Lock()
	delete(h.users.names, id)
	h.users.mu.Unlock()
}

// SetTeamURL tells the handlers the workspace's URL (auth.test's url,
// "https://acme.slack.com/"), so permalinks are built without a call.
func (h *Handlers) SetTeamURL(url string) { h.teamURL.Store(&url) }

// Permalink returns a message's permalink as Slack builds it
// (https://acme.slack.com/archives/C…/p1692269160000100, with ?thread_ts=…
// for a reply), locally when the team URL is known and with
// chat.getPermalink otherwise.
func (h *Handlers) Permalink(ctx context.Context, channel, ts, threadTS string) (string, error) {
	if link, ok := h.LocalPermalink(channel, ts, threadTS); ok {
		return link, nil
	}
	return h.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
}

// LocalPermalink builds a permalink without calling Slack; ok is false
// until the team URL is known.
func (h *Handlers) LocalPermalink(channel, ts, threadTS string) (string, bool) {
	base := h.teamURL.Load()
	if base == nil || *base == "" {
		return "", false
	}
	link := strings.TrimRight(*base, "/") + "/archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + threadTS + "&cid=" + channel
	}
	return link, true
}
