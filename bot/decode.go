package bot

import (
	"encoding/json"
	"reflect"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// parseEventsAPI returns what slackevents.ParseEvent(payload,
// OptionNoVerifyToken()) returns, in fewer passes over the payload. The
// leader decodes every envelope a follower forwards, and ParseEvent reads
// an event_callback's JSON four times (the outer object twice, each time
// scanning the inner event whole, then the inner event twice); here it is
// read once for the outer fields, once for the inner event's type and once
// into its type. In a profile of the leader in five pin bursts, ParseEvent
// was 50 of the 60 ms spent serving forwards; this takes about 40 % off it
// (BenchmarkParseEventsAPI: ~19 µs against ~32 µs for a reaction_added).
//
// Anything but an event_callback with a known inner event, and anything
// that does not decode, goes to ParseEvent itself, so its errors and its
// rarer shapes (url_verification, app_rate_limited) stay slack-go's. A
// forwarded payload has already passed ParseEvent on the follower's
// socket; decode_test.go checks the two agree on the payloads the fake
// Slack sends and on the fuzz corpus.
func parseEventsAPI(payload json.RawMessage) (slackevents.EventsAPIEvent, error) {
	slow := func() (slackevents.EventsAPIEvent, error) {
		return slackevents.ParseEvent(payload, slackevents.OptionNoVerifyToken())
	}
	cb := &slackevents.EventsAPICallbackEvent{}
	if json.Unmarshal(payload, cb) != nil || cb.Type != slackevents.CallbackEvent || cb.InnerEvent == nil {
		return slow()
	}
	var head slack.Event
	if json.Unmarshal(*cb.InnerEvent, &head) != nil {
		return slow()
	}
	// The lookup ParseEvent makes: the Events API's mapping first, then
	// the RTM one.
	v, ok := slackevents.EventsAPIInnerEventMapping[slackevents.EventsAPIType(head.Type)]
	if !ok {
		v, ok = slack.EventMapping[head.Type]
	}
	if !ok {
		return slow()
	}
	inner := reflect.New(reflect.TypeOf(v)).Interface()
	if json.Unmarshal(*cb.InnerEvent, inner) != nil {
		return slow()
	}
	return slackevents.EventsAPIEvent{
		Token: cb.Token, TeamID: cb.TeamID, Type: cb.Type, APIAppID: cb.APIAppID,
		EnterpriseID: cb.EnterpriseID, IsExtSharedChannel: cb.IsExtSharedChannel,
		Data: cb, InnerEvent: slackevents.EventsAPIInnerEvent{Type: head.Type, Data: inner},
	}, nil
}
