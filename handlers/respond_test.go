package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/store"
)

// A response_url that cannot be reached fails the respond job with an error
// that is logged and may be reported: it names the failure, never the URL
// (whoever holds it can answer in the user's conversation for 30 minutes).
func TestRespondErrorHidesTheURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now: the post fails to connect
	hook := "http://" + addr + "/commands/T0TEAM/1234/s3cr3tR3sp0nseT0ken"

	r := newMarkerRig(t)
	h, err := handlers.New(handlers.Config{}, handlers.Deps{DB: r.db, Now: time.Now, Log: zerolog.New(io.Discard),
		API: slack.New(r.fake.BotToken(), slack.OptionAPIURL(r.fake.APIURL())),
		Respond: func(ctx context.Context, url string, msg *slack.WebhookMessage) error {
			return slack.PostWebhookCustomHTTPContext(ctx, url, http.DefaultClient, msg)
		}})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"url": hook, "text": "ok"})
	_, err = h.Run(context.Background(), store.Job{Kind: "respond", Lane: "respond:U1", Payload: payload})
	if err == nil {
		t.Fatal("a post to a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "/commands/") {
		t.Errorf("the error shows the response_url: %s", msg)
	}
	if !strings.Contains(err.Error(), "response_url") {
		t.Errorf("the error does not say what failed: %s", err)
	}
}
