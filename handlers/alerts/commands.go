package alerts

import (
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// alertsCommand handles "/incident alerts": the open alerts, newest first.
// It reads the open index only (a few records), never every alert.
func (m *Module) alertsCommand(r *handlers.Request, _ string) (string, error) {
	open, err := r.Tx.OpenAlerts()
	if err != nil {
		return "", err
	}
	return renderAlertList(open, r.Now, true), nil
}

// ListText is the open alerts as a plain table, for `incidentbot alerts`.
func ListText(open []*incident.AlertRecord, now time.Time) string {
	return renderAlertList(open, now, false)
}
