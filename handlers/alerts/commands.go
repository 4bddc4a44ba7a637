package alerts

import (
	"github.com/incidentbot/incidentbot/handlers"
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
