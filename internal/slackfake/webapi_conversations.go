package slackfake

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// validChannelName applies Slack's channel naming rules: lowercase letters,
// digits, hyphens and underscores, at most 80 characters.
func validChannelName(name string) error {
	switch {
	case name == "":
		return apiError("invalid_name_required")
	case len([]rune(name)) > 80:
		return apiError("invalid_name_maxlength")
	}
	punct := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			punct = false
		case r == '-' || r == '_':
		default:
			return apiError("invalid_name_specials")
		}
	}
	if punct {
		return apiError("invalid_name_punctuation")
	}
	return nil
}

func (s *Server) apiConvCreate(r *apiRequest) (obj, error) {
	name := r.get("name")
	if err := validChannelName(name); err != nil {
		return nil, err
	}
	if s.channelByNameLocked(name) != nil {
		return nil, apiError("name_taken")
	}
	c := s.newChannelLocked(name, boolArg(r.get("is_private")), s.opts.BotUserID)
	s.publishLocked(Event{Kind: EventChannelCreated, Channel: c.ID, User: s.opts.BotUserID, Text: name})
	if !c.IsPrivate {
		s.emitEventLocked("channel_created", obj{"type": "channel_created", "channel": obj{
			"id": c.ID, "name": c.Name, "created": c.Created.Unix(), "creator": c.Creator,
			"is_channel": true, "name_normalized": c.Name,
		}}, nil)
	}
	s.joinLocked(c, s.opts.BotUserID, "")
	return obj{"channel": s.channelWireLocked(c)}, nil
}

// visibleChannelLocked resolves a channel ID the bot can see.
func (s *Server) visibleChannelLocked(id string) (*channel, error) {
	c := s.channels[id]
	if !s.visibleLocked(c) {
		return nil, apiError("channel_not_found")
	}
	return c, nil
}

func (s *Server) apiConvInfo(r *apiRequest) (obj, error) {
	c, err := s.visibleChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	return obj{"channel": s.channelWireLocked(c)}, nil
}

// page applies Slack's cursor pagination to n items: it returns the index
// range of this page and the next cursor ("" on the last page).
func page(n int, cursor, limitArg string, def, max int) (from, to int, next string, err error) {
	limit, _ := strconv.Atoi(limitArg)
	if limit <= 0 {
		limit = def
	}
	if limit > max {
		limit = max
	}
	if cursor != "" {
		b, derr := base64.StdEncoding.DecodeString(cursor)
		off, aerr := strconv.Atoi(strings.TrimPrefix(string(b), "next:"))
		if derr != nil || aerr != nil || !strings.HasPrefix(string(b), "next:") || off < 0 || off > n {
			return 0, 0, "", apiError("invalid_cursor")
		}
		from = off
	}
	to = min(from+limit, n)
	if to < n {
		next = base64.StdEncoding.EncodeToString([]byte("next:" + strconv.Itoa(to)))
	}
	return from, to, next, nil
}

func (s *Server) apiConvList(r *apiRequest) (obj, error) {
	types := map[string]bool{}
	for t := range strings.SplitSeq(r.get("types"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	if len(types) == 0 {
		types["public_channel"] = true
	}
	return s.listChannelsLocked(r, types, "")
}

func (s *Server) apiUsersConversations(r *apiRequest) (obj, error) {
	u := r.get("user")
	if u == "" {
		u = s.opts.BotUserID
	}
	if s.users[u] == nil {
		return nil, apiError("user_not_found")
	}
	types := map[string]bool{}
	for t := range strings.SplitSeq(r.get("types"), ",") {
		types[strings.TrimSpace(t)] = true
	}
	if len(types) == 1 && types[""] {
		types = map[string]bool{"public_channel": true}
	}
	return s.listChannelsLocked(r, types, u)
}

func (s *Server) listChannelsLocked(r *apiRequest, types map[string]bool, member string) (obj, error) {
	var all []*channel
	for _, id := range s.chanOrder {
		c := s.channels[id]
		kind := "public_channel"
		if c.IsIM {
			kind = "im"
		} else if c.IsPrivate {
			kind = "private_channel"
		}
		if !types[kind] || !s.visibleLocked(c) || (member != "" && !c.isMember(member)) {
			continue
		}
		if c.IsArchived && boolArg(r.get("exclude_archived")) {
			continue
		}
		all = append(all, c)
	}
	from, to, next, err := page(len(all), r.get("cursor"), r.get("limit"), 100, 1000)
	if err != nil {
		return nil, err
	}
	out := []obj{}
	for _, c := range all[from:to] {
		out = append(out, s.channelWireLocked(c))
	}
	return obj{"channels": out, "response_metadata": obj{"next_cursor": next}}, nil
}

func (s *Server) apiConvMembers(r *apiRequest) (obj, error) {
	c, err := s.visibleChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(len(c.Members), r.get("cursor"), r.get("limit"), 100, 1000)
	if err != nil {
		return nil, err
	}
	return obj{"members": append([]string{}, c.Members[from:to]...), "response_metadata": obj{"next_cursor": next}}, nil
}

// memberChannelLocked resolves a channel the bot must be a member of.
func (s *Server) memberChannelLocked(id string) (*channel, error) {
	c, err := s.visibleChannelLocked(id)
	if err != nil {
		return nil, err
	}
	if c.IsIM {
		return nil, apiError("method_not_supported_for_channel_type")
	}
	if !c.isMember(s.opts.BotUserID) {
		return nil, apiError("not_in_channel")
	}
	if c.IsArchived {
		return nil, apiError("is_archived")
	}
	return c, nil
}

func (s *Server) apiConvInvite(r *apiRequest) (obj, error) {
	c, err := s.memberChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	force := boolArg(r.get("force"))
	var invite []string
	var already []obj
	for u := range strings.SplitSeq(r.get("users"), ",") {
		u = strings.TrimSpace(u)
		switch {
		case u == "":
		case u == s.opts.BotUserID:
			if !force {
				return nil, apiError("cant_invite_self")
			}
		case s.users[u] == nil:
			if !force {
				return obj{"errors": []obj{{"user": u, "ok": false, "error": "user_not_found"}}}, apiError("user_not_found")
			}
		case c.isMember(u):
			already = append(already, obj{"user": u, "ok": false, "error": "already_in_channel"})
		default:
			invite = append(invite, u)
		}
	}
	if len(invite) == 0 && len(already) == 0 {
		return nil, apiError("no_user")
	}
	if len(invite) == 0 {
		return obj{"errors": already}, apiError("already_in_channel")
	}
	for _, u := range invite {
		s.joinLocked(c, u, s.opts.BotUserID)
	}
	return obj{"channel": s.channelWireLocked(c)}, nil
}

func (s *Server) apiConvJoin(r *apiRequest) (obj, error) {
	c, err := s.visibleChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	if c.IsIM || c.IsPrivate {
		return nil, apiError("method_not_supported_for_channel_type")
	}
	if c.IsArchived {
		return nil, apiError("is_archived")
	}
	if c.isMember(s.opts.BotUserID) {
		return obj{
			"channel": s.channelWireLocked(c), "warning": "already_in_channel",
			"response_metadata": obj{"warnings": []string{"already_in_channel"}},
		}, nil
	}
	s.joinLocked(c, s.opts.BotUserID, "")
	return obj{"channel": s.channelWireLocked(c)}, nil
}

func (s *Server) apiConvLeave(r *apiRequest) (obj, error) {
	c, err := s.visibleChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	if c.IsIM {
		return nil, apiError("method_not_supported_for_channel_type")
	}
	if !c.isMember(s.opts.BotUserID) {
		return obj{"not_in_channel": true}, nil
	}
	s.leaveLocked(c, s.opts.BotUserID)
	return obj{}, nil
}

func (s *Server) apiConvKick(r *apiRequest) (obj, error) {
	c, err := s.memberChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	u := r.get("user")
	switch {
	case u == s.opts.BotUserID:
		return nil, apiError("cant_kick_self")
	case s.users[u] == nil:
		return nil, apiError("user_not_found")
	case !c.isMember(u):
		return nil, apiError("not_in_channel")
	}
	s.leaveLocked(c, u)
	return obj{}, nil
}

func (s *Server) apiConvArchive(r *apiRequest) (obj, error) {
	c, err := s.visibleChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	if c.IsArchived {
		return nil, apiError("already_archived")
	}
	if !c.isMember(s.opts.BotUserID) {
		return nil, apiError("not_in_channel")
	}
	s.postLocked(c, &message{user: s.opts.BotUserID, subtype: "channel_archive", text: "archived the channel"})
	c.IsArchived = true
	s.publishLocked(Event{Kind: EventChannelArchived, Channel: c.ID, User: s.opts.BotUserID})
	return obj{}, nil
}

func (s *Server) apiConvOpen(r *apiRequest) (obj, error) {
	if id := r.get("channel"); id != "" {
		c, err := s.visibleChannelLocked(id)
		if err != nil {
			return nil, err
		}
		return obj{"channel": s.channelWireLocked(c), "no_op": true, "already_open": true}, nil
	}
	var users []string
	for u := range strings.SplitSeq(r.get("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return nil, apiError("users_list_not_supplied")
	}
	for _, u := range users {
		if s.users[u] == nil {
			return nil, apiError("user_not_found")
		}
	}
	if len(users) > 1 {
		// Group DMs (mpim) are not modelled.
		return nil, apiError("not_supported")
	}
	_, existed := s.dms[users[0]]
	c := s.dmLocked(users[0])
	ch := obj{"id": c.ID}
	if boolArg(r.get("return_im")) {
		ch = s.channelWireLocked(c)
	}
	res := obj{"channel": ch}
	if existed {
		res["no_op"], res["already_open"] = true, true
	}
	return res, nil
}

func (s *Server) apiConvSetTopic(r *apiRequest) (obj, error) {
	c, err := s.memberChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	topic := r.get("topic")
	if len([]rune(topic)) > 250 {
		return nil, apiError("too_long")
	}
	s.setTopicLocked(c, s.opts.BotUserID, topic)
	return obj{"channel": s.channelWireLocked(c)}, nil
}

func (s *Server) apiConvSetPurpose(r *apiRequest) (obj, error) {
	c, err := s.memberChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	purpose := r.get("purpose")
	if len([]rune(purpose)) > 250 {
		return nil, apiError("too_long")
	}
	c.Purpose = purpose
	s.postLocked(c, &message{user: s.opts.BotUserID, subtype: "channel_purpose", text: "set the channel description: " + purpose})
	return obj{"channel": s.channelWireLocked(c)}, nil
}
