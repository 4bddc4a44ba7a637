package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const ocGroup = "S0PLATONCALL"

// withOnCallGroup gives platform-primary the user group ocGroup, which the
// fake has with erin in it (who is not on call at simStart).
func withOnCallGroup(h *harness) {
	h.fake.AddUserGroup(ocGroup, "platform-oncall", pgErin)
	yaml := strings.Replace(ocSchedules(""), "    description: Platform primary on-call\n",
		"    description: Platform primary on-call\n    usergroup: "+ocGroup+"\n", 1)
	file := filepath.Join(h.t.(*testing.T).TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(yaml+ocPolicy), 0o600); err != nil {
		h.t.Fatal(err)
	}
	h.cfg.EscalationFile = file
}

func (h *harness) waitGroup(want ...string) {
	h.t.Helper()
	h.waitFor("the on-call user group to be "+strings.Join(want, ","), func() bool {
		return slices.Equal(h.fake.UserGroupMembers(ocGroup), want)
	})
}

// A schedule's user group is exactly who is on call: from the start, then
// at each handoff (an override's too), set with usergroups.users.update.
func TestOnCallUsergroupFollowsHandoffs(t *testing.T) {
	h := ocHarness(t, "", withOnCallGroup)
	h.waitGroup(pgCarol) // Thursday: carol

	// Friday 07:00 UTC (09:00 in Berlin): dave takes over.
	h.FastForward(21 * time.Hour)
	h.waitGroup(pgDave)
	h.ExpectDM(pgDave, "You are on call for platform-primary from Fri 18 Aug 07:00 UTC")

	// An override puts erin on call for two hours, then dave is back.
	h.slash(pgDave, h.general, "override platform-primary <@"+pgErin+"> 08:00 10:00")
	h.FastForward(time.Hour)
	h.waitGroup(pgErin)
	h.FastForward(2 * time.Hour)
	h.waitGroup(pgDave)
	h.idle()
	if calls := h.fake.Calls("usergroups.users.update"); len(calls) != 4 {
		t.Errorf("%d usergroups.users.update calls, want 4 (carol, dave, erin, dave)", len(calls))
	}
}
