package alerts

import (
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/incident"
)

type renderView struct {
	Command         string
	IncidentRef     string
	IncidentChannel string
	Now             time.Time
	StormMembers    []*incident.AlertRecord
}

func renderAlert(a *incident.AlertRecord, v renderView) (string, []slack.Block) { return a.Title(), nil }
func renderAlertList(alerts []*incident.AlertRecord, now time.Time, markdown bool) string {
	return ""
}
