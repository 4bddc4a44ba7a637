package slackfake

import (
	"fmt"
	"strings"
)

// AddUser adds a workspace member and returns its ID (generated when
// u.ID is empty).
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.addUserLocked(u)
	s.notifyLocked()
	return id
}

func (s *Server) addUserLocked(u User) string {
	if u.ID == "" {
		u.ID = s.nextIDLocked("U")
	}
	if u.Name == "" {
		u.Name = strings.ToLower(u.ID)
	}
	if u.RealName == "" {
		u.RealName = u.Name
	}
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	s.users[u.ID] = &user{User: u, updated: s.opts.Now()}
	return u.ID
}

// AddChannel creates a channel as workspace setup, without events or join
// messages, and returns its ID. It panics if the name is taken, since that
// is a mistake in the test.
func (s *Server) AddChannel(name string, private bool, members ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channelByNameLocked(name) != nil {
		panic(fmt.Sprintf("slackfake: AddChannel: name %q taken", name))
	}
	creator := s.opts.BotUserID
	if len(members) > 0 {
		creator = members[0]
	}
	c := s.newChannelLocked(name, private, creator)
	for _, m := range members {
		if !c.isMember(m) {
			c.Members = append(c.Members, m)
		}
	}
	s.notifyLocked()
	return c.ID
}

// AddUserGroup creates a user group (for usergroups.users.list) with the
// given ID (S…) and handle.
func (s *Server) AddUserGroup(id, handle string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = &userGroup{id: id, handle: handle, members: append([]string(nil), members...)}
	s.notifyLocked()
}

func (s *Server) newChannelLocked(name string, private bool, creator string) *channel {
	c := &channel{
		Channel: Channel{
			ID: s.nextIDLocked("C"), Name: name, IsPrivate: private,
			Creator: creator, Created: s.opts.Now(),
		},
		byTS: map[string]*message{},
	}
	s.channels[c.ID] = c
	s.chanOrder = append(s.chanOrder, c.ID)
	return c
}

func (s *Server) channelByNameLocked(name string) *channel {
	name = strings.TrimPrefix(name, "#")
	for _, id := range s.chanOrder {
		if c := s.channels[id]; !c.IsIM && c.Name == name {
			return c
		}
	}
	return nil
}

// dmLocked returns the DM between the bot and a user, creating it on first
// use; Slack reuses one D… channel per pair.
func (s *Server) dmLocked(userID string) *channel {
	if id, ok := s.dms[userID]; ok {
		return s.channels[id]
	}
	c := &channel{
		Channel: Channel{
			ID: s.nextIDLocked("D"), IsIM: true, IsPrivate: true, User: userID,
			Created: s.opts.Now(), Members: []string{userID, s.opts.BotUserID},
		},
		byTS: map[string]*message{},
	}
	if userID == s.opts.BotUserID {
		c.Members = []string{userID}
	}
	s.channels[c.ID] = c
	s.chanOrder = append(s.chanOrder, c.ID)
	s.dms[userID] = c.ID
	return c
}

// resolveChannelLocked finds a conversation by ID, by name ("#x" or "x"),
// or, for a user ID, the DM with that user, as chat.postMessage accepts.
func (s *Server) resolveChannelLocked(ref string) *channel {
	if c := s.channels[ref]; c != nil {
		return c
	}
	if _, ok := s.users[ref]; ok {
		return s.dmLocked(ref)
	}
	return s.channelByNameLocked(ref)
}

// visibleLocked reports whether the bot can see a conversation at all:
// public channels always, private ones and DMs only as a member.
func (s *Server) visibleLocked(c *channel) bool {
	return c != nil && (!c.IsPrivate || c.isMember(s.opts.BotUserID))
}

// joinLocked adds a member the way Slack does: a channel_join message in
// the channel and a member_joined_channel event.
func (s *Server) joinLocked(c *channel, userID, inviter string) {
	if c.isMember(userID) {
		return
	}
	c.Members = append(c.Members, userID)
	s.publishLocked(Event{Kind: EventMemberJoined, Channel: c.ID, User: userID})
	ev := obj{
		"type": "member_joined_channel", "user": userID, "channel": c.ID,
		"channel_type": map[bool]string{true: "G", false: "C"}[c.IsPrivate],
		"team":         s.opts.TeamID, "event_ts": s.nextTSLocked(),
	}
	if inviter != "" {
		ev["inviter"] = inviter
	}
	s.emitEventLocked("member_joined_channel", ev, c)
	s.postLocked(c, &message{
		user: userID, subtype: "channel_join", inviter: inviter,
		text: fmt.Sprintf("<@%s> has joined the channel", userID),
	})
}

// leaveLocked removes a member: a channel_leave message, then a
// member_left_channel event (delivered even when the bot is the one
// leaving, since it was a member when it happened).
func (s *Server) leaveLocked(c *channel, userID string) {
	if !c.isMember(userID) {
		return
	}
	s.postLocked(c, &message{
		user: userID, subtype: "channel_leave",
		text: fmt.Sprintf("<@%s> has left the channel", userID),
	})
	s.emitEventLocked("member_left_channel", obj{
		"type": "member_left_channel", "user": userID, "channel": c.ID,
		"channel_type": map[bool]string{true: "G", false: "C"}[c.IsPrivate],
		"team":         s.opts.TeamID, "event_ts": s.nextTSLocked(),
	}, c)
	c.removeMember(userID)
	s.publishLocked(Event{Kind: EventMemberLeft, Channel: c.ID, User: userID})
}

func (s *Server) apiUsersInfo(r *apiRequest) (obj, error) {
	u := s.users[r.get("user")]
	if u == nil {
		return nil, apiError("user_not_found")
	}
	return obj{"user": s.userWireLocked(u)}, nil
}

func (s *Server) apiUsersByEmail(r *apiRequest) (obj, error) {
	email := strings.ToLower(r.get("email"))
	for _, id := range s.userOrder {
		if u := s.users[id]; email != "" && strings.ToLower(u.Email) == email {
			return obj{"user": s.userWireLocked(u)}, nil
		}
	}
	return nil, apiError("users_not_found")
}

func (s *Server) apiUserGroupUsers(r *apiRequest) (obj, error) {
	g := s.groups[r.get("usergroup")]
	if g == nil {
		return nil, apiError("no_such_subteam")
	}
	return obj{"users": append([]string{}, g.members...)}, nil
}

// UserGroupMembers returns a user group's members (nil if there is no such
// group), as usergroups.users.update last set them.
func (s *Server) UserGroupMembers(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[id]; g != nil {
		return append([]string{}, g.members...)
	}
	return nil
}

// apiUserGroupUpdate is usergroups.users.update: users (comma-separated
// IDs, at least one) replace the group's members. Slack answers the group;
// an unknown group is no_such_subteam, no users no_users_provided, an ID
// that is no member of the workspace invalid_users.
func (s *Server) apiUserGroupUpdate(r *apiRequest) (obj, error) {
	g := s.groups[r.get("usergroup")]
	if g == nil {
		return nil, apiError("no_such_subteam")
	}
	var members []string
	seen := map[string]bool{}
	for _, id := range strings.Split(r.get("users"), ",") {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		if u := s.users[id]; u == nil || u.IsBot {
			return nil, apiError("invalid_users")
		}
		seen[id] = true
		members = append(members, id)
	}
	if len(members) == 0 {
		return nil, apiError("no_users_provided")
	}
	g.members = members
	now := s.opts.Now().Unix()
	group := obj{
		"id": g.id, "team_id": s.opts.TeamID, "is_usergroup": true, "name": g.handle,
		"description": "", "handle": g.handle, "is_external": false,
		"date_create": now, "date_update": now, "date_delete": 0, "auto_type": nil,
		"created_by": s.opts.BotUserID, "updated_by": s.opts.BotUserID, "deleted_by": nil,
		"prefs": obj{"channels": []string{}, "groups": []string{}},
		"users": append([]string{}, members...),
	}
	if r.get("include_count") == "true" || r.get("include_count") == "1" {
		group["user_count"] = len(members)
	}
	s.notifyLocked()
	return obj{"usergroup": group}, nil
}
