package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// withHandoffChannel makes a channel with the bot in it and an escalation
// file whose platform-primary announces its handoffs there; *id gets it.
func withHandoffChannel(id *string) harnessOption {
	return func(h *harness) {
		*id = h.fake.AddChannel("platform-oncall", false, h.alice, h.fake.BotUserID())
		file := filepath.Join(h.t.(*testing.T).TempDir(), "escalation.yaml")
		if err := os.WriteFile(file, []byte(ocSchedules(*id)+ocPolicy), 0o600); err != nil {
			h.t.Fatal(err)
		}
		h.cfg.EscalationFile = file
	}
}

func onCallDMs(h *harness, user string) []slackfake.Message {
	return botMessages(h.fake, h.fake.DM(user), "You are on call for platform-primary")
}

// At a handoff the incoming person gets a DM and the handoff channel hears
// it; starting, or restarting mid-shift, announces nothing; a handoff that
// fell due while the bot was down is announced once when it is back.
func TestOnCallHandoffs(t *testing.T) {
	var ch string
	h := ocHarness(t, "", withHandoffChannel(&ch))
	h.idle()
	h.restart()
	h.idle()
	if n := len(botMessages(h.fake, ch, "Handoff")) + len(onCallDMs(h, pgCarol)); n != 0 {
		t.Errorf("%d handoff messages at start and after a restart mid-shift, want none", n)
	}

	// Friday 07:00 UTC (09:00 in Berlin): dave takes over from carol.
	h.FastForward(21 * time.Hour)
	h.ExpectDM(pgDave, "You are on call for platform-primary from Fri 18 Aug 07:00 UTC (09:00 CEST Europe/Berlin) to Sat 19 Aug 07:00 UTC (09:00 CEST Europe/Berlin).")
	h.ExpectMessage(ch, "Handoff: <@"+pgDave+"> is on call for platform-primary from Fri 18 Aug 07:00 UTC", "Thanks, <@"+pgCarol+">.")
	h.restart()
	h.FastForward(time.Hour)
	if n := len(onCallDMs(h, pgDave)); n != 1 {
		t.Errorf("dave got %d on-call DMs, want 1", n)
	}

	// Saturday's handoff falls due while the bot is down: announced once,
	// when it is back, and not again at the next restart.
	h.stop()
	h.FastForward(24 * time.Hour)
	h.start()
	h.ExpectDM(pgErin, "You are on call for platform-primary from Sat 19 Aug 07:00 UTC")
	h.ExpectMessage(ch, "Handoff: <@"+pgErin+">", "Thanks, <@"+pgDave+">.")
	h.restart()
	h.idle()
	if n := len(onCallDMs(h, pgErin)); n != 1 {
		t.Errorf("erin got %d on-call DMs, want 1", n)
	}
	if n := len(botMessages(h.fake, ch, "Handoff")); n != 2 {
		t.Errorf("%d handoff posts, want 2 (dave, erin)", n)
	}
}

// An override is a handoff too: at its start and at its end.
func TestOnCallHandoffAtAnOverride(t *testing.T) {
	var ch string
	h := ocHarness(t, "", withHandoffChannel(&ch))
	h.slash(pgCarol, h.general, "override platform-primary <@"+pgErin+"> 12:00 14:00")
	h.FastForward(2 * time.Hour)
	h.ExpectDM(pgErin, "You are on call for platform-primary from Thu 17 Aug 12:00 UTC (14:00 CEST Europe/Berlin) to Thu 17 Aug 14:00 UTC", "override #1")
	h.FastForward(2 * time.Hour)
	h.ExpectDM(pgCarol, "You are on call for platform-primary from Thu 17 Aug 14:00 UTC (16:00 CEST Europe/Berlin) to Fri 18 Aug 07:00 UTC")
	h.ExpectMessage(ch, "Handoff: <@"+pgCarol+">", "Thanks, <@"+pgErin+">.")
}
