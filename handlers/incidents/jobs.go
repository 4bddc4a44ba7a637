package incidents

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/store"
)

// Job kinds of the incident and its channel. Persisted in the outbox:
// never rename one.
const (
	jobCreateChannel    = "create_channel"
	jobPostSummary      = "post_summary"
	jobUpdateSummary    = "update_summary"
	jobPin              = "pin"
	jobTopic            = "topic"
	jobUploadPostmortem = "upload_postmortem"
)

type incidentJob struct {
	Incident    int64  `json:"incident"`
	ResponseURL string `json:"response_url,omitempty"`
	NotifyUser  string `json:"notify_user,omitempty"`
}

// pinJob pins a message (the summary).
type pinJob struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

func (m *Module) runPin(ctx context.Context, p pinJob) (func(*store.Tx) error, error) {
	err := m.h.API().AddPinContext(ctx, p.Channel, slack.NewRefToMessage(p.Channel, p.TS))
	if handlers.IsAPIError(err, "already_pinned") {
		err = nil
	}
	return nil, err
}
