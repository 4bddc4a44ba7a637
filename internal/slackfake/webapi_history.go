package slackfake

import (
	"math"
	"slices"
)

// historyChannelLocked resolves the channel of conversations.history and
// conversations.replies: private conversations the bot is not in do not
// exist for it, public ones it has not joined answer not_in_channel.
func (s *Server) historyChannelLocked(id string) (*channel, error) {
	c, err := s.visibleChannelLocked(id)
	if err != nil {
		return nil, err
	}
	if !c.isMember(s.opts.BotUserID) {
		return nil, apiError("not_in_channel")
	}
	return c, nil
}

// window is the oldest/latest/inclusive time filter shared by history and
// replies.
type window struct {
	oldest, latest int64
	inclusive      bool
}

func parseWindow(r *apiRequest) (window, error) {
	w := window{oldest: 0, latest: math.MaxInt64, inclusive: boolArg(r.get("inclusive"))}
	if v := r.get("oldest"); v != "" {
		o, ok := parseTS(v)
		if !ok {
			return w, apiError("invalid_ts_oldest")
		}
		w.oldest = o
	}
	if v := r.get("latest"); v != "" {
		l, ok := parseTS(v)
		if !ok {
			return w, apiError("invalid_ts_latest")
		}
		w.latest = l
	}
	return w, nil
}

func (w window) has(ts string) bool {
	t, _ := parseTS(ts)
	if w.inclusive {
		return t >= w.oldest && t <= w.latest
	}
	return t > w.oldest && t < w.latest
}

// renderLocked renders a message for history or replies, dropping metadata
// unless include_all_metadata was asked for, as Slack does.
func (s *Server) renderLocked(c *channel, m *message, withMeta bool) obj {
	if m.deleted {
		// A deleted thread parent stays as a tombstone while it has replies.
		w := obj{
			"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
			"user": "USLACKBOT", "hidden": true, "ts": m.ts, "thread_ts": m.ts,
			"reply_count": len(s.repliesLocked(c, m)),
		}
		return w
	}
	w := s.messageWireLocked(c, m)
	if !withMeta {
		delete(w, "metadata")
	}
	return w
}

func (s *Server) apiConvHistory(r *apiRequest) (obj, error) {
	c, err := s.historyChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	win, err := parseWindow(r)
	if err != nil {
		return nil, err
	}
	var top []*message
	for _, m := range slices.Backward(c.msgs) {
		if m.isReply() && m.subtype != "thread_broadcast" {
			continue
		}
		if m.deleted && len(s.repliesLocked(c, m)) == 0 {
			continue
		}
		if win.has(m.ts) {
			top = append(top, m)
		}
	}
	from, to, next, err := page(len(top), r.get("cursor"), r.get("limit"), 100, 999)
	if err != nil {
		return nil, err
	}
	withMeta := boolArg(r.get("include_all_metadata"))
	msgs := []obj{}
	for _, m := range top[from:to] {
		msgs = append(msgs, s.renderLocked(c, m, withMeta))
	}
	res := obj{"messages": msgs, "has_more": next != "", "pin_count": s.pinCountLocked(c),
		"channel_actions_ts": nil, "channel_actions_count": 0}
	if next != "" {
		res["response_metadata"] = obj{"next_cursor": next}
	}
	return res, nil
}

func (s *Server) apiConvReplies(r *apiRequest) (obj, error) {
	c, err := s.historyChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	m := c.byTS[r.get("ts")]
	if m == nil {
		return nil, apiError("thread_not_found")
	}
	// Any reply's ts finds the whole thread.
	if m.isReply() {
		if m = c.byTS[m.threadTS]; m == nil {
			return nil, apiError("thread_not_found")
		}
	}
	replies := s.repliesLocked(c, m)
	if m.deleted && len(replies) == 0 {
		return nil, apiError("thread_not_found")
	}
	win, err := parseWindow(r)
	if err != nil {
		return nil, err
	}
	var in []*message
	for _, x := range replies {
		if win.has(x.ts) {
			in = append(in, x)
		}
	}
	from, to, next, err := page(len(in), r.get("cursor"), r.get("limit"), 1000, 1000)
	if err != nil {
		return nil, err
	}
	withMeta := boolArg(r.get("include_all_metadata"))
	// The parent leads every page, as Slack returns it.
	msgs := []obj{s.renderLocked(c, m, withMeta)}
	for _, x := range in[from:to] {
		msgs = append(msgs, s.renderLocked(c, x, withMeta))
	}
	res := obj{"messages": msgs, "has_more": next != ""}
	if next != "" {
		res["response_metadata"] = obj{"next_cursor": next}
	}
	return res, nil
}
