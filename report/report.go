// Package report renders what an incident leaves behind — the postmortem
// draft and the whole record as JSON — from a read transaction. The bot
// uploads the draft; `incidentbot export` makes the same documents offline,
// with no Slack.
package report

import (
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// Postmortem renders incident id's postmortem draft from what tx holds,
// with the given templates (the defaults, or INCIDENTBOT_TEMPLATES_DIR's).
func Postmortem(tx *store.Tx, t *incident.Templates, id int64, now time.Time) (string, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return "", err
	}
	entries, err := tx.Timeline(id)
	if err != nil {
		return "", err
	}
	return t.PostmortemString(incident.PostmortemInput{Incident: inc, Timeline: entries, Names: names(inc, entries), Now: now})
}

// Filename is the name of the uploaded draft, e.g. INC-7-postmortem.md.
func Filename(id int64) string { return incident.Ref(id) + "-postmortem.md" }

// names collects the display names the incident knows, for mentions in texts.
func names(inc *incident.Incident, entries []incident.Entry) map[string]string {
	n := map[string]string{}
	add := func(u incident.User) {
		if u.ID != "" && u.Name != "" {
			n[u.ID] = u.Name
		}
	}
	add(inc.DeclaredBy)
	for _, u := range inc.Roles {
		add(u)
	}
	for _, e := range entries {
		add(e.Author)
	}
	for _, f := range inc.FollowUps {
		add(f.Owner)
		add(f.By)
	}
	for _, e := range inc.Escalations {
		add(e.By)
		add(e.AckedBy)
	}
	return n
}

// Record is an incident's whole record, for `export --format json`.
type Record struct {
	Incident *incident.Incident `json:"incident"`
	Timeline []incident.Entry   `json:"timeline"`
}

// Load returns incident id's whole record.
func Load(tx *store.Tx, id int64) (*Record, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return nil, err
	}
	entries, err := tx.Timeline(id)
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []incident.Entry{}
	}
	return &Record{Incident: inc, Timeline: entries}, nil
}
