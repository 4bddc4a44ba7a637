package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/report"
)

// cmdDemo starts a fake Slack workspace and the real bot in one process,
// replays an incident, prints the channel as it unfolds, and writes the
// postmortem draft the bot uploaded. No tokens, no network.
func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "demo-out", "directory to write the postmortem draft to")
	verbose := fs.Bool("v", false, "also print the bot's logs (to stderr)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: incidentbot demo [--out DIR] [-v]\n\nReplays a real incident (Stellate's 2023 KV-store outage) against a fake Slack.\n\n")
		fs.PrintDefaults()
	}
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	log := zerolog.New(io.Discard)
	if *verbose {
		log = newLogger(stderr, "console", "debug")
	}
	path, err := runDemo(context.Background(), demoScript, *out, stdout, log)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot demo: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nPostmortem draft written to %s\n", path)
	return 0
}

// demo is a running demo: the fake workspace, the bot and the transcript.
type demo struct {
	fake   *slackfake.Server
	clock  *simClock
	app    *app
	users  map[string]string // name → id
	chans  map[string]string // name → id
	out    *transcript
	stdout io.Writer
}

// runDemo plays script and returns the path of the written draft.
func runDemo(ctx context.Context, script []demoStep, outDir string, stdout io.Writer, log zerolog.Logger) (string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("create --out directory: %w", err)
	}
	dbDir, err := os.MkdirTemp("", "incidentbot-demo-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dbDir)

	clock := newSimClock(script[0].At)
	fake := slackfake.New(slackfake.Options{Now: clock.Now, TeamDomain: "stellate-demo", BotName: "incidentbot"})
	defer fake.Close()
	d := &demo{fake: fake, clock: clock, users: map[string]string{}, chans: map[string]string{}, stdout: stdout}
	for _, u := range demoUsers {
		d.users[u.Name] = fake.AddUser(u)
	}
	members := []string{d.users["mara"], d.users["jonas"], d.users["priya"]}
	d.chans["support"] = fake.AddChannel("support", false, members...)
	d.chans["incidents"] = fake.AddChannel("incidents", false, append(members, fake.BotUserID())...)
	d.chans["status"] = fake.AddChannel("status-page", false, append(members, fake.BotUserID())...)
	d.chans["alerts"] = fake.AddChannel("alerts", false, append(members, fake.BotUserID())...)

	escalation, err := writeDemoEscalation(dbDir, d.users, d.chans["alerts"])
	if err != nil {
		return "", err
	}
	// The alert receiver on a free loopback port (demo_alerts.go).
	alertsAddr, err := demoAlertsAddr()
	if err != nil {
		return "", err
	}
	cfg := Config{AppToken: fake.AppToken(), BotToken: fake.BotToken(), SlackApiURL: fake.APIURL(), AlertsAddr: alertsAddr, AlertsStorm: 20,
		DB: filepath.Join(dbDir, "incidentbot.db"), AnnounceChannel: d.chans["incidents"], EscalationFile: escalation,
		StatusChannel: d.chans["status"], UpdateEvery: 30 * time.Minute, FollowupEmoji: "memo",
		TimelineEmoji: []string{"pushpin"}, ConfirmEmoji: "white_check_mark", TimelinePrefix: "TL:", LogFormat: "json", LogLevel: "info"}
	if _, err := cfg.Validate(true); err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	getenv := func(k string) string {
		if k == "DEMO_ALERTS_TOKEN" {
			return demoAlertsToken
		}
		return os.Getenv(k)
	}
	a, err := newApp(cfg, appDeps{Clock: clock, Log: log, Getenv: getenv,
		Bot: bot.Config{PostInterval: 50 * time.Millisecond, Backoff: 50 * time.Millisecond}})
	if err != nil {
		return "", err
	}
	if err := a.listen(); err != nil {
		return "", err
	}
	d.app = a
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()

	d.out = newTranscript(stdout, fake)
	for name, id := range d.users {
		d.out.names[id] = name
	}
	events, unsubscribe := fake.Subscribe()
	defer unsubscribe()
	go d.out.follow(events)

	fmt.Fprintln(stdout, "incidentbot demo — replaying Stellate's \"Issues with configuration updates propagating\" (Aug 2023)")
	fmt.Fprintln(stdout, "against a fake Slack workspace, then the alert its first follow-up asked for, three days later.")
	fmt.Fprintln(stdout, "Times are the report's, in UTC.")
	if err := d.waitFor(func() bool { ok, _ := a.bot.Ready(); return ok }); err != nil {
		return "", errors.New("the bot did not connect to the fake Slack")
	}
	var lastTS string
	for i, step := range script {
		clock.Set(step.At)
		if lastTS, err = step.Do(d, lastTS); err != nil {
			return "", fmt.Errorf("step %d (%s): %w", i+1, step.What, err)
		}
		d.settle()
	}
	doc, err := d.uploadedDraft()
	if err != nil {
		return "", err
	}
	cancel()
	if err := <-done; err != nil {
		return "", err
	}
	path := filepath.Join(outDir, report.Filename(1))
	return path, os.WriteFile(path, doc, 0o644)
}

// waitFor waits (up to 10 s of real time) for cond.
func (d *demo) waitFor(cond func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := d.fake.WaitFor(ctx, cond)
		cancel()
		if err == nil {
			return nil
		}
	}
	return errors.New("timed out")
}

// settle waits until the bot has nothing left to do and the transcript has
// printed everything, so each step's output appears under it.
func (d *demo) settle() {
	_ = d.waitFor(func() bool { return len(d.fake.Unacked()) == 0 && d.app.bot.Due() == 0 })
	d.out.quiet(100 * time.Millisecond)
}

// uploadedDraft returns the postmortem file the bot uploaded to Slack.
func (d *demo) uploadedDraft() ([]byte, error) {
	var doc []byte
	err := d.waitFor(func() bool {
		// The last upload is the newest draft (/incident postmortem
		// regenerates it).
		for _, f := range d.fake.Files() {
			if f.Name == report.Filename(1) {
				doc = f.Content
			}
		}
		return doc != nil
	})
	if err != nil {
		return nil, errors.New("the bot did not upload the postmortem draft")
	}
	return doc, nil
}

// incidentChannel returns the id of the first incident's channel.
func (d *demo) incidentChannel() (string, error) {
	var id string
	err := d.waitFor(func() bool {
		for _, c := range d.fake.Channels() {
			if strings.HasPrefix(c.Name, "inc-1-") {
				id = c.ID
				return true
			}
		}
		return false
	})
	return id, err
}

// transcript prints what happens in the workspace as a readable log.
type transcript struct {
	mu      sync.Mutex
	w       io.Writer
	fake    *slackfake.Server
	day     string
	last    time.Time
	names   map[string]string
	pending sync.WaitGroup
}

func newTranscript(w io.Writer, fake *slackfake.Server) *transcript {
	return &transcript{w: w, fake: fake, names: map[string]string{}}
}

func (t *transcript) follow(events <-chan slackfake.Event) {
	for ev := range events {
		t.mu.Lock()
		t.last = time.Now()
		t.print(ev)
		t.mu.Unlock()
	}
}

// quiet waits until no event has been printed for d, counting from now.
func (t *transcript) quiet(d time.Duration) {
	start := time.Now()
	for {
		t.mu.Lock()
		last := t.last
		if last.Before(start) {
			last = start
		}
		idle := time.Since(last)
		t.mu.Unlock()
		if idle >= d {
			return
		}
		time.Sleep(d - idle)
	}
}

// note prints a line the script adds (a slash command as the user typed it).
func (t *transcript) note(at time.Time, where, who, text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.line(at, where, who, text)
}
