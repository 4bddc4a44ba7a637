package deploy_test

import (
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"

	"github.com/incidentbot/incidentbot/handlers"
)

// The Slack app manifest must ask for exactly the scopes and events the
// code uses: a missing scope breaks a feature in production only, an extra
// one asks workspace admins for more than the bot needs.

const manifestFile = "slack-app-manifest.yaml"

// manifestScopes is every bot scope the manifest must request, and why. The
// manifest must request exactly these: a missing one breaks a feature, an
// extra one asks workspace admins for more than the bot uses.
var manifestScopes = map[string]string{
	"commands":          "/incident",
	"chat:write":        "post summaries, updates and DMs",
	"channels:manage":   "create public incident channels, invite, set topic",
	"groups:write":      "the same for private incidents",
	"channels:read":     "look up public channels on name_taken, membership",
	"groups:read":       "look up private channels on name_taken, membership",
	"channels:history":  "read a pinned message's text; message.channels events",
	"groups:history":    "the same in private channels; message.groups events",
	"reactions:read":    "receive reaction_added / reaction_removed",
	"reactions:write":   "the confirmation reaction",
	"pins:write":        "pin the summary",
	"files:write":       "upload the postmortem draft",
	"users:read":        "display names of timeline authors",
	"users:read.email":  "find the people an on-call calendar feed names by email",
	"im:write":          "open DMs for pages",
	"im:history":        "after a crash, find a page DM already sent",
	"usergroups:read":   "expand a @group target when paging",
	"usergroups:write":  "keep an on-call schedule's user group equal to who is on call",
	"app_mentions:read": "@incidentbot commands",
}

// manifestEvents is exactly the set of bot events to subscribe to, and the
// scope Slack requires before it delivers each.
var manifestEvents = map[string]string{
	"app_mention":      "app_mentions:read",
	"message.channels": "channels:history",
	"message.groups":   "groups:history",
	"reaction_added":   "reactions:read",
	"reaction_removed": "reactions:read",
	// groups:read too, for private channels
	"member_joined_channel": "channels:read",
	"member_left_channel":   "channels:read",
	"user_change":           "users:read",
}

// methodScopes maps each handlers.SlackAPI method to the bot scopes its Slack
// Web API method needs. Both channel flavours are listed where incidents can
// be public or private. An empty list: the method needs no scope (a
// permalink; views.open only needs a trigger_id from a command or button).
// Entries for methods the interface does not have (yet) are allowed, so the
// table can be written ahead of the code.
var methodScopes = map[string][]string{
	"CreateConversationContext":        {"channels:manage", "groups:write"},    // conversations.create
	"GetConversationsContext":          {"channels:read", "groups:read"},       // conversations.list
	"InviteUsersToConversationContext": {"channels:manage", "groups:write"},    // conversations.invite
	"SetTopicOfConversationContext":    {"channels:manage", "groups:write"},    // conversations.setTopic
	"PostMessageContext":               {"chat:write"},                         // chat.postMessage
	"UpdateMessageContext":             {"chat:write"},                         // chat.update
	"PostEphemeralContext":             {"chat:write"},                         // chat.postEphemeral
	"DeleteMessageContext":             {"chat:write"},                         // chat.delete
	"AddPinContext":                    {"pins:write"},                         // pins.add
	"RemovePinContext":                 {"pins:write"},                         // pins.remove
	"AddReactionContext":               {"reactions:write"},                    // reactions.add
	"RemoveReactionContext":            {"reactions:write"},                    // reactions.remove
	"GetConversationRepliesContext":    {"channels:history", "groups:history"}, // conversations.replies
	"GetPermalinkContext":              {},                                     // chat.getPermalink
	"GetUserInfoContext":               {"users:read"},                         // users.info
	"GetUserByEmailContext":            {"users:read", "users:read.email"},     // users.lookupByEmail
	"OpenViewContext":                  {},                                     // views.open (trigger from `commands`)
	"UploadFileContext":                {"files:write"},                        // files.getUploadURLExternal + completeUploadExternal
	"OpenConversationContext":          {"im:write"},                           // conversations.open
	"GetUserGroupMembersContext":       {"usergroups:read"},                    // usergroups.users.list
	"UpdateUserGroupMembersContext":    {"usergroups:write"},                   // usergroups.users.update
	"GetUsersInConversationContext":    {"channels:read", "groups:read"},       // conversations.members

	// conversations.history, in DMs too: a page DM job resumed after a crash
	// looks there for the page it may already have sent.
	"GetConversationHistoryContext": {"channels:history", "groups:history", "im:history"},
	// conversations.info: a topic job resumed after a crash reads the topic.
	"GetConversationInfoContext": {"channels:read", "groups:read"},
}

type slashCommand struct {
	Command      string `yaml:"command"`
	ShouldEscape bool   `yaml:"should_escape"`
	URL          string `yaml:"url"`
}

// slackManifest is the part of the manifest the bot depends on.
type slackManifest struct {
	Features struct {
		SlashCommands []slashCommand `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot  []string `yaml:"bot"`
			User []string `yaml:"user"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL string   `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketModeEnabled bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

func TestManifest(t *testing.T) {
	var m slackManifest
	if err := yaml.Unmarshal(readFile(t, manifestFile), &m); err != nil {
		t.Fatalf("%s does not parse: %v", manifestFile, err)
	}
	for _, s := range []struct {
		name      string
		got, want any
	}{
		{"settings.socket_mode_enabled", m.Settings.SocketModeEnabled, true},
		{"settings.interactivity.is_enabled", m.Settings.Interactivity.IsEnabled, true}, // buttons and modals
		// Socket Mode: Slack never calls in, so no request URL anywhere.
		{"settings.event_subscriptions.request_url", m.Settings.EventSubscriptions.RequestURL, ""},
		{"settings.interactivity.request_url", m.Settings.Interactivity.RequestURL, ""},
		// The bot acts as itself, never as a user.
		{"oauth_config.scopes.user", len(m.OAuthConfig.Scopes.User), 0},
	} {
		if s.got != s.want {
			t.Errorf("%s: %s is %v, want %v", manifestFile, s.name, s.got, s.want)
		}
	}
	// should_escape: mentions arrive as ids; no url: commands come over the socket.
	if i := slices.IndexFunc(m.Features.SlashCommands, func(c slashCommand) bool { return c.Command == "/incident" }); i < 0 || !m.Features.SlashCommands[i].ShouldEscape || m.Features.SlashCommands[i].URL != "" {
		t.Errorf("%s: want a /incident slash command with should_escape: true and no url", manifestFile)
	}

	have := map[string]bool{}
	for _, s := range m.OAuthConfig.Scopes.Bot {
		if have[s] {
			t.Errorf("%s: bot scope %s is listed twice", manifestFile, s)
		}
		have[s] = true
	}

	t.Run("scopes", func(t *testing.T) {
		for _, s := range sortedKeys(manifestScopes) {
			if !have[s] {
				t.Errorf("%s: oauth_config.scopes.bot lacks %s (needed for: %s)", manifestFile, s, manifestScopes[s])
			}
		}
		for _, s := range m.OAuthConfig.Scopes.Bot {
			if _, ok := manifestScopes[s]; !ok {
				t.Errorf("%s: bot scope %s is not in this test's manifestScopes: remove it, or add it there with the reason", manifestFile, s)
			}
		}
	})

	t.Run("events", func(t *testing.T) {
		got := slices.Sorted(slices.Values(m.Settings.EventSubscriptions.BotEvents))
		want := sortedKeys(manifestEvents)
		if !slices.Equal(got, want) {
			t.Errorf("%s: settings.event_subscriptions.bot_events is %v, want exactly %v", manifestFile, got, want)
		}
		for _, e := range m.Settings.EventSubscriptions.BotEvents {
			if s, ok := manifestEvents[e]; ok && !have[s] {
				t.Errorf("%s: bot event %s needs scope %s, which is missing", manifestFile, e, s)
			}
		}
		if len(m.Features.SlashCommands) > 0 && !have["commands"] {
			t.Errorf("%s: slash commands need the commands scope", manifestFile)
		}
	})

	// The scopes the code needs, derived from the Slack methods it can call.
	t.Run("SlackAPI", func(t *testing.T) {
		api := reflect.TypeOf((*handlers.SlackAPI)(nil)).Elem()
		if api.NumMethod() == 0 {
			t.Fatal("handlers.SlackAPI has no methods; is reflection looking at the right type?")
		}
		for i := range api.NumMethod() {
			name := api.Method(i).Name
			scopes, ok := methodScopes[name]
			if !ok {
				t.Errorf("handlers.SlackAPI gained method %s: add it to the scope table and the manifest", name)
				continue
			}
			for _, s := range scopes {
				if !have[s] {
					t.Errorf("handlers.SlackAPI.%s needs bot scope %s, which %s lacks", name, s, manifestFile)
				}
			}
		}
		// The table names real slack-go methods (a typo would otherwise
		// only surface as a confusing "gained method" later).
		client := reflect.TypeOf(&slack.Client{})
		for _, name := range sortedKeys(methodScopes) {
			if _, ok := client.MethodByName(name); !ok {
				t.Errorf("methodScopes names %s, which *slack.Client does not have", name)
			}
			if _, ok := api.MethodByName(name); !ok {
				t.Logf("methodScopes lists %s, which handlers.SlackAPI does not have (yet)", name)
			}
			for _, s := range methodScopes[name] {
				if _, ok := manifestScopes[s]; !ok {
					t.Errorf("methodScopes: %s needs %s, which manifestScopes does not list", name, s)
				}
			}
		}
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
