package timeline

import (
	"context"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
)

// historyPage is how many messages one conversations.history call asks
// for: Slack returns up to 999 but advises no more than 200.
const historyPage = 200

// historyLimit bounds the pins remembered as waiting for a read, and the
// messages read and not yet claimed by their fetch job.
const historyLimit = 10_000

// history batches the reads of pinned messages the bot did not see
// arrive (older than the bot, or missed): instead of one
// conversations.history call for each pin, the first fetch job of a
// channel reads every pin waiting there with one call over their range
// (newest first, a page of historyPage; further pages only while that
// cannot cost more calls than reading each pin alone), and the
// other jobs take their message from that read. It is a cache only: a pin
// the read did not find (a reply in a thread, a deleted message) is read
// alone, and a failed read fails each of its jobs, which retry as before.
type history struct {
	mu      sync.Mutex
	wanted  map[string]map[string]bool // channel → ts of pins waiting for a read
	reading map[string]*historyRead    // channel → the read in flight
	got     map[string]*slack.Message  // source key → read, waiting for its job
	order   []string                   // keys of got, oldest first, for eviction
	size    int                        // pins in wanted
}

type historyRead struct {
	covers map[string]bool // the ts it looks for
	done   chan struct{}
	err    error // set before done is closed
}

// pageFunc reads one page of up to limit messages of a channel's history
// between oldest and latest, inclusive: conversations.history.
type pageFunc func(ctx context.Context, channel, oldest, latest, cursor string, limit int) (msgs []slack.Message, next string, err error)

// want notes a pin whose message will be read, so that the read that
// comes first covers it too. A note left by a transaction that did not
// commit only widens a read.
func (h *history) want(channel, ts string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wantLocked(channel, ts)
}

func (h *history) wantLocked(channel, ts string) {
	if h.size >= historyLimit {
		return // read alone, or by a later read
	}
	if h.wanted == nil {
		h.wanted = map[string]map[string]bool{}
	}
	if h.wanted[channel] == nil {
		h.wanted[channel] = map[string]bool{}
	}
	if !h.wanted[channel][ts] {
		h.wanted[channel][ts] = true
		h.size++
	}
}

// find returns the message at channel/ts from a shared read of the
// channel's history. ok false (and no error) means no read found it: the
// caller reads it alone.
func (h *history) find(ctx context.Context, channel, ts string, page pageFunc) (msg *slack.Message, ok bool, err error) {
	key := handlers.SourceKey(channel, ts)
	for {
		h.mu.Lock()
		if m, found := h.claimLocked(key); found {
			h.mu.Unlock()
			return m, true, nil
		}
		if r := h.reading[channel]; r != nil {
			h.mu.Unlock()
			select {
			case <-r.done:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
			if !r.covers[ts] {
				continue // it began before this pin was wanted: another read
			}
			h.mu.Lock()
			m, found := h.claimLocked(key)
			h.mu.Unlock()
			if found {
				return m, true, nil
			}
			return nil, false, r.err
		}
		// Lead a read of every pin waiting in the channel, this one too.
		covers := h.wanted[channel]
		if covers == nil {
			covers = map[string]bool{}
		}
		if !covers[ts] {
			covers[ts] = true
			h.size++
		}
		delete(h.wanted, channel)
		h.size -= len(covers)
		r := &historyRead{covers: covers, done: make(chan struct{})}
		if h.reading == nil {
			h.reading = map[string]*historyRead{}
		}
		h.reading[channel] = r
		h.mu.Unlock()

		found, err := readRange(ctx, channel, covers, page)

		h.mu.Lock()
		delete(h.reading, channel)
		for t, m := range found {
			if t != ts {
				h.putLocked(handlers.SourceKey(channel, t), m)
			}
		}
		if err != nil {
			// Those not read are wanted again: their jobs (this one too)
			// retry, and the first retry reads them all again.
			for t := range covers {
				if found[t] == nil {
					h.wantLocked(channel, t)
				}
			}
		}
		r.err = err
		h.mu.Unlock()
		close(r.done)
		if m := found[ts]; m != nil {
			return m, true, nil
		}
		return nil, false, err
	}
}

func (h *history) claimLocked(key string) (*slack.Message, bool) {
	m, ok := h.got[key]
	if ok {
		delete(h.got, key) // its key stays in order until evicted: harmless
	}
	return m, ok
}

func (h *history) putLocked(key string, m *slack.Message) {
	if h.got == nil {
		h.got = map[string]*slack.Message{}
	}
	if _, ok := h.got[key]; !ok {
		h.order = append(h.order, key)
		for len(h.order) > historyLimit {
			delete(h.got, h.order[0])
			h.order = h.order[1:]
		}
	}
	h.got[key] = m
}

// readRange reads the channel's history from the oldest to the newest ts
// of covers and returns the messages of covers it found, by ts. It stops
// when it found them all, at the end of the range, or when another page
// could make it cost more calls than reading each pin alone: it pages on
// only while it found more pins than it made calls. (The first page holds
// the newest pin, unless that is a reply in a thread.)
func readRange(ctx context.Context, channel string, covers map[string]bool, page pageFunc) (map[string]*slack.Message, error) {
	var oldest, latest string
	for ts := range covers {
		if oldest == "" || tsLess(ts, oldest) {
			oldest = ts
		}
		if latest == "" || tsLess(latest, ts) {
			latest = ts
		}
	}
	limit := historyPage
	if len(covers) == 1 {
		limit = 1 // the range is that message
	}
	found := map[string]*slack.Message{}
	cursor := ""
	for calls := 1; ; calls++ {
		msgs, next, err := page(ctx, channel, oldest, latest, cursor, limit)
		if err != nil {
			return found, err
		}
		for i := range msgs {
			if t := msgs[i].Timestamp; covers[t] && found[t] == nil {
				found[t] = &msgs[i]
			}
		}
		if len(found) == len(covers) || next == "" || len(found) <= calls {
			return found, nil
		}
		cursor = next
	}
}

// tsLess orders Slack timestamps ("1692269160.000100") by time.
func tsLess(a, b string) bool {
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	if len(ai) != len(bi) {
		return len(ai) < len(bi)
	}
	if ai != bi {
		return ai < bi
	}
	return af < bf
}

// historyPages reads conversations.history through the handlers' client,
// for history.find.
func (m *Module) historyPages(ctx context.Context, channel, oldest, latest, cursor string, limit int) ([]slack.Message, string, error) {
	res, err := m.h.API().GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Oldest: oldest, Latest: latest, Inclusive: true, Limit: limit, Cursor: cursor})
	if err != nil {
		if handlers.IsAPIError(err, "channel_not_found", "not_in_channel") {
			return nil, "", bot.Final(err)
		}
		return nil, "", err
	}
	next := ""
	if res.HasMore {
		next = res.ResponseMetaData.NextCursor
	}
	return res.Messages, next, nil
}
