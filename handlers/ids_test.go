package handlers

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

func TestMalformedNamesWhatIsWrong(t *testing.T) {
	reaction := func(user, channel, ts string) slackevents.EventsAPIEvent {
		ev := &slackevents.ReactionAddedEvent{User: user, Reaction: "pushpin",
			Item: slackevents.Item{Type: "message", Channel: channel, Timestamp: ts}}
		return slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{Data: ev}}
	}
	tests := []struct {
		name string
		data any
		want string // "" for well-formed
	}{
		{"reaction", reaction("U0ALICE01", "C0INC0001", "1692269160.000100"), ""},
		{"reaction ts", reaction("U0ALICE01", "C0INC0001", "not-a-ts"), `item.ts "not-a-ts"`},
		{"reaction ts without micros", reaction("U0ALICE01", "C0INC0001", "1692269160"), `item.ts`},
		{"reaction channel", reaction("U0ALICE01", "#general", "1692269160.000100"), `item.channel "#general"`},
		{"reaction user", reaction("alice", "C0INC0001", "1692269160.000100"), `user "alice"`},
		{"slash command", slack.SlashCommand{UserID: "W0ALICE01", ChannelID: "D0DM00001"}, ""},
		{"slash command channel", slack.SlashCommand{UserID: "U0ALICE01", ChannelID: "general"}, `channel_id "general"`},
		{"click", slack.InteractionCallback{User: slack.User{ID: "U0ALICE01"},
			Container: slack.Container{ChannelID: "C0INC0001", MessageTs: "1692269160.000100"}}, ""},
		{"click ts", slack.InteractionCallback{User: slack.User{ID: "U0ALICE01"},
			Container: slack.Container{ChannelID: "C0INC0001", MessageTs: "12.5"}}, `container.message_ts "12.5"`},
		{"bot message", slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{Data: &slackevents.MessageEvent{
			Channel: "C0INC0001", BotID: "B0BOT0001", TimeStamp: "1692269160.000100"}}}, ""},
		{"member joined", slackevents.EventsAPIEvent{InnerEvent: slackevents.EventsAPIInnerEvent{Data: &slackevents.MemberJoinedChannelEvent{
			Channel: "C0INC0001", User: "<@U0ALICE01>"}}}, `user "<@U0ALICE01>"`},
	}
	for _, tt := range tests {
		got := malformed(tt.data)
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: malformed = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormOwner(t *testing.T) {
	for _, tt := range []struct {
		in, meta, user string
		bound          bool
	}{
		{withFormOwner("1:1", "U0ALICE01"), "1:1", "U0ALICE01", true},
		{withFormOwner("C000000003", "W0BOB0001"), "C000000003", "W0BOB0001", true},
		{"1:1", "1:1", "", false},
		{"a@b@U0ALICE01", "a@b", "U0ALICE01", true},
		{"1:1@nobody", "1:1@nobody", "", false},
	} {
		meta, user, bound := cutFormOwner(tt.in)
		if meta != tt.meta || user != tt.user || bound != tt.bound {
			t.Errorf("cutFormOwner(%q) = %q, %q, %v", tt.in, meta, user, bound)
		}
	}
}

// The byte-by-byte checks implement these patterns exactly.
func TestIDChecksMatchTheirPatterns(t *testing.T) {
	checks := []struct {
		name    string
		pattern *regexp.Regexp
		check   func(string) bool
	}{
		{"user", regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`), validUser},
		{"channel", regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`), validChannel},
		{"author", regexp.MustCompile(`^[UWB][A-Z0-9]{2,}$`), validAuthor},
		{"ts", regexp.MustCompile(`^\d{10}\.\d{6}$`), ValidTS},
	}
	inputs := []string{"", "U", "U0", "U01", "W0ALICE01", "B0BOT0001", "C0INC0001", "G01", "D0DM00001", "u0alice01",
		"U0alice01", "U0ALICE01\n", " U0ALICE01", "<@U0ALICE01>", "C0INC-001", "1692269160.000100", "1692269160.00010",
		"1692269160,000100", "16922691600.00100", "169226916a.000100", "1692269160.0001000", "१६९२२६९१६०.000100",
		"U0ÄLICE01", "C\x000001"}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "UWBCGDAZ09az.-_<@> \x00\xff"
	for range 20000 {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if r.IntN(4) == 0 && len(b) == 17 {
			for i := range b {
				b[i] = byte('0' + r.IntN(10))
			}
			b[10] = '.'
		}
		inputs = append(inputs, string(b))
	}
	for _, c := range checks {
		for _, in := range inputs {
			if got, want := c.check(in), c.pattern.MatchString(in); got != want {
				t.Errorf("%s check of %q = %v, its pattern says %v", c.name, in, got, want)
			}
		}
	}
}
