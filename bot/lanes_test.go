package bot

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The lanes the handlers build today, by hand; the constructors must give
// the same strings (all but the provider lane, which no longer shows the
// target).
func TestLanesAreTodaysStrings(t *testing.T) {
	var inc int64 = 42
	esc, step, gen := 3, 7, 5
	for _, tc := range []struct{ got, want string }{
		{ChannelLane("C0123ABCD"), "C0123ABCD"},
		{ChannelLane("U0123ABCD"), "U0123ABCD"},
		{DMLane("U0CAROL01"), "dm:" + "U0CAROL01"},
		{IncidentLane(inc), "incident:" + strconv.FormatInt(inc, 10)},
		{IncidentLane(0), "incident:0"},
		{GroupLane("S0ONCALL1"), "group:" + "S0ONCALL1"},
		{EphemeralLane("U0ALICE01"), "user:" + "U0ALICE01"},
		{RespondLane("U0ALICE01"), "respond:" + "U0ALICE01"},
		{ViewLane("U0ALICE01"), "view:" + "U0ALICE01"},
		{ReactLane("C0123ABCD", "1692269160.000100"), "react:C0123ABCD/1692269160.000100"},
		{MessageLane("C0123ABCD", "1692269160.000100"), "message:C0123ABCD/1692269160.000100"},
		{EscalationLane(inc, esc, step), fmt.Sprintf("escalate:%d:%d:%d", inc, esc, step)},
		{ReminderLane(inc, gen), fmt.Sprintf("remind:%d:%d", inc, gen)},
		{TimerLane("escalate", 1, 2, 3), "escalate:1:2:3"},
		{TimerLane("remind", 9, 0), "remind:9:0"},
		{TimerLane("tick"), "tick"},
		{TimerLane("neg", -1), "neg:-1"},
	} {
		if tc.got != tc.want {
			t.Errorf("lane %q, want %q", tc.got, tc.want)
		}
	}
}

func TestProviderLaneHidesTheTarget(t *testing.T) {
	const key = "R0UTINGKEY0SECRET42"
	lane := ProviderLane("pagerduty:" + key)
	// sha256("pagerduty:R0UTINGKEY0SECRET42") begins 4e25d550e728.
	if lane != "provider:4e25d550e728" {
		t.Errorf("ProviderLane = %q, want provider:4e25d550e728", lane)
	}
	if strings.Contains(lane, key) || strings.Contains(lane, "R0U") {
		t.Errorf("ProviderLane %q shows the routing key", lane)
	}
	hook := "webhook:https://hooks.example.com/page?sig=s3cr3t"
	l := ProviderLane(hook)
	for _, part := range []string{"hooks.example.com", "s3cr3t", "https"} {
		if strings.Contains(l, part) {
			t.Errorf("ProviderLane %q shows %q of the URL", l, part)
		}
	}
	if !strings.HasPrefix(l, "provider:") || len(l) != len("provider:")+12 {
		t.Errorf("ProviderLane %q is not provider: and 12 hex digits", l)
	}
	if strings.Trim(strings.TrimPrefix(l, "provider:"), "0123456789abcdef") != "" {
		t.Errorf("ProviderLane %q is not hex after the prefix", l)
	}
	if ProviderLane(hook) != l {
		t.Error("ProviderLane is not the same for the same target")
	}
	if ProviderLane("opsgenie:OG_KEY") == ProviderLane("opsgenie:OG_KEY2") {
		t.Error("two targets share a provider lane")
	}
	if ProviderLane("opsgenie:OG_KEY") == DMLane("opsgenie:OG_KEY") {
		t.Error("a provider lane equals a DM lane")
	}
}
