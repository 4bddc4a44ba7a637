package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/cluster"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/handlers/alerts"
	"github.com/incidentbot/incidentbot/handlers/comms"
	"github.com/incidentbot/incidentbot/handlers/incidents"
	"github.com/incidentbot/incidentbot/handlers/oncall"
	"github.com/incidentbot/incidentbot/handlers/paging"
	"github.com/incidentbot/incidentbot/handlers/timeline"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config/check"
	"github.com/incidentbot/incidentbot/metrics"
	"github.com/incidentbot/incidentbot/paging/provider/builtin"
	"github.com/incidentbot/incidentbot/store"
)

// appDeps are what differ between `run`, `demo` and the end-to-end tests.
type appDeps struct {
	Clock bot.Clock    // nil: the wall clock
	Bot   bot.Config   // retry, batching and rate settings
	HTTP  *http.Client // for the Web API; nil: a client with a timeout
	Log   zerolog.Logger
	// Getenv reads the Opsgenie keys an escalation file names; nil: os.Getenv.
	Getenv func(string) string
	// ProviderGiveUp: how long a paging provider may fail; 0: the default.
	ProviderGiveUp time.Duration
}

// app is a wired incidentbot: database, Slack clients, handlers, bot.
type app struct {
	cfg      Config
	db       *store.DB
	api      *slack.Client
	bot      *bot.Bot
	handlers *handlers.Handlers
	metrics  *metrics.Metrics
	log      zerolog.Logger
	// health is bound by listen; nil when INCIDENTBOT_HTTP_ADDR is empty.
	health net.Listener
	backup *backupServer // GET /backup
	// alerts is the alert receiver, bound by listen; nil when
	// INCIDENTBOT_ALERTS_ADDR is empty.
	alerts        net.Listener
	alertReceiver http.Handler
	// cluster is this node's Raft member; nil in single-node mode.
	cluster *cluster.Node
}

// slackCallTimeout bounds one Web API call, from the request to the end of
// its body.
const slackCallTimeout = 30 * time.Second

// newApp opens the database and wires everything; it makes no network call,
// so it is quick even while Slack is down. cfg must be validated.
func newApp(cfg Config, deps appDeps) (*app, error) {
	clock := deps.Clock
	if clock == nil {
		clock = bot.RealClock
	}
	// Up to Workers calls to slack.com at once: keep as many connections
	// open (the default keeps 2, so most calls would open a new one, and
	// with real Slack pay a TLS handshake).
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	// No Client.Timeout: bot.Deadline (outermost, below) bounds each call
	// instead, without the goroutine per call that Timeout costs through
	// the wrappers (see its doc).
	httpClient := &http.Client{Transport: transport}
	if deps.HTTP != nil {
		c := *deps.HTTP
		httpClient = &c
	}
	m := metrics.New()
	httpClient.Transport = m.Transport(httpClient.Transport)
	if cfg.SlackPace > 0 {
		// Above the metrics, so a call paced locally is not counted as one
		// to Slack. On the wall clock: Slack's limits are in real time.
		httpClient.Transport = bot.NewPacer(httpClient.Transport, nil, cfg.SlackPace, time.Now)
	}
	httpClient.Transport = bot.Deadline(httpClient.Transport, slackCallTimeout)
	log := deps.Log
	db, rebuild, err := openStore(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("INCIDENTBOT_DB: %w", err)
	}
	backups, err := newBackupServer(cfg, db, log)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("INCIDENTBOT_DB: %w", err)
	}
	templates, err := incident.LoadTemplates(cfg.TemplatesDir)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("INCIDENTBOT_TEMPLATES_DIR: %w", err)
	}
	if len(templates.Overridden) > 0 {
		log.Info().Strs("templates", templates.Overridden).Str("dir", cfg.TemplatesDir).Msg("using template overrides")
	}
	getenv := deps.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	providers := builtin.Set(builtin.Options{PagerDutyURL: cfg.PagerdutyURL, OpsgenieURL: cfg.OpsgenieURL, JSMURL: cfg.JSMURL, Getenv: getenv})
	policies, err := incident.LoadPolicies(cfg.EscalationFile, providers.Check)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("INCIDENTBOT_ESCALATION_FILE: %w", err)
	}
	if !policies.Empty() {
		log.Info().Int("policies", len(policies.List)).Str("file", cfg.EscalationFile).Msg("loaded escalation policies")
	}
	api := slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.SlackApiURL), slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionHTTPClient(httpClient))
	respond := func(ctx context.Context, url string, msg *slack.WebhookMessage) error {
		return slack.PostWebhookCustomHTTPContext(ctx, url, httpClient, msg)
	}
	tokens, err := loadAlertTokens(cfg, policies, getenv, log)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	onCall := oncall.New(oncall.Config{Policies: policies})
	pager := paging.New(paging.Config{
		Policies: policies,
		// Providers get their own client: no redirects, and no Slack metrics.
		Providers:      providers,
		ProviderGiveUp: deps.ProviderGiveUp,
		OnPaged:        m.Paged,
		// Schedules with their calendar feeds, as the on-call module read them.
		Schedules: onCall,
	})
	incs := incidents.New()
	alerting := alerts.New(alerts.Config{Routes: policies.AlertRoutes, Tokens: tokens, StormLimit: cfg.AlertsStorm, Pager: pager, Declarer: incs})
	h, err := handlers.New(handlers.Config{
		AnnounceChannel: cfg.AnnounceChannel,
		TimelineEmojis:  cfg.TimelineEmoji,
		ConfirmEmoji:    cfg.ConfirmEmoji,
		TimelinePrefix:  cfg.TimelinePrefix,
	}, handlers.Deps{DB: db, API: api, Respond: respond, Templates: templates, Now: clock.Now, Log: log},
		incs, timeline.New(),
		comms.New(comms.Config{StatusChannel: cfg.StatusChannel, UpdateEvery: cfg.UpdateEvery, FollowUpEmoji: cfg.FollowupEmoji}),
		pager, onCall, alerting)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	var b *bot.Bot
	var node *cluster.Node
	if cfg.ClusterEnabled() {
		// The store replicates through Raft from here on; the node leads or
		// follows once it has met its peers.
		node, err = newClusterNode(cfg, db, rebuild, m, log, func(err error) {
			log.Error().Err(err).Msg("this node cannot follow the cluster's log; stopping")
			if b != nil {
				b.Fail(err)
			}
		})
		if err != nil {
			_ = db.Close()
			return nil, err
		}
	} else if err := onCall.Start(db); err != nil {
		// Each schedule's handoff timer, before the bot dispatches (see oncall.Start).
		_ = db.Close()
		return nil, fmt.Errorf("on-call schedules: %w", err)
	}
	socket := socketmode.New(api, socketmode.OptionDialer(socketDialer()))
	b = bot.New(deps.Bot, socket, db, h, h, clock, log)
	if node != nil {
		b.SetCluster(node)
		// The handoff timers are written by whoever leads (a write).
		b.OnLeader(func() error { return onCall.Start(db) })
	}
	b.SetMetrics(m)
	m.SetStateFunc(func() metrics.State { return state(db, b) })
	a := &app{cfg: cfg, db: db, api: api, bot: b, handlers: h, metrics: m, log: log, backup: backups, cluster: node}
	a.alertReceiver = a.clusterAlerts(alerting.Receiver())
	return a, nil
}

// loadResponders expands INCIDENTBOT_RESPONDERS (user ids and user group
// ids) into user ids for the handlers. Before the bot handles anything, so a
// restriction is never briefly lifted.
func (a *app) loadResponders(ctx context.Context) error {
	if len(a.cfg.Responders) == 0 {
		return nil
	}
	var ids []string
	for _, id := range a.cfg.Responders {
		if !strings.HasPrefix(id, "S") {
			ids = append(ids, id)
			continue
		}
		members, err := a.api.GetUserGroupMembersContext(ctx, id)
		if err != nil {
			return fmt.Errorf("INCIDENTBOT_RESPONDERS: cannot read the members of user group %s: %w (check the id and the usergroups:read scope)", id, err)
		}
		ids = append(ids, members...)
	}
	a.handlers.SetResponders(ids)
	return nil
}

// refreshResponders follows changes to responder user groups; on a failure
// it keeps the last known members.
func (a *app) refreshResponders(ctx context.Context) {
	if !slices.ContainsFunc(a.cfg.Responders, func(id string) bool { return strings.HasPrefix(id, "S") }) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Minute):
		}
		if err := a.loadResponders(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn().Err(err).Msg("kept the previous responders")
		}
	}
}

// authTest checks the bot token, retrying while Slack is unreachable and
// failing at once when Slack refuses the token.
func authTest(ctx context.Context, api *slack.Client, log zerolog.Logger) (*slack.AuthTestResponse, error) {
	delay := time.Second
	for attempt := 1; ; attempt++ {
		resp, err := api.AuthTestContext(ctx)
		if err == nil {
			return resp, nil
		}
		var apiErr slack.SlackErrorResponse
		if errors.As(err, &apiErr) {
			return nil, fmt.Errorf("SLACK_BOT_TOKEN: Slack refused it (%s): reinstall the app and copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions", apiErr.Err)
		}
		if attempt == 1 || attempt%10 == 0 {
			log.Warn().Err(err).Int("attempt", attempt).Msg("cannot reach Slack to check the bot token; retrying")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reach Slack: %w", err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// checkChannels says, loudly and with what to do, when Slack will refuse
// the bot's posts in its announce or status channel. The bot still runs:
// incidents work without them, and the operator may fix it while it runs.
func (a *app) checkChannels(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := check.Channels(cctx, a.api, a.cfg); err != nil && ctx.Err() == nil {
		a.log.Error().Err(err).Msg("the bot cannot post to a channel it is configured to post to; those posts will fail until this is fixed")
	}
}

// listen binds the health endpoint and the alert receiver now, so a port
// in use fails at start.
func (a *app) listen() error {
	if a.cfg.HTTPAddr != "" {
		l, err := net.Listen("tcp", a.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("INCIDENTBOT_HTTP_ADDR: cannot listen on %s: %w", a.cfg.HTTPAddr, err)
		}
		a.health = l
	}
	if a.cfg.AlertsAddr != "" {
		l, err := net.Listen("tcp", a.cfg.AlertsAddr)
		if err != nil {
			if a.health != nil {
				_ = a.health.Close()
			}
			return fmt.Errorf("INCIDENTBOT_ALERTS_ADDR: cannot listen on %s: %w", a.cfg.AlertsAddr, err)
		}
		a.alerts = l
	}
	return nil
}

// run serves until ctx ends, then shuts down in order: stop taking
// envelopes, let in-flight work finish, close the database.
func (a *app) run(ctx context.Context) error {
	var srv *http.Server
	if a.health != nil {
		srv = &http.Server{Handler: a.healthHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(a.health); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error().Err(err).Msg("health endpoint stopped")
			}
		}()
	}
	// The alert receiver takes alerts at once, also while Slack is
	// unreachable: each is committed before it is answered, and its
	// message and pages go out once Slack answers.
	var alertSrv *http.Server
	if a.alerts != nil {
		alertSrv = &http.Server{Handler: a.alertReceiver, ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
		go func() {
			if err := alertSrv.Serve(a.alerts); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error().Err(err).Msg("alert receiver stopped")
			}
		}()
		a.log.Info().Str("addr", a.alerts.Addr().String()).Msg("alert receiver listening")
	}
	// auth.test runs after the health endpoint is up: an orchestrator sees
	// a live process that is not ready while Slack is unreachable, instead
	// of a crash loop. A refused token still stops the bot at once.
	auth, err := authTest(ctx, a.api, a.log)
	if err == nil {
		a.log.Info().Str("team", auth.Team).Str("team_id", auth.TeamID).Str("bot_user", auth.UserID).Msg("authenticated with Slack")
		a.handlers.SetBotUserID(auth.UserID)
		a.handlers.SetTeamID(auth.TeamID)
		a.handlers.SetTeamURL(auth.URL)
		a.checkChannels(ctx)
		if err = a.loadResponders(ctx); err == nil {
			go a.refreshResponders(ctx)
			err = a.bot.Run(ctx)
		}
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil // stopped while waiting for Slack: a clean shutdown
	}
	for _, s := range []*http.Server{srv, alertSrv} {
		if s != nil {
			// Requests in flight finish (and commit) before the database closes.
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.Shutdown(sctx)
			cancel()
		}
	}
	if a.cluster != nil {
		// A leader hands its leadership over first: a planned restart costs
		// milliseconds, not an election.
		if cerr := a.cluster.Shutdown(); cerr != nil {
			a.log.Warn().Err(cerr).Msg("cluster shutdown")
		}
	}
	if cerr := a.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close database: %w", cerr)
	}
	return err
}

// state is what /metrics reports about the incidents and the outbox, read
// at scrape time from the store's counters: constant time however many
// incidents the database holds.
func state(db *store.DB, b *bot.Bot) metrics.State {
	st := metrics.State{OpenIncidents: make(map[string]int, len(incident.Severities)), JobsPending: b.Pending()}
	_ = db.View(func(tx *store.Tx) error {
		c, err := tx.Counts()
		for i, s := range incident.Severities {
			if n := c.Open[s]; n > 0 {
				st.OpenIncidents[severityNames[i]] = n
			}
		}
		st.EscalationsPending = c.EscalationsPending
		st.Alerts = tx.AlertCounts()
		return err
	})
	return st
}

// severityNames are incident.Severities' labels on /metrics, made once.
var severityNames = func() []string {
	var names []string
	for _, s := range incident.Severities {
		names = append(names, s.String())
	}
	return names
}()

func (a *app) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("GET /backup", a.serveBackup)
	mux.HandleFunc("GET /cluster/status", a.serveClusterStatus)
	mux.HandleFunc("POST /cluster/bootstrap", a.serveClusterBootstrap)
	// GET /oncall/<schedule>.ics?token=…: off (404) without INCIDENTBOT_ICAL_TOKEN.
	feeds := a.newOnCallFeeds()
	mux.Handle("GET /oncall/{file}", feeds)
	a.metrics.SetOnCallFunc(feeds.onCallNow)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := a.bot.Ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = w.Write([]byte(why + "\n"))
	})
	return mux
}
