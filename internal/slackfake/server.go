package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. Every zero value selects a default.
type Options struct {
	// Now is the clock used for message timestamps and event times, so a
	// demo can run on a simulated clock. Trigger expiry, ack latency and
	// redelivery always use real wall time, because those are about how
	// fast the bot answers, not about the story being told. Default time.Now.
	Now func() time.Time
	// PingInterval is how often WebSocket PING control frames are sent.
	// slack-go reconnects when it sees no PING for 30 s. Default 5 s.
	PingInterval time.Duration
	// RedeliverAfter, when positive, re-sends an events_api envelope that
	// was not acked within this duration, with a new envelope_id, the same
	// event_id, retry_attempt n and retry_reason "timeout", at most 3 times,
	// as Slack does. Zero disables automatic redelivery.
	RedeliverAfter time.Duration
	// RateLimits, when set, limits methods to so many calls a minute for
	// the whole workspace, as Slack's tiers do (e.g. "reactions.add": 50);
	// a call over the limit is answered 429 with a Retry-After.
	RateLimits map[string]int
	// RateScale shortens the minute of RateLimits (60: per second), so a
	// test can run Slack's limits quickly. Default 1.
	RateScale float64
	// TeamID is the workspace ID. Default "T0FAKE".
	TeamID string
	// TeamDomain is the workspace subdomain, used in permalinks and slash
	// command payloads. Default "fake".
	TeamDomain string
	// AppID is the Slack app ID. Default "A0FAKE".
	AppID string
	// BotUserID is the bot's user ID. Default "U0BOT".
	BotUserID string
	// BotID is the bot's bot_id (B…). Default "B0BOT".
	BotID string
	// BotName is the bot user's name. Default "incidentbot".
	BotName string
	// BotToken is the only accepted bot token. Default "xoxb-fake-bot-token".
	BotToken string
	// AppToken is the only accepted app-level token. Default
	// "xapp-1-fake-app-token".
	AppToken string
	// VerificationToken is the legacy token Slack puts in payloads.
	// Default "fake-verification-token".
	VerificationToken string
	// Events lists the event types the app is subscribed to. Default:
	// message, app_mention, reaction_added, reaction_removed,
	// member_joined_channel, member_left_channel.
	Events []string
}

// DefaultEvents returns the event subscription used when Options.Events is
// empty.
func DefaultEvents() []string {
	return []string{
		"message", "app_mention", "reaction_added", "reaction_removed",
		"member_joined_channel", "member_left_channel",
	}
}

func (o *Options) setDefaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 5 * time.Second
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.TeamID, "T0FAKE")
	def(&o.TeamDomain, "fake")
	def(&o.AppID, "A0FAKE")
	def(&o.BotUserID, "U0BOT")
	def(&o.BotID, "B0BOT")
	def(&o.BotName, "incidentbot")
	def(&o.BotToken, "xoxb-fake-bot-token")
	def(&o.AppToken, "xapp-1-fake-app-token")
	def(&o.VerificationToken, "fake-verification-token")
	if len(o.Events) == 0 {
		o.Events = DefaultEvents()
	}
}

// Server is a fake Slack workspace listening on 127.0.0.1. Create it with
// New and stop it with Close.
type Server struct {
	opts   Options
	srv    *httptest.Server
	events map[string]bool
	// wall is the real clock for Slack's real-time limits (trigger and
	// response_url expiry); tests in this package replace it.
	wall func() time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool
	done    chan struct{}

	seq    int64 // source of deterministic IDs
	lastTS int64 // last issued ts, in microseconds, so ts values are unique

	revoked    bool
	users      map[string]*user
	userOrder  []string
	channels   map[string]*channel
	chanOrder  []string
	dms        map[string]string // user ID → D… channel ID
	groups     map[string]*userGroup
	ephemerals []ephemeral
	files      map[string]*file
	fileOrder  []string
	views      map[string]*view
	viewOrder  []string
	triggers   map[string]*trigger
	hooks      map[string]*hook // response_url token → context
	calls      []Call
	okCalls    map[string]int // successful calls per method (CallsOK)
	faults     faultState
	limiter    *rateLimiter

	sock socketState
	subs map[int]*subscriber
	sub  int

	// beforeReply, when set, runs after a Web API call took effect and
	// before its reply is written (see BeforeReply).
	beforeReply func(Call)
}

// New starts a fake workspace on 127.0.0.1 with a random port. The bot user
// exists from the start.
func New(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts:     opts,
		events:   map[string]bool{},
		wall:     time.Now,
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
		users:    map[string]*user{},
		channels: map[string]*channel{},
		dms:      map[string]string{},
		groups:   map[string]*userGroup{},
		files:    map[string]*file{},
		views:    map[string]*view{},
		triggers: map[string]*trigger{},
		hooks:    map[string]*hook{},
		subs:     map[int]*subscriber{},
		limiter:  newRateLimiter(opts.RateLimits, opts.RateScale),
	}
	s.sock.init()
	for _, e := range opts.Events {
		s.events[e] = true
	}
	s.addUserLocked(User{
		ID: opts.BotUserID, Name: opts.BotName, RealName: opts.BotName,
		DisplayName: opts.BotName, IsBot: true,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleWebSocket)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("/files-pri/", s.handleFileDownload)
	mux.HandleFunc("/commands/", s.handleResponseURL)
	mux.HandleFunc("/actions/", s.handleResponseURL)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close drops every WebSocket, stops all timers' effects and shuts the
// HTTP server down.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := s.sock.liveConns()
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	s.srv.Close()
}

// APIURL is the Web API base URL with a trailing slash, for
// slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// URL is the server's root URL (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.srv.URL }

// BotToken returns the accepted bot token.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken returns the accepted app-level token.
func (s *Server) AppToken() string { return s.opts.AppToken }

// BotUserID returns the bot's user ID.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// BotID returns the bot's bot_id.
func (s *Server) BotID() string { return s.opts.BotID }

// TeamID returns the workspace ID.
func (s *Server) TeamID() string { return s.opts.TeamID }

// AppID returns the app ID.
func (s *Server) AppID() string { return s.opts.AppID }

// notifyLocked wakes everyone waiting for a state change (WaitFor, socket
// writers, subscriber pumps). The caller holds s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// nextIDLocked returns a deterministic Slack-looking ID such as
// "C0000001A". Determinism keeps demo transcripts and test failures stable.
func (s *Server) nextIDLocked(prefix string) string {
	s.seq++
	return prefix + "0" + fmt.Sprintf("%08s", strings.ToUpper(strconv.FormatInt(s.seq, 36)))
}

// nextTSLocked returns a fresh message timestamp ("1700000000.000100")
// from Options.Now, bumped by a microsecond when the clock has not moved,
// because Slack guarantees ts values are unique within a channel.
func (s *Server) nextTSLocked() string {
	micro := s.opts.Now().UnixMicro()
	if micro <= s.lastTS {
		micro = s.lastTS + 1
	}
	s.lastTS = micro
	return formatTS(micro)
}

func formatTS(micro int64) string {
	return fmt.Sprintf("%d.%06d", micro/1e6, micro%1e6)
}

// parseTS turns "1700000000.000100" into microseconds; ok is false for
// malformed values.
func parseTS(ts string) (int64, bool) {
	sec, frac, found := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	var us int64
	if found {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, false
		}
	}
	return s*1e6 + us, true
}

// uuidLocked returns a deterministic UUID-shaped string, the format Slack
// uses for envelope IDs.
func (s *Server) uuidLocked() string {
	s.seq++
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", s.seq*2654435761%(1<<32), s.seq%0xffff, s.seq%0xfff, (s.seq*7)%0xfff, s.seq)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("slackfake: marshal %T: %v", v, err))
	}
	return b
}
