package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"

	"github.com/incidentbot/incidentbot/handlers"
)

// The tests run in deploy/, so the repository root is "..".
const repoRoot = ".."

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// ---------------------------------------------------------------------------
// Slack app manifest

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
	"im:write":          "open DMs for pages",
	"usergroups:read":   "expand a @group target when paging",
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
	"GetConversationHistoryContext":    {"channels:history", "groups:history"}, // conversations.history
	"GetConversationRepliesContext":    {"channels:history", "groups:history"}, // conversations.replies
	"GetPermalinkContext":              {},                                     // chat.getPermalink
	"GetUserInfoContext":               {"users:read"},                         // users.info
	"OpenViewContext":                  {},                                     // views.open (trigger from `commands`)
	"UploadFileContext":                {"files:write"},                        // files.getUploadURLExternal + completeUploadExternal
	"OpenConversationContext":          {"im:write"},                           // conversations.open
	"GetUserGroupMembersContext":       {"usergroups:read"},                    // usergroups.users.list
	"GetUsersInConversationContext":    {"channels:read", "groups:read"},       // conversations.members
}

type slackManifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
		MinorVersion int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name            string `yaml:"name"`
		Description     string `yaml:"description"`
		LongDescription string `yaml:"long_description"`
		BackgroundColor string `yaml:"background_color"`
	} `yaml:"display_information"`
	Features struct {
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			Description  string `yaml:"description"`
			UsageHint    string `yaml:"usage_hint"`
			ShouldEscape bool   `yaml:"should_escape"`
			URL          string `yaml:"url"`
		} `yaml:"slash_commands"`
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
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

func TestManifest(t *testing.T) {
	raw := readFile(t, manifestFile)

	// KnownFields: a misspelt key (socket_mode_enable) fails here instead
	// of being silently ignored by Slack's defaults.
	var m slackManifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s does not parse (or has a key this test does not know; add it to slackManifest): %v", manifestFile, err)
	}

	settings := []struct {
		name      string
		got, want any
	}{
		{"_metadata.major_version", m.Metadata.MajorVersion, 1},
		{"_metadata.minor_version", m.Metadata.MinorVersion, 1},
		{"display_information.name", m.DisplayInformation.Name, "incidentbot"},
		{"features.bot_user.display_name", m.Features.BotUser.DisplayName, "incidentbot"},
		{"features.bot_user.always_online", m.Features.BotUser.AlwaysOnline, true},
		{"settings.socket_mode_enabled", m.Settings.SocketModeEnabled, true},
		{"settings.interactivity.is_enabled", m.Settings.Interactivity.IsEnabled, true},
		{"settings.org_deploy_enabled", m.Settings.OrgDeployEnabled, false},
		{"settings.token_rotation_enabled", m.Settings.TokenRotationEnabled, false},
		// Socket Mode: Slack never calls in, so no request URL anywhere.
		{"settings.event_subscriptions.request_url", m.Settings.EventSubscriptions.RequestURL, ""},
		{"settings.interactivity.request_url", m.Settings.Interactivity.RequestURL, ""},
		// The bot acts as itself, never as a user.
		{"oauth_config.scopes.user", len(m.OAuthConfig.Scopes.User), 0},
	}
	for _, s := range settings {
		if s.got != s.want {
			t.Errorf("%s: %s is %v, want %v", manifestFile, s.name, s.got, s.want)
		}
	}
	if n := len(m.DisplayInformation.LongDescription); n != 0 && (n < 175 || n > 4000) {
		t.Errorf("%s: display_information.long_description is %d characters; Slack wants 175 to 4000", manifestFile, n)
	}

	t.Run("slash command", func(t *testing.T) {
		var found bool
		for _, c := range m.Features.SlashCommands {
			if c.Command != "/incident" {
				continue
			}
			found = true
			if c.Description == "" {
				t.Errorf("/incident has no description; Slack requires one")
			}
			if !strings.Contains(c.UsageHint, "declare") || !strings.Contains(c.UsageHint, "resolve") {
				t.Errorf("/incident usage_hint %q should mention declare and resolve", c.UsageHint)
			}
			if !c.ShouldEscape {
				t.Errorf("/incident should_escape is false; want true so mentions arrive as ids")
			}
			if c.URL != "" {
				t.Errorf("/incident has url %q; Socket Mode delivers commands over the socket", c.URL)
			}
		}
		if !found {
			t.Errorf("%s: features.slash_commands has no /incident", manifestFile)
		}
	})

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

	t.Run("scope comments", func(t *testing.T) {
		lines := strings.Split(string(raw), "\n")
		for _, sc := range scopeLines(t, raw) {
			if sc.line < 1 || sc.line > len(lines) {
				t.Fatalf("scope %s: line %d out of range", sc.scope, sc.line)
			}
			text := lines[sc.line-1]
			_, comment, ok := strings.Cut(text, "#")
			if !ok || strings.TrimSpace(comment) == "" {
				t.Errorf("%s:%d: scope %s has no comment saying why; write `- %s # <feature that needs it>`",
					manifestFile, sc.line, sc.scope, sc.scope)
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

type scopeLine struct {
	scope string
	line  int
}

// scopeLines finds each bot scope's line in the raw manifest via the YAML
// node tree, so a comment is attributed to the scope on its own line.
func scopeLines(t *testing.T, raw []byte) []scopeLine {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", manifestFile, err)
	}
	n := &doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, key := range []string{"oauth_config", "scopes", "bot"} {
		n = mappingValue(n, key)
		if n == nil {
			t.Fatalf("%s: no oauth_config.scopes.bot", manifestFile)
		}
	}
	if n.Kind != yaml.SequenceNode {
		t.Fatalf("%s: oauth_config.scopes.bot is not a list", manifestFile)
	}
	var out []scopeLine
	for _, item := range n.Content {
		out = append(out, scopeLine{item.Value, item.Line})
	}
	return out
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---------------------------------------------------------------------------
// Kubernetes

const k8sDir = "kubernetes"

type k8sDoc struct {
	file string
	kind string
	name string
	node yaml.Node
}

type statefulSet struct {
	Spec struct {
		Replicas            *int   `yaml:"replicas"`
		PodManagementPolicy string `yaml:"podManagementPolicy"`
		UpdateStrategy      struct {
			Type string `yaml:"type"`
		} `yaml:"updateStrategy"`
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
					RunAsUser      *int  `yaml:"runAsUser"`
					FSGroup        *int  `yaml:"fsGroup"`
					SeccompProfile struct {
						Type string `yaml:"type"`
					} `yaml:"seccompProfile"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				AccessModes []string `yaml:"accessModes"`
				Resources   struct {
					Requests map[string]string `yaml:"requests"`
				} `yaml:"resources"`
			} `yaml:"spec"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

func (c *container) env(name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func (c *container) mountPath(volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// under reports whether file p is inside directory dir (both absolute).
func under(p, dir string) bool {
	if dir == "" || !path.IsAbs(p) {
		return false
	}
	rel, err := filepath.Rel(path.Clean(dir), path.Clean(p))
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}

func loadK8sDocs(t *testing.T) []k8sDoc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no YAML files in %s", k8sDir)
	}
	var docs []k8sDoc
	for _, f := range files {
		dec := yaml.NewDecoder(bytes.NewReader(readFile(t, f)))
		for i := 0; ; i++ {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: document %d does not parse: %v", f, i+1, err)
				break
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := n.Decode(&head); err != nil {
				t.Errorf("%s: document %d is not a Kubernetes object: %v", f, i+1, err)
				continue
			}
			if head.APIVersion == "" || head.Kind == "" {
				t.Errorf("%s: document %d lacks apiVersion or kind", f, i+1)
			}
			if head.Kind != "Kustomization" && head.Metadata.Name == "" {
				t.Errorf("%s: %s in document %d has no metadata.name", f, head.Kind, i+1)
			}
			docs = append(docs, k8sDoc{file: filepath.Base(f), kind: head.Kind, name: head.Metadata.Name, node: n})
		}
	}
	return docs
}

func findDoc(t *testing.T, docs []k8sDoc, kind string) *k8sDoc {
	t.Helper()
	var found []*k8sDoc
	for i := range docs {
		if docs[i].kind == kind {
			found = append(found, &docs[i])
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: want exactly one %s, found %d", k8sDir, kind, len(found))
	}
	return found[0]
}

func TestKubernetes(t *testing.T) {
	docs := loadK8sDocs(t)

	for _, d := range docs {
		switch d.kind {
		case "Service", "Ingress":
			t.Errorf("%s: %s %s: Socket Mode dials out, nothing connects in; remove it", d.file, d.kind, d.name)
		}
	}

	var ss statefulSet
	ssDoc := findDoc(t, docs, "StatefulSet")
	if err := ssDoc.node.Decode(&ss); err != nil {
		t.Fatalf("%s: StatefulSet: %v", ssDoc.file, err)
	}
	pod := ss.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: want one container, found %d", ssDoc.file, len(pod.Containers))
	}
	c := &pod.Containers[0]

	var cm struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
	}
	cmDoc := findDoc(t, docs, "ConfigMap")
	if err := cmDoc.node.Decode(&cm); err != nil {
		t.Fatalf("%s: ConfigMap: %v", cmDoc.file, err)
	}

	t.Run("StatefulSet", func(t *testing.T) {
		deref := func(p *int) any {
			if p == nil {
				return "unset"
			}
			return *p
		}
		derefB := func(p *bool) any {
			if p == nil {
				return "unset"
			}
			return *p
		}
		checks := []struct {
			name      string
			got, want any
		}{
			// bbolt holds an exclusive lock: never two pods on one volume.
			{"spec.replicas", deref(ss.Spec.Replicas), 1},
			{"spec.podManagementPolicy", ss.Spec.PodManagementPolicy, "OrderedReady"},
			{"spec.updateStrategy.type", ss.Spec.UpdateStrategy.Type, "RollingUpdate"},
			{"terminationGracePeriodSeconds", deref(pod.TerminationGracePeriodSeconds), 30},
			{"securityContext.runAsNonRoot", derefB(pod.SecurityContext.RunAsNonRoot), true},
			{"securityContext.runAsUser", deref(pod.SecurityContext.RunAsUser), 65532},
			{"securityContext.fsGroup", deref(pod.SecurityContext.FSGroup), 65532},
			{"securityContext.seccompProfile.type", pod.SecurityContext.SeccompProfile.Type, "RuntimeDefault"},
			{"container securityContext.readOnlyRootFilesystem", derefB(c.SecurityContext.ReadOnlyRootFilesystem), true},
			{"container securityContext.allowPrivilegeEscalation", derefB(c.SecurityContext.AllowPrivilegeEscalation), false},
			{"container securityContext.capabilities.drop", strings.Join(c.SecurityContext.Capabilities.Drop, ","), "ALL"},
			{"container args", strings.Join(c.Args, " "), "run"},
			{"resources.requests.cpu", c.Resources.Requests["cpu"], "50m"},
			{"resources.requests.memory", c.Resources.Requests["memory"], "64Mi"},
			{"resources.limits.memory", c.Resources.Limits["memory"], "256Mi"},
		}
		for _, ch := range checks {
			if ch.got != ch.want {
				t.Errorf("%s: %s is %v, want %v", ssDoc.file, ch.name, ch.got, ch.want)
			}
		}
		if !strings.HasPrefix(c.Image, "ghcr.io/incidentbot/incidentbot:") {
			t.Errorf("%s: image is %q, want ghcr.io/incidentbot/incidentbot:<tag>", ssDoc.file, c.Image)
		}

		addr, _ := c.env("INCIDENTBOT_HTTP_ADDR")
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "127.0.0.1" || host == "localhost" || host == "::1" {
			t.Errorf("%s: INCIDENTBOT_HTTP_ADDR is %q; the kubelet's probes need a non-loopback host:port such as 0.0.0.0:8080", ssDoc.file, addr)
		}
		for _, p := range []struct {
			name  string
			probe *probe
			path  string
		}{
			{"livenessProbe", c.LivenessProbe, "/healthz"},
			{"readinessProbe", c.ReadinessProbe, "/readyz"},
		} {
			switch {
			case p.probe == nil || p.probe.HTTPGet == nil:
				t.Errorf("%s: no %s.httpGet", ssDoc.file, p.name)
			case p.probe.HTTPGet.Path != p.path:
				t.Errorf("%s: %s.httpGet.path is %q, want %q", ssDoc.file, p.name, p.probe.HTTPGet.Path, p.path)
			case port != "" && toString(p.probe.HTTPGet.Port) != port:
				t.Errorf("%s: %s.httpGet.port is %v, but INCIDENTBOT_HTTP_ADDR listens on %s", ssDoc.file, p.name, p.probe.HTTPGet.Port, port)
			}
		}

		var secret bool
		for _, e := range c.EnvFrom {
			secret = secret || (e.SecretRef != nil && e.SecretRef.Name == "incidentbot-tokens")
		}
		if !secret {
			t.Errorf("%s: envFrom has no secretRef incidentbot-tokens; the tokens would be missing", ssDoc.file)
		}

		// The database must live on the claim's mount, or it is lost with the pod.
		if len(ss.Spec.VolumeClaimTemplates) == 0 {
			t.Fatalf("%s: no volumeClaimTemplates; the database would be lost with the pod", ssDoc.file)
		}
		vct := ss.Spec.VolumeClaimTemplates[0]
		if vct.Metadata.Name != "data" || !slices.Equal(vct.Spec.AccessModes, []string{"ReadWriteOnce"}) || vct.Spec.Resources.Requests["storage"] != "1Gi" {
			t.Errorf("%s: volumeClaimTemplate is %s %v %s, want data [ReadWriteOnce] 1Gi", ssDoc.file,
				vct.Metadata.Name, vct.Spec.AccessModes, vct.Spec.Resources.Requests["storage"])
		}
		dataMount := c.mountPath(vct.Metadata.Name)
		if dataMount != "/data" {
			t.Errorf("%s: volumeClaimTemplate %s is mounted at %q, want /data", ssDoc.file, vct.Metadata.Name, dataMount)
		}
		if db, _ := c.env("INCIDENTBOT_DB"); !under(db, dataMount) {
			t.Errorf("%s: INCIDENTBOT_DB is %q, not under the %s volume's mount %q; the database would be lost with the pod",
				ssDoc.file, db, vct.Metadata.Name, dataMount)
		}

		// The config files come from the ConfigMap in this directory.
		var configVolume string
		for _, v := range pod.Volumes {
			if v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name {
				configVolume = v.Name
			}
		}
		configMount := c.mountPath(configVolume)
		if configVolume == "" || configMount != "/etc/incidentbot" {
			t.Errorf("%s: ConfigMap %s is not mounted at /etc/incidentbot (volume %q at %q)", ssDoc.file, cm.Metadata.Name, configVolume, configMount)
		}
		esc, _ := c.env("INCIDENTBOT_ESCALATION_FILE")
		if !under(esc, configMount) {
			t.Errorf("%s: INCIDENTBOT_ESCALATION_FILE %q is not under the config mount %q", ssDoc.file, esc, configMount)
		} else if key := path.Base(esc); cm.Data[key] == "" {
			t.Errorf("%s: INCIDENTBOT_ESCALATION_FILE is %s, but ConfigMap %s has no key %s", ssDoc.file, esc, cm.Metadata.Name, key)
		}
		if dir, _ := c.env("INCIDENTBOT_TEMPLATES_DIR"); !under(dir, configMount) {
			t.Errorf("%s: INCIDENTBOT_TEMPLATES_DIR %q is not under the config mount %q", ssDoc.file, dir, configMount)
		}
		for name, want := range map[string]string{"INCIDENTBOT_LOG_FORMAT": "json"} {
			if got, _ := c.env(name); got != want {
				t.Errorf("%s: %s is %q, want %q", ssDoc.file, name, got, want)
			}
		}
	})

	t.Run("ConfigMap escalation.yaml", func(t *testing.T) {
		var esc struct {
			Policies []struct {
				Name   string `yaml:"name"`
				Repeat int    `yaml:"repeat"`
				Levels []struct {
					Targets []string `yaml:"targets"`
					Timeout string   `yaml:"timeout"`
				} `yaml:"levels"`
			} `yaml:"policies"`
			SeverityDefaults map[string]string `yaml:"severity_defaults"`
		}
		text, ok := cm.Data["escalation.yaml"]
		if !ok {
			t.Fatalf("%s: ConfigMap has no escalation.yaml key", cmDoc.file)
		}
		dec := yaml.NewDecoder(strings.NewReader(text))
		dec.KnownFields(true)
		if err := dec.Decode(&esc); err != nil {
			t.Fatalf("%s: escalation.yaml does not parse: %v", cmDoc.file, err)
		}
		if len(esc.Policies) == 0 {
			t.Fatalf("%s: escalation.yaml has no policies list", cmDoc.file)
		}
		names := map[string]bool{}
		for i, p := range esc.Policies {
			if p.Name == "" || names[p.Name] {
				t.Errorf("%s: policy %d has an empty or repeated name %q", cmDoc.file, i, p.Name)
			}
			names[p.Name] = true
			if len(p.Levels) == 0 {
				t.Errorf("%s: policy %s has no levels", cmDoc.file, p.Name)
			}
			for j, l := range p.Levels {
				if len(l.Targets) == 0 {
					t.Errorf("%s: policy %s level %d has no targets", cmDoc.file, p.Name, j)
				}
				if d, err := time.ParseDuration(l.Timeout); err != nil || d <= 0 {
					t.Errorf("%s: policy %s level %d timeout %q is not a positive duration such as 5m", cmDoc.file, p.Name, j, l.Timeout)
				}
			}
		}
		for sev, p := range esc.SeverityDefaults {
			if !names[p] {
				t.Errorf("%s: severity_defaults.%s names policy %q, which is not defined", cmDoc.file, sev, p)
			}
		}
	})

	t.Run("kustomization", func(t *testing.T) {
		var k struct {
			Resources []string `yaml:"resources"`
		}
		kDoc := findDoc(t, docs, "Kustomization")
		if err := kDoc.node.Decode(&k); err != nil {
			t.Fatalf("%s: %v", kDoc.file, err)
		}
		listed := map[string]bool{}
		for _, r := range k.Resources {
			listed[r] = true
			if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
				t.Errorf("%s lists %s, which does not exist: %v", kDoc.file, r, err)
			}
			if strings.Contains(r, "example") {
				t.Errorf("%s lists %s: example files hold placeholders, never apply them", kDoc.file, r)
			}
		}
		seen := map[string]bool{}
		for _, d := range docs {
			if d.kind == "Kustomization" || strings.Contains(d.file, "example") || seen[d.file] {
				continue
			}
			seen[d.file] = true
			if !listed[d.file] {
				t.Errorf("%s is not listed in %s's resources, so `kubectl apply -k` skips it", d.file, kDoc.file)
			}
		}
	})

	t.Run("secret example", func(t *testing.T) {
		var s struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			StringData map[string]string `yaml:"stringData"`
		}
		sDoc := findDoc(t, docs, "Secret")
		if !strings.Contains(sDoc.file, "example") {
			t.Errorf("the Secret is in %s; keep it in an *.example.yaml file so real tokens are never applied from the repo", sDoc.file)
		}
		if err := sDoc.node.Decode(&s); err != nil {
			t.Fatalf("%s: %v", sDoc.file, err)
		}
		if s.Metadata.Name != "incidentbot-tokens" {
			t.Errorf("%s: Secret is named %q, but the StatefulSet reads incidentbot-tokens", sDoc.file, s.Metadata.Name)
		}
		checkPlaceholderTokens(t, sDoc.file, s.StringData)
	})
}

// checkPlaceholderTokens checks that both tokens are present with the right
// prefix and are obviously placeholders, not real tokens.
func checkPlaceholderTokens(t *testing.T, file string, vars map[string]string) {
	t.Helper()
	for name, prefix := range map[string]string{"SLACK_APP_TOKEN": "xapp-", "SLACK_BOT_TOKEN": "xoxb-"} {
		v, ok := vars[name]
		switch {
		case !ok:
			t.Errorf("%s: no %s", file, name)
		case !strings.HasPrefix(v, prefix):
			t.Errorf("%s: %s placeholder %q should start with %s", file, name, v, prefix)
		case realToken.MatchString(v):
			t.Errorf("%s: %s looks like a real token; never commit one", file, name)
		}
	}
}

// realToken matches Slack tokens' numeric segments (xoxb-123456-…).
var realToken = regexp.MustCompile(`^x(app|oxb)-\d+-`)

// toString renders a probe port, which YAML gives as a number or a name.
func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ---------------------------------------------------------------------------
// systemd

const unitFile = "systemd/incidentbot.service"

// parseUnit reads a systemd unit as INI: [Section], Key=Value, # and ;
// comments, backslash continuations. Keys may repeat (Environment=), so each
// key keeps every value in order.
func parseUnit(t *testing.T, text string) map[string]map[string][]string {
	t.Helper()
	sections := map[string]map[string][]string{}
	var section string
	sc := bufio.NewScanner(strings.NewReader(text))
	lineNo := 0
	var pending string
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			if sections[section] == nil {
				sections[section] = map[string][]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Errorf("%s:%d: not a Key=Value line inside a section: %q", unitFile, lineNo, line)
			continue
		}
		key = strings.TrimSpace(key)
		sections[section][key] = append(sections[section][key], strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sections
}

func TestSystemdUnit(t *testing.T) {
	unit := parseUnit(t, string(readFile(t, unitFile)))

	// last is the value systemd uses for single-valued keys.
	last := func(section, key string) (string, bool) {
		vs, ok := unit[section][key]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[len(vs)-1], true
	}

	want := []struct{ section, key, value string }{
		{"Unit", "After", "network-online.target"},
		{"Unit", "Wants", "network-online.target"},
		{"Service", "DynamicUser", "yes"},
		{"Service", "StateDirectory", "incidentbot"},
		{"Service", "EnvironmentFile", "/etc/incidentbot/incidentbot.env"},
		{"Service", "Restart", "on-failure"},
		{"Service", "RestartSec", "5s"},
		{"Service", "TimeoutStopSec", "30s"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "PrivateDevices", "yes"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectKernelTunables", "yes"},
		{"Service", "ProtectKernelModules", "yes"},
		{"Service", "ProtectKernelLogs", "yes"},
		{"Service", "ProtectControlGroups", "yes"},
		{"Service", "ProtectClock", "yes"},
		{"Service", "ProtectHostname", "yes"},
		{"Service", "RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Service", "RestrictNamespaces", "yes"},
		{"Service", "RestrictRealtime", "yes"},
		{"Service", "RestrictSUIDSGID", "yes"},
		{"Service", "LockPersonality", "yes"},
		{"Service", "MemoryDenyWriteExecute", "yes"},
		{"Service", "SystemCallArchitectures", "native"},
		{"Service", "SystemCallFilter", "@system-service"},
		{"Service", "CapabilityBoundingSet", ""}, // empty: no capabilities
		{"Service", "UMask", "0077"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, w := range want {
		got, ok := last(w.section, w.key)
		switch {
		case !ok:
			t.Errorf("%s: [%s] lacks %s=%s", unitFile, w.section, w.key, w.value)
		case got != w.value:
			t.Errorf("%s: [%s] %s=%q, want %q", unitFile, w.section, w.key, got, w.value)
		}
	}
	if d, _ := last("Unit", "Description"); d == "" {
		t.Errorf("%s: [Unit] has no Description", unitFile)
	}

	exec, _ := last("Service", "ExecStart")
	if f := strings.Fields(exec); len(f) != 2 || !path.IsAbs(f[0]) || path.Base(f[0]) != "incidentbot" || f[1] != "run" {
		t.Errorf("%s: ExecStart=%q, want an absolute path to incidentbot followed by `run`", unitFile, exec)
	}

	// The database must be in StateDirectory: with ProtectSystem=strict it is
	// the only writable place, and DynamicUser owns it.
	state, _ := last("Service", "StateDirectory")
	var db string
	for _, e := range unit["Service"]["Environment"] {
		for _, kv := range strings.Fields(e) {
			if v, ok := strings.CutPrefix(strings.Trim(kv, `"`), "INCIDENTBOT_DB="); ok {
				db = v
			}
		}
	}
	if wantDir := "/var/lib/" + state; db != "/var/lib/incidentbot/incidentbot.db" || !under(db, wantDir) {
		t.Errorf("%s: Environment INCIDENTBOT_DB=%q, want /var/lib/incidentbot/incidentbot.db, under StateDirectory %s", unitFile, db, wantDir)
	}

	t.Run("env example", func(t *testing.T) {
		const envFile = "systemd/incidentbot.env.example"
		vars := map[string]string{}
		for i, line := range strings.Split(string(readFile(t, envFile)), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("%s:%d: not KEY=value: %q", envFile, i+1, line)
				continue
			}
			vars[k] = v
		}
		checkPlaceholderTokens(t, envFile, vars)
	})
}

// ---------------------------------------------------------------------------
// Dockerfile

type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
	line int
}

type stage struct {
	from  string // image reference
	name  string // AS name
	instr []instruction
}

// parseDockerfile splits a Dockerfile into stages of instructions, joining
// backslash continuations and dropping comments (and parser directives).
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var cur strings.Builder
	start := 0
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args, _ := strings.Cut(s, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args), start}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			var st stage
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					st.from = w
					break
				}
			}
			if len(f) >= 2 && strings.EqualFold(f[len(f)-2], "AS") {
				st.name = f[len(f)-1]
			}
			stages = append(stages, st)
		}
		if len(stages) == 0 {
			t.Errorf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
			return
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments, also inside a continuation
		}
		if cur.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instr {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// envs reads ENV in both forms: ENV k=v k2="v 2" and the legacy ENV k v.
func (s *stage) envs() map[string]string {
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		if !strings.Contains(strings.Fields(in.args)[0], "=") {
			k, v, _ := strings.Cut(in.args, " ")
			out[k] = strings.TrimSpace(v)
			continue
		}
		for _, kv := range strings.Fields(in.args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				out[k] = strings.Trim(v, `"`)
			}
		}
	}
	return out
}

// jsonOrWords reads an exec-form ["a","b"] argument list, or whitespace
// separated words; exec reports which form it was.
func jsonOrWords(args string) (words []string, exec bool) {
	if strings.HasPrefix(args, "[") {
		if err := json.Unmarshal([]byte(args), &words); err == nil {
			return words, true
		}
	}
	return strings.Fields(args), false
}

var goDirective = regexp.MustCompile(`(?m)^go\s+(\d+)\.(\d+)(?:\.\d+)?\s*$`)

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, string(readFile(t, filepath.Join(repoRoot, "Dockerfile"))))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s); want a build stage and a final stage", len(stages))
	}
	build, final := &stages[0], &stages[len(stages)-1]

	t.Run("build stage", func(t *testing.T) {
		// The golang tag must match go.mod's go directive, so the build never
		// needs GOTOOLCHAIN to download a newer toolchain (or fails offline).
		image, tag, _ := strings.Cut(build.from, ":")
		if image != "golang" && image != "docker.io/library/golang" {
			t.Fatalf("first stage is FROM %s, want golang:<go version>-<distro>", build.from)
		}
		tagVersion, _, _ := strings.Cut(tag, "-")
		if p := strings.Split(tagVersion, "."); len(p) >= 2 {
			tagVersion = p[0] + "." + p[1]
		}
		m := goDirective.FindSubmatch(readFile(t, filepath.Join(repoRoot, "go.mod")))
		if m == nil {
			t.Fatal("go.mod has no go directive")
		}
		if modVersion := string(m[1]) + "." + string(m[2]); tagVersion != modVersion {
			t.Errorf("Dockerfile builds with golang:%s but go.mod says go %s; make the image tag %s-…", tag, modVersion, modVersion)
		}

		var goBuild *instruction
		for _, in := range build.all("RUN") {
			if strings.Contains(in.args, "go build") {
				goBuild = &in
			}
		}
		if goBuild == nil {
			t.Fatal("build stage has no RUN … go build")
		}
		if !regexp.MustCompile(`(^|\s)\./cmd/incidentbot(\s|$)`).MatchString(goBuild.args) {
			t.Errorf("Dockerfile:%d: go build does not build ./cmd/incidentbot: %s", goBuild.line, goBuild.args)
		}
		if fi, err := os.Stat(filepath.Join(repoRoot, "cmd", "incidentbot")); err != nil || !fi.IsDir() {
			t.Errorf("the Dockerfile builds ./cmd/incidentbot, which is not a directory: %v", err)
		} else if mains, _ := filepath.Glob(filepath.Join(repoRoot, "cmd", "incidentbot", "main.go")); len(mains) == 0 {
			t.Errorf("./cmd/incidentbot has no main.go")
		}
		// A static binary, for an image without libc.
		if !strings.Contains(goBuild.args, "CGO_ENABLED=0") && build.envs()["CGO_ENABLED"] != "0" {
			t.Errorf("Dockerfile:%d: go build without CGO_ENABLED=0; the binary would need libc, which %s lacks", goBuild.line, final.from)
		}
		for _, flag := range []string{"-trimpath", "-o "} {
			if !strings.Contains(goBuild.args, flag) {
				t.Errorf("Dockerfile:%d: go build lacks %s", goBuild.line, flag)
			}
		}
	})

	t.Run("final stage", func(t *testing.T) {
		if !strings.HasPrefix(final.from, "gcr.io/distroless/") && final.from != "scratch" {
			t.Errorf("final stage is FROM %s, want gcr.io/distroless/… or scratch", final.from)
		}
		users := final.all("USER")
		if len(users) == 0 {
			t.Errorf("final stage has no USER; say which non-root user runs the bot")
		} else {
			u, _, _ := strings.Cut(users[len(users)-1].args, ":")
			if u == "" || u == "root" || u == "0" {
				t.Errorf("final stage runs as USER %q; want a non-root user such as nonroot or 65532", users[len(users)-1].args)
			}
		}

		var volumes []string
		for _, in := range final.all("VOLUME") {
			w, _ := jsonOrWords(in.args)
			volumes = append(volumes, w...)
		}
		env := final.envs()
		db := env["INCIDENTBOT_DB"]
		if !slices.ContainsFunc(volumes, func(v string) bool { return under(db, v) }) {
			t.Errorf("ENV INCIDENTBOT_DB=%q is not under any VOLUME %v; the database would live in the container layer", db, volumes)
		}

		addr := env["INCIDENTBOT_HTTP_ADDR"]
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "127.0.0.1" || host == "localhost" {
			t.Errorf("ENV INCIDENTBOT_HTTP_ADDR=%q: probes from outside the container need 0.0.0.0:<port>", addr)
		}
		var exposed []string
		for _, in := range final.all("EXPOSE") {
			for _, p := range strings.Fields(in.args) {
				exposed = append(exposed, strings.TrimSuffix(p, "/tcp"))
			}
		}
		if port != "" && !slices.Contains(exposed, port) {
			t.Errorf("INCIDENTBOT_HTTP_ADDR listens on %s but EXPOSE lists %v", port, exposed)
		}

		// Exec form, so the bot is PID 1 and gets SIGTERM to shut down cleanly.
		eps := final.all("ENTRYPOINT")
		if len(eps) == 0 {
			t.Fatal("final stage has no ENTRYPOINT")
		}
		ep, exec := jsonOrWords(eps[len(eps)-1].args)
		if !exec || len(ep) == 0 {
			t.Fatalf("ENTRYPOINT %s is not exec form [\"/path\"]: a shell would swallow SIGTERM (and distroless has none)", eps[len(eps)-1].args)
		}
		var copied bool
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.args)
			copied = copied || (slices.ContainsFunc(f, func(s string) bool { return strings.HasPrefix(s, "--from=") }) && f[len(f)-1] == ep[0])
		}
		if !copied {
			t.Errorf("no COPY --from=… puts the binary at the ENTRYPOINT %s", ep[0])
		}
		if cmds := final.all("CMD"); len(cmds) == 0 {
			t.Errorf("final stage has no CMD; want CMD [\"run\"]")
		} else if c, _ := jsonOrWords(cmds[len(cmds)-1].args); !slices.Equal(c, []string{"run"}) {
			t.Errorf("CMD is %v, want [run]", c)
		}
	})

	t.Run("dockerignore", func(t *testing.T) {
		var patterns []string
		for _, line := range strings.Split(string(readFile(t, filepath.Join(repoRoot, ".dockerignore"))), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				patterns = append(patterns, line)
			}
		}
		for _, p := range []string{".git", "**/*.db"} {
			if !slices.Contains(patterns, p) {
				t.Errorf(".dockerignore lacks %s", p)
			}
		}
		// The build needs these; ignoring one breaks `docker build`.
		for _, needed := range []string{"go.mod", "go.sum", "cmd/incidentbot/main.go", "handlers/slack.go"} {
			for _, p := range patterns {
				if ignores(p, needed) {
					t.Errorf(".dockerignore pattern %q excludes %s, which the build needs", p, needed)
				}
			}
		}
	})
}

// ignores approximates .dockerignore matching: a pattern matches the path or
// any of its parent directories; a leading **/ matches at any depth.
func ignores(pattern, name string) bool {
	if strings.HasPrefix(pattern, "!") {
		return false
	}
	pattern = strings.TrimPrefix(pattern, "/")
	anyDepth := strings.HasPrefix(pattern, "**/")
	pattern = strings.TrimPrefix(pattern, "**/")
	parts := strings.Split(name, "/")
	for i := range parts {
		for j := i + 1; j <= len(parts); j++ {
			if i > 0 && !anyDepth {
				break
			}
			if ok, _ := path.Match(pattern, strings.Join(parts[i:j], "/")); ok {
				return true
			}
		}
	}
	return false
}
