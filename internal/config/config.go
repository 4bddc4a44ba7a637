// Package config reads incidentbot's configuration from an environment and
// validates it.
//
// The environment is injected (Load takes a lookup function, os.LookupEnv in
// the binary), so tests, `incidentbot check` and the deployment tests read a
// map instead of the process environment. The Config struct's tags are the
// single description of every variable: envconfig decodes them, and the
// `incidentbot config` table is printed from them.
package config

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	_ "unsafe" // for go:linkname, see envconfigLookup

	"github.com/kelseyhightower/envconfig"
)

// EnvPrefix prefixes every variable; the two tokens are also read without it.
const EnvPrefix = "INCIDENTBOT"

// Config is incidentbot's configuration, read from the environment. The
// `req` tag says which subcommands need a variable, for `incidentbot config`.
type Config struct {
	AppToken string `envconfig:"SLACK_APP_TOKEN" show:"SLACK_APP_TOKEN" req:"run" desc:"app-level token (xapp-…) with the connections:write scope; also INCIDENTBOT_SLACK_APP_TOKEN"`
	BotToken string `envconfig:"SLACK_BOT_TOKEN" show:"SLACK_BOT_TOKEN" req:"run" desc:"bot token (xoxb-…) from OAuth & Permissions; also INCIDENTBOT_SLACK_BOT_TOKEN"`
	// SlackApiURL is spelt so envconfig splits it into INCIDENTBOT_SLACK_API_URL.
	SlackApiURL     string        `split_words:"true" default:"https://slack.com/api/" desc:"Slack Web API base URL, ending in /; tests and the demo point it at the fake Slack"`
	DB              string        `default:"incidentbot.db" desc:"bbolt database file; its directory must exist and be writable"`
	AnnounceChannel string        `split_words:"true" desc:"channel id (C…) where declarations and resolutions are announced; empty: nowhere"`
	TimelineEmoji   []string      `split_words:"true" default:"pushpin" desc:"reaction name(s), comma separated, that add a message to the timeline"`
	HTTPAddr        string        `split_words:"true" default:"127.0.0.1:8080" desc:"address of /healthz and /readyz; empty disables"`
	LogFormat       string        `split_words:"true" default:"json" desc:"log format: json, or console for humans"`
	LogLevel        string        `split_words:"true" default:"info" desc:"log level: debug, info, warn or error"`
	ConfirmEmoji    string        `split_words:"true" default:"white_check_mark" desc:"reaction the bot adds to a message it put on the timeline"`
	TimelinePrefix  string        `split_words:"true" default:"TL:" desc:"a message in an incident channel that starts with this goes onto the timeline; empty disables"`
	StatusChannel   string        `split_words:"true" desc:"channel id (C…) where customer status updates are posted; empty: recorded and shown in the incident channel only"`
	UpdateEvery     time.Duration `split_words:"true" default:"30m" desc:"nudge an open incident's channel when no customer update was posted for this long (Go duration, e.g. 30m); 0 disables"`
	FollowupEmoji   string        `split_words:"true" default:"memo" desc:"reaction that records a message in an incident channel as a follow-up action"`
	TemplatesDir    string        `split_words:"true" desc:"directory whose postmortem.md.tmpl / update-<status>.tmpl files override the built-in templates; if set, it must exist"`
	EscalationFile  string        `split_words:"true" desc:"YAML file of escalation policies (see deploy/escalation.example.yaml); empty: people are paged directly only"`
	PagerdutyURL    string        `split_words:"true" default:"https://events.pagerduty.com" desc:"PagerDuty Events API v2 base URL (events go to <base>/v2/enqueue); tests point it at a local server"`
	OpsgenieURL     string        `split_words:"true" default:"https://api.opsgenie.com" desc:"Opsgenie API base URL; EU accounts use https://api.eu.opsgenie.com"`
	JSMURL          string        `envconfig:"JSM_URL" default:"https://api.atlassian.com" desc:"Jira Service Management API base URL, for jsm: targets"`
	SlackPace       float64       `split_words:"true" default:"1" desc:"pace Slack calls to Slack's per-method limits, scaled by this (2: twice as fast, for a workspace with higher limits); 0 turns pacing off"`
	// ICalToken guards GET /oncall/<schedule>.ics; it is a secret and is
	// never printed (Validate names it, never its value).
	ICalToken  string   `envconfig:"ICAL_TOKEN" desc:"secret that GET /oncall/<schedule>.ics?token=… must carry (at least 20 characters: letters, digits, - _ . ~); empty: the calendar feeds are off (404)"`
	Responders []string `desc:"user ids (U…) and/or user group ids (S…), comma separated, who alone may change incidents; empty: any member of the incident channel"`
	// AlertsAddr is where the alert receiver listens; each alert route of
	// the escalation file names the variable holding its bearer token.
	AlertsAddr  string `split_words:"true" desc:"host:port of the alert receiver (Alertmanager webhook and generic JSON, routed by the escalation file's alert_routes), e.g. 0.0.0.0:9094 or 127.0.0.1:9094; empty: the receiver is off"`
	AlertsStorm int    `split_words:"true" default:"20" desc:"new alert groups per minute on one route before they are gathered into one storm alert (a whole number, at least 1)"`
	// The cluster (cluster.go): all empty is single-node mode. Peers is
	// read as one string and parsed by ClusterPeerList.
	ClusterNodeID  string `split_words:"true" desc:"this node's id in the cluster, one of INCIDENTBOT_CLUSTER_PEERS' ids (on Kubernetes the pod name, e.g. incidentbot-0); empty: single-node mode, and every other INCIDENTBOT_CLUSTER_ variable must be unset"`
	ClusterBind    string `split_words:"true" desc:"host:port this node listens on for Raft and node-to-node traffic, e.g. 0.0.0.0:7946"`
	ClusterPeers   string `split_words:"true" desc:"every voter as id=host:port, comma separated, this node included; 1, 3, 5 or 7 of them, e.g. incidentbot-0=incidentbot-0.incidentbot-peers:7946,incidentbot-1=…"`
	ClusterTLSCert string `split_words:"true" desc:"PEM certificate this node presents to the others (server and client auth), signed by INCIDENTBOT_CLUSTER_TLS_CA; required unless INCIDENTBOT_CLUSTER_INSECURE=true"`
	ClusterTLSKey  string `split_words:"true" desc:"PEM private key of INCIDENTBOT_CLUSTER_TLS_CERT"`
	// ClusterTLSCa is spelt so envconfig splits it into
	// INCIDENTBOT_CLUSTER_TLS_CA (ClusterTLSCA would be CLUSTER_TLSCA).
	ClusterTLSCa         string `split_words:"true" desc:"PEM CA certificate(s) every node's certificate must chain to; use a CA for this cluster alone"`
	ClusterInsecure      bool   `split_words:"true" desc:"true: plain, unauthenticated TCP between nodes, for tests only (logged as a warning); never with the TLS variables"`
	ClusterDir           string `split_words:"true" desc:"directory of the Raft log and snapshots, on persistent storage; empty: INCIDENTBOT_DB's path with .raft appended (e.g. /data/incidentbot.db.raft)"`
	ClusterSnapshotEvery int    `split_words:"true" desc:"Raft log entries between snapshots (a snapshot is the database file; the log keeps as many entries again behind it, for a node briefly away); empty or 0: 8192"`
}

// Lookup reads one variable of an environment: its value and whether it is
// set at all, as os.LookupEnv does. Set-but-empty matters: an empty
// INCIDENTBOT_HTTP_ADDR disables the HTTP endpoints, an unset one means the
// default.
type Lookup func(key string) (value string, ok bool)

// Getenv reads a variable as os.Getenv does ("" when unset), for code that
// takes a getenv function, such as incident.LoadPolicies.
func (l Lookup) Getenv(key string) string {
	v, _ := l(key)
	return v
}

// MapEnv is an environment held in a map, for tests and for checking a
// deployment's files without exporting them.
func MapEnv(m map[string]string) Lookup {
	return func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	}
}

// envconfigLookup is envconfig's own hook for reading the environment: in
// v1.4.0 Process calls lookupEnv (os.LookupEnv) for every variable, and the
// package offers no exported way to read anything but the process
// environment. See Load for why it is linked to here.
//
//go:linkname envconfigLookup github.com/kelseyhightower/envconfig.lookupEnv
var envconfigLookup func(string) (string, bool)

// loadMu serialises Load, which swaps envconfigLookup for the duration of one
// envconfig.Process.
var loadMu sync.Mutex

// Load reads the configuration from the environment lookup (nil:
// os.LookupEnv) and applies the defaults. It does not validate: call
// Validate, so that a value can be tested without an environment.
//
// envconfig stays the decoder: it computes every variable's name from the
// struct tags, tries the prefixed name and then the unprefixed alternative,
// applies defaults to unset variables only, and parses lists and durations,
// exactly as it does for the process environment. Because envconfig v1.4.0
// (its latest release) can only read the process environment, Load points
// envconfig's internal lookup hook at lookup for the duration of one Process
// call, under a mutex, and puts it back. The alternatives were worse:
// copying the injected values into the process environment would race with
// everything else that reads it, leak tokens into child processes, and
// still let envconfig fall back to real unprefixed variables such as
// SLACK_BOT_TOKEN; decoding the values ourselves would make envconfig a
// mere source of names, with two sets of rules free to drift. The hook's
// name and type are pinned by go.sum (v1.4.0); if an upgrade removed it the
// link would fail, and TestLoadIgnoresProcessEnv fails if it stopped
// working. Only Load may call envconfig.Process.
func Load(lookup Lookup) (Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	loadMu.Lock()
	saved := envconfigLookup
	envconfigLookup = lookup
	defer func() {
		envconfigLookup = saved
		loadMu.Unlock()
	}()

	var c Config
	if err := envconfig.Process(EnvPrefix, &c); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			// Only durations and numbers can fail to parse; strings and
			// lists cannot, so a token is never repeated here.
			return c, fmt.Errorf("%s: cannot read %q as %s", pe.KeyName, pe.Value, typeExample(pe.TypeName))
		}
		return c, err
	}
	return c, nil
}

// typeExample says what a valid value of a Config field's type looks like.
func typeExample(typeName string) string {
	switch typeName {
	case "time.Duration":
		return "a duration such as 30m or 1h30m (0 disables)"
	case "int":
		return "a whole number such as 20"
	case "float64":
		return "a number such as 1 or 2.5"
	case "bool":
		return "true or false"
	}
	return "a " + typeName
}
