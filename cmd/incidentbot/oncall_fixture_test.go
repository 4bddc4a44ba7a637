package main

// The on-call tests' fixtures: an escalation file with schedules whose
// rotations started before simStart (Thursday 2023-08-17 10:00 UTC), so the
// simulated clock decides who is on call, and helpers to put overrides in
// the running bot's database.

import (
	"fmt"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// ocSchedules has:
//   - platform-primary (Europe/Berlin, handing off daily at 09:00 local,
//     07:00 UTC): carol from Mon 14 Aug, dave on the 15th, erin on the 16th,
//     carol again on the 17th (at simStart), dave on the 18th …; its
//     handoffs are announced in handoff (a channel id, "" for none);
//   - weekend: only on Saturdays and Sundays, so nobody at simStart.
func ocSchedules(handoff string) string {
	ch := ""
	if handoff != "" {
		ch = "\n    handoff_channel: " + handoff
	}
	return fmt.Sprintf(`schedules:
  - name: platform-primary
    description: Platform primary on-call
    time_zone: Europe/Berlin%s
    rotations:
      - name: daily
        start: 2023-08-14T09:00
        shift: 1d
        participants: [%s, %s, %s]
  - name: weekend
    time_zone: UTC
    rotations:
      - name: weekend
        start: 2023-08-12T00:00
        shift: 1w
        participants: [%s]
        only: ["sat 00:00-24:00", "sun 00:00-24:00"]
`, ch, pgCarol, pgDave, pgErin, pgErin)
}

// ocPolicy pages platform-primary, then weekend (nobody on a Thursday),
// then erin.
const ocPolicy = `policies:
  - name: platform
    levels:
      - targets: ["schedule:platform-primary"]
        timeout: 5m
      - targets: ["schedule:weekend"]
        timeout: 5m
      - targets: [` + pgErin + `]
        timeout: 5m
`

// ocHarness is pgHarness with the schedules and ocPolicy.
func ocHarness(t *testing.T, handoff string, opts ...harnessOption) *harness {
	t.Helper()
	return pgHarness(t, ocSchedules(handoff)+ocPolicy, opts...)
}

// addOverride puts who on call in schedule from from for d, straight in the
// running bot's database (as /incident override would).
func (h *harness) addOverride(schedule, who string, from time.Time, d time.Duration) incident.Override {
	h.t.Helper()
	o := incident.Override{Schedule: schedule, Who: who, From: from, To: from.Add(d), Created: h.clock.Now(), By: incident.User{ID: h.alice}}
	if err := h.app.db.Update(func(tx *store.Tx) error { return tx.AddOverride(&o) }); err != nil {
		h.t.Fatal(err)
	}
	return o
}

// overrides returns the overrides in the bot's database.
func (h *harness) overrides() []incident.Override {
	h.t.Helper()
	var out []incident.Override
	if err := h.app.db.View(func(tx *store.Tx) (err error) { out, err = tx.Overrides("", time.Time{}); return err }); err != nil {
		h.t.Fatal(err)
	}
	return out
}
