// Package incidents is the incident itself, the first module: declare (by
// command or form), its channel (created, joined, summary pinned, topic,
// announced), status, severity, roles, key times, list, resolve, reopen and
// the postmortem upload.
package incidents

import (
	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// Module is the incident capability. Its settings (the announce channel,
// the timeline emoji the summary names) are the core's.
type Module struct{ h *handlers.Handlers }

// New returns the module.
func New() *Module { return &Module{} }

// Name implements handlers.Module.
func (m *Module) Name() string { return "incidents" }

// Register implements handlers.Module.
func (m *Module) Register(h *handlers.Handlers, reg *handlers.Registry) {
	m.h = h
	for _, c := range []handlers.Command{
		{Name: "declare", Usage: "declare [sev1-4] [--private] <title>", Help: "open an incident (no title: a form)", Global: true, Run: m.declareCommand},
		{Name: "list", Usage: "list", Help: "open incidents", Global: true, Run: m.listCommand},
		{Name: "status", Usage: "status [investigating|identified|monitoring]", Help: "show or change the status", Run: m.statusCommand},
		{Name: "severity", Usage: "severity sev1-4", Help: "change the severity", Run: m.severityCommand},
		{Name: "lead", Usage: "lead @someone", Help: "assign the incident lead", Run: m.roleCommand(incident.RoleLead)},
		{Name: "comms", Usage: "comms @someone", Help: "assign who writes to customers", Run: m.roleCommand(incident.RoleComms)},
		{Name: "scribe", Usage: "scribe @someone", Help: "assign who keeps the timeline", Run: m.roleCommand(incident.RoleScribe)},
		{Name: "started", Usage: "started 10:18", Help: "when impact began (UTC)", Run: m.keyTimeCommand(incident.KeyStarted)},
		{Name: "detected", Usage: "detected 10:28", Help: "when it was noticed (UTC)", Run: m.keyTimeCommand(incident.KeyDetected)},
		{Name: "resolve", Usage: "resolve [note]", Help: "resolve and get the postmortem draft", Run: m.resolveCommand},
		{Name: "reopen", Usage: "reopen", Help: "reopen a resolved incident", Run: m.reopenCommand},
		{Name: "postmortem", Usage: "postmortem", Help: "regenerate and upload the postmortem draft", Run: m.postmortemCommand},
	} {
		reg.Command(c)
	}
	for _, j := range []handlers.Job{
		{Kind: jobCreateChannel, Describe: "create the incident channel", Run: m.runCreateChannel},
		{Kind: jobPostSummary, Describe: "post the summary", Run: handlers.Decoded(m.runPostSummary)},
		{Kind: jobUpdateSummary, Describe: "update the summary", Run: handlers.Decoded(m.runUpdateSummary)},
		{Kind: jobPin, Describe: "pin the summary", Run: handlers.Decoded(m.runPin)},
		{Kind: jobTopic, Describe: "set the channel topic", Run: handlers.Decoded(m.runTopic)},
		{Kind: jobUploadPostmortem, Describe: "upload the postmortem draft (run `incidentbot export` to get it)", Run: m.runUploadPostmortem},
	} {
		reg.Job(j)
	}
	reg.View(declareCallback, handlers.Anyone, func(r *handlers.Request, cb slack.InteractionCallback) (any, error) {
		return m.submitDeclare(r, cb.View)
	})
	reg.Hooks(handlers.Hooks{Changed: m.refreshChannel})
	reg.Resolver(m.afterResolve)
}

func (m *Module) command() string { return m.h.Config().Command }

// refreshChannel enqueues the summary update and topic change that follow
// any change to the incident.
func (m *Module) refreshChannel(r *handlers.Request, inc *incident.Incident) error {
	if inc.ChannelID == "" {
		return nil // the channel is still being created with the current state
	}
	if err := r.Enqueue(bot.ChannelLane(inc.ChannelID), jobUpdateSummary, incidentJob{Incident: inc.ID}); err != nil {
		return err
	}
	return r.Enqueue(bot.ChannelLane(inc.ChannelID), jobTopic, incidentJob{Incident: inc.ID})
}
