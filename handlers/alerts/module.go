// Package alerts is alert intake: the receiver that Alertmanager, Grafana
// and anything else post alerts to (receiver.go), the alert routes of the
// escalation file that say where an alert goes and whom it pages, one
// message per alert group in the route's channel with Acknowledge, Declare
// incident and Resolve buttons, the storm guard, and /incident alerts.
//
// An alert is one record in the store (incident.AlertRecord). Everything
// that changes it is one transaction: a notification taken by the receiver
// (answered 2xx only once committed), a click, a timer, a paging step. Its
// message is drawn by jobs from the record as it is when they run, so a
// burst of changes is one redraw.
package alerts

import (
	"strings"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Pager pages for alerts through the escalation engine (the paging module).
// Each call writes the alert and reports the change (Request.AlertChanged).
type Pager interface {
	// PageAlert starts paging target (a policy, or schedule:NAME) for a.
	PageAlert(r *handlers.Request, a *incident.AlertRecord, target, message string) error
	// AckAlert records r.User's acknowledgement and stops a's paging.
	AckAlert(r *handlers.Request, a *incident.AlertRecord) error
	// StopAlert stops a's paging because it resolved.
	StopAlert(r *handlers.Request, a *incident.AlertRecord) error
}

// Declarer declares incidents (the incidents module).
type Declarer interface {
	Declare(r *handlers.Request, d incident.Declaration) (*incident.Incident, error)
}

// Config is what the alerts module needs.
type Config struct {
	// Routes are the escalation file's alert_routes, in file order.
	Routes []incident.AlertRoute
	// Tokens maps each bearer token to the names of the routes using it.
	Tokens map[string][]string
	// StormLimit: new alert groups per minute and route before the rest are
	// gathered into one storm alert; 0: incident.DefaultStormLimit.
	StormLimit int
	Pager      Pager
	Declarer   Declarer
}

// Module is the alerts capability.
type Module struct {
	cfg Config
	h   *handlers.Handlers
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.StormLimit <= 0 {
		cfg.StormLimit = incident.DefaultStormLimit
	}
	return &Module{cfg: cfg}
}

// Name implements handlers.Module.
func (m *Module) Name() string { return "alerts" }

// Job kinds and action ids of alerts. Persisted and shown: never rename.
const (
	jobAlertPost   = "alert_post"
	jobAlertUpdate = "alert_update"
	jobAlertQuiet  = "alert_quiet"

	actionPrefix  = "alert_"
	actionAck     = "alert_ack"
	actionDeclare = "alert_declare"
	actionResolve = "alert_resolve"
)

// alertJob names an alert, and for a redraw the version it was asked for.
type alertJob struct {
	Alert   int64 `json:"alert"`
	Version int   `json:"version,omitempty"`
}

// Register implements handlers.Module.
func (m *Module) Register(h *handlers.Handlers, reg *handlers.Registry) {
	m.h = h
	reg.Command(handlers.Command{Name: "alerts", Usage: "alerts", Help: "list the open alerts", Global: true, Run: m.alertsCommand})
	for _, j := range []handlers.Job{
		{Kind: jobAlertPost, Describe: "post an alert", Run: handlers.Decoded(m.runPost)},
		{Kind: jobAlertUpdate, Describe: "update an alert's message", Run: handlers.Decoded(m.runUpdate)},
		{Kind: jobAlertQuiet, Describe: "page for an alert after its quiet period", Run: handlers.Decoded(m.runQuiet)},
	} {
		reg.Job(j)
	}
	reg.Action(actionPrefix, handlers.AlertChannel, m.action)
	reg.Hooks(handlers.Hooks{AlertChanged: m.changed, ChannelCreated: m.incidentChannel})
}

// route returns the route of the given name.
func (m *Module) route(name string) (*incident.AlertRoute, bool) {
	for i := range m.cfg.Routes {
		if strings.EqualFold(m.cfg.Routes[i].Name, name) {
			return &m.cfg.Routes[i], true
		}
	}
	return nil, false
}

func (m *Module) command() string { return m.h.Config().Command }
