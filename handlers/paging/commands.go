package paging

import (
	"fmt"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// ackCommand acknowledges the incident's active escalations: for someone
// reached through PagerDuty or a phone, who has no DM button to press.
func (m *Module) ackCommand(r *handlers.Request, _ string) (string, error) {
	inc, err := r.IncidentIn()
	if err != nil {
		return "", err
	}
	// Paging that ran out still takes a late acknowledgement, as its DMs do.
	var waiting []*incident.Escalation
	for i := range inc.Escalations {
		if e := &inc.Escalations[i]; inc.Open() && (e.Active() || e.State == incident.EscalationExhausted) {
			waiting = append(waiting, e)
		}
	}
	if len(waiting) == 0 {
		return fmt.Sprintf("Nothing to acknowledge: no page of %s is waiting for an answer.", inc.Ref()), nil
	}
	for _, e := range waiting {
		if err := m.acknowledge(r, inc, e); err != nil {
			return "", err
		}
	}
	return "", nil
}
