package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// The demo's escalation file: Mara pages the platform policy, whose first
// level is the platform-primary schedule, and the rotation has Jonas on
// call in the week of the replayed outage (Monday 2023-08-14 09:00 Berlin
// to Monday 2023-08-21), so the page reaches him because he is on call,
// not because he was named.
const demoEscalation = `# Written by incidentbot demo.
policies:
  - name: platform
    description: Platform on-call
    levels:
      - targets: ["schedule:platform-primary"]
        timeout: 15m

schedules:
  - name: platform-primary
    description: Platform primary on-call
    time_zone: Europe/Berlin
    rotations:
      - name: weekly
        start: 2023-08-07T09:00
        shift: 1w
        participants: [%s, %s, %s]
`

// writeDemoEscalation writes the demo's escalation file into dir, with the
// demo users' ids (the fake Slack gives them out) and the route of its
// alerts to the #alerts channel, and returns its path.
func writeDemoEscalation(dir string, users map[string]string, alerts string) (string, error) {
	path := filepath.Join(dir, "escalation.yaml")
	// Priya the week before, Jonas the week of the outage, then Mara.
	text := fmt.Sprintf(demoEscalation, users["priya"], users["jonas"], users["mara"]) + fmt.Sprintf(demoAlertRoute, alerts)
	return path, os.WriteFile(path, []byte(text), 0o644)
}
