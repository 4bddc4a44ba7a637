package slackfake

import (
	"testing"

	"github.com/slack-go/slack"
)

// usergroups.users.update replaces the members, which users.list and the
// fake's accessor then show; Slack's errors for a bad group or users.
func TestUserGroupUpdate(t *testing.T) {
	fake, api := newAPI(t)
	alice := fake.AddUser(User{Name: "alice", Email: "alice@example.com"})
	bob := fake.AddUser(User{Name: "bob"})
	fake.AddUserGroup("S1", "oncall", alice)

	g, err := api.UpdateUserGroupMembersContext(tctx(t), "S1", bob+","+bob, slack.UpdateUserGroupMembersOptionIncludeCount(true))
	if err != nil || g.ID != "S1" || g.Handle != "oncall" || len(g.Users) != 1 || g.Users[0] != bob || g.UserCount != 1 {
		t.Fatalf("update = %+v, %v", g, err)
	}
	if users, err := api.GetUserGroupMembersContext(tctx(t), "S1"); err != nil || len(users) != 1 || users[0] != bob {
		t.Fatalf("list after update = %v, %v", users, err)
	}
	if m := fake.UserGroupMembers("S1"); len(m) != 1 || m[0] != bob {
		t.Fatalf("UserGroupMembers = %v", m)
	}
	for _, c := range []struct{ group, users, want string }{
		{"S404", alice, "no_such_subteam"},
		{"S1", "", "no_users_provided"},
		{"S1", alice + ",U404", "invalid_users"},
		{"S1", fake.BotUserID(), "invalid_users"},
	} {
		if _, err := api.UpdateUserGroupMembersContext(tctx(t), c.group, c.users); err == nil || err.Error() != c.want {
			t.Errorf("update(%s, %q) = %v, want %s", c.group, c.users, err, c.want)
		}
	}
	if m := fake.UserGroupMembers("S1"); len(m) != 1 || m[0] != bob {
		t.Errorf("a failed update changed the group: %v", m)
	}
	if fake.UserGroupMembers("S404") != nil {
		t.Error("members of an unknown group")
	}
	u, err := api.GetUserByEmailContext(tctx(t), "ALICE@example.com")
	if err != nil || u.ID != alice {
		t.Fatalf("lookupByEmail = %+v, %v", u, err)
	}
}
