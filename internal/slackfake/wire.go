package slackfake

import (
	"encoding/json"
	"strings"
	"time"
)

// This file renders the fake's state in Slack's wire encodings: the objects
// the Web API returns and events carry. Field names and shapes follow
// Slack's documented examples.

func (s *Server) userWireLocked(u *user) obj {
	tz, label, offset := tzInfo(u.TZ, s.opts.Now())
	profile := obj{
		"real_name":               u.RealName,
		"real_name_normalized":    u.RealName,
		"display_name":            u.DisplayName,
		"display_name_normalized": u.DisplayName,
		"avatar_hash":             "g" + strings.ToLower(u.ID),
		"image_24":                "https://fake.slack-edge.com/avatar_24.png",
		"image_48":                "https://fake.slack-edge.com/avatar_48.png",
		"image_72":                "https://fake.slack-edge.com/avatar_72.png",
		"team":                    s.opts.TeamID,
		"status_text":             "",
		"status_emoji":            "",
	}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	if u.IsBot && u.ID == s.opts.BotUserID {
		profile["bot_id"] = s.opts.BotID
		profile["api_app_id"] = s.opts.AppID
		profile["always_active"] = true
	}
	return obj{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "deleted": false,
		"color": "9f69e7", "real_name": u.RealName,
		"tz": tz, "tz_label": label, "tz_offset": offset,
		"profile": profile, "is_admin": false, "is_owner": false,
		"is_primary_owner": false, "is_restricted": false,
		"is_ultra_restricted": false, "is_bot": u.IsBot,
		"is_app_user": false, "updated": u.updated.Unix(),
		"is_email_confirmed": !u.IsBot,
	}
}

// tzInfo returns the zone name, label and offset Slack reports for a user.
func tzInfo(zone string, now time.Time) (string, string, int) {
	if zone == "" {
		zone = "Europe/London"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return zone, zone, 0
	}
	name, off := now.In(loc).Zone()
	return zone, name, off
}

func (s *Server) channelWireLocked(c *channel) obj {
	if c.IsIM {
		return obj{
			"id": c.ID, "created": c.Created.Unix(), "is_im": true,
			"is_org_shared": false, "user": c.User, "is_user_deleted": false,
			"priority": 0, "is_open": true,
		}
	}
	topicSet := int64(0)
	if !c.topicSet.IsZero() {
		topicSet = c.topicSet.Unix()
	}
	return obj{
		"id": c.ID, "name": c.Name, "name_normalized": c.Name,
		// Private channels created since 2021 have C ids and report
		// is_channel true, is_group false.
		"is_channel": true, "is_group": false, "is_im": false, "is_mpim": false,
		"is_private": c.IsPrivate, "created": c.Created.Unix(),
		"creator": c.Creator, "is_archived": c.IsArchived, "is_general": false,
		"unlinked": 0, "is_shared": false, "is_ext_shared": false,
		"is_org_shared": false, "pending_shared": []string{},
		"is_pending_ext_shared": false,
		"is_member":             c.isMember(s.opts.BotUserID),
		"num_members":           len(c.Members),
		"topic":                 obj{"value": c.Topic, "creator": c.topicCreator, "last_set": topicSet},
		"purpose":               obj{"value": c.Purpose, "creator": "", "last_set": 0},
		"previous_names":        []string{},
		"priority":              0,
	}
}

func (s *Server) botProfile() obj {
	return obj{
		"id": s.opts.BotID, "deleted": false, "name": s.opts.BotName,
		"updated": 1700000000, "app_id": s.opts.AppID, "team_id": s.opts.TeamID,
		"icons": obj{"image_36": "https://fake.slack-edge.com/bot_36.png",
			"image_48": "https://fake.slack-edge.com/bot_48.png",
			"image_72": "https://fake.slack-edge.com/bot_72.png"},
	}
}

// messageWireLocked renders a stored message as Slack's message object.
func (s *Server) messageWireLocked(c *channel, m *message) obj {
	w := obj{"type": "message", "text": m.text, "ts": m.ts, "team": s.opts.TeamID}
	if m.subtype != "" {
		w["subtype"] = m.subtype
	}
	if m.user != "" {
		w["user"] = m.user
	}
	if m.botID != "" {
		w["bot_id"] = m.botID
		w["app_id"] = s.opts.AppID
		w["bot_profile"] = s.botProfile()
	}
	if m.clientMsgID != "" {
		w["client_msg_id"] = m.clientMsgID
	}
	if len(m.blocks) > 0 {
		w["blocks"] = m.blocks
	}
	if len(m.attachments) > 0 {
		w["attachments"] = m.attachments
	}
	if len(m.metadata) > 0 {
		w["metadata"] = m.metadata
	}
	if m.inviter != "" {
		w["inviter"] = m.inviter
	}
	if m.subtype == "channel_topic" {
		w["topic"] = m.topic
	}
	if len(m.files) > 0 {
		var fs []obj
		for _, id := range m.files {
			if f := s.files[id]; f != nil {
				fs = append(fs, s.fileWireLocked(f))
			}
		}
		w["files"] = fs
		w["upload"] = m.botID == ""
		w["display_as_bot"] = false
	}
	// Edits by people carry "edited"; chat.update by the app does not.
	if m.editedBy != "" && m.botID == "" {
		w["edited"] = obj{"user": m.editedBy, "ts": m.editedTS}
	}
	if len(m.reactions) > 0 {
		var rs []obj
		for _, r := range m.reactions {
			rs = append(rs, obj{"name": r.name, "users": r.users, "count": len(r.users)})
		}
		w["reactions"] = rs
	}
	if m.pinned {
		w["pinned_to"] = []string{c.ID}
	}
	if m.isReply() {
		w["thread_ts"] = m.threadTS
		if p := c.byTS[m.threadTS]; p != nil {
			w["parent_user_id"] = p.user
		}
	} else if replies := s.repliesLocked(c, m); len(replies) > 0 {
		var users []string
		seen := map[string]bool{}
		for _, r := range replies {
			if !seen[r.user] {
				seen[r.user] = true
				users = append(users, r.user)
			}
		}
		w["thread_ts"] = m.ts
		w["reply_count"] = len(replies)
		w["reply_users_count"] = len(users)
		w["reply_users"] = users
		w["latest_reply"] = replies[len(replies)-1].ts
		w["is_locked"] = false
		w["subscribed"] = false
	}
	return w
}

// repliesLocked returns the live replies of a thread parent, oldest first.
func (s *Server) repliesLocked(c *channel, parent *message) []*message {
	var out []*message
	for _, m := range c.msgs {
		if m.threadTS == parent.ts && m.ts != parent.ts && !m.deleted {
			out = append(out, m)
		}
	}
	return out
}

func (s *Server) fileWireLocked(f *file) obj {
	base := s.srv.URL + "/files-pri/" + s.opts.TeamID + "-" + f.ID + "/" + f.Name
	ftype, mime := fileType(f.Name)
	return obj{
		"id": f.ID, "created": f.created.Unix(), "timestamp": f.created.Unix(),
		"name": f.Name, "title": f.Title, "mimetype": mime, "filetype": ftype,
		"pretty_type": strings.ToUpper(ftype), "user": f.User,
		"user_team": s.opts.TeamID, "editable": false, "size": f.size,
		"mode": "hosted", "is_external": false, "external_type": "",
		"is_public": len(f.Channels) > 0, "public_url_shared": false,
		"display_as_bot": false, "username": "",
		"url_private": base, "url_private_download": base + "?download=1",
		"permalink":        "https://" + s.opts.TeamDomain + ".slack.com/files/" + f.User + "/" + f.ID + "/" + f.Name,
		"permalink_public": "https://slack-files.com/" + s.opts.TeamID + "-" + f.ID,
		"channels":         append([]string{}, f.Channels...), "groups": []string{}, "ims": []string{},
		"comments_count": 0, "file_access": "visible",
	}
}

func fileType(name string) (ftype, mime string) {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = strings.ToLower(name[i+1:])
	}
	switch ext {
	case "md":
		return "markdown", "text/plain"
	case "json":
		return "json", "application/json"
	case "png":
		return "png", "image/png"
	case "csv":
		return "csv", "text/csv"
	case "txt", "log", "":
		return "text", "text/plain"
	default:
		return ext, "application/octet-stream"
	}
}

// raw re-encodes a wire object so it can be stored or compared as bytes.
func raw(v any) json.RawMessage { return mustJSON(v) }
