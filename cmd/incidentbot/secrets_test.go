package main

// AssertNoSecret: no secret shows in anything the bot wrote.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/report"
	"github.com/incidentbot/incidentbot/store"
)

// Secret registers strings that must never show in anything the bot wrote
// (see AssertNoSecret). The first call registers the Slack tokens too, and
// makes the test end with AssertNoSecret, run once the bot has stopped so
// that its last log lines count as well.
func (h *harness) Secret(secrets ...string) {
	if h.secrets == nil {
		h.secrets = []string{h.fake.AppToken(), h.fake.BotToken()}
		h.t.Cleanup(h.assertNoSecretAtEnd)
	}
	for _, s := range secrets {
		if s != "" && !slices.Contains(h.secrets, s) {
			h.secrets = append(h.secrets, s)
		}
	}
}

// policySecrets registers the secrets of the escalation file: PagerDuty
// routing keys, the Opsgenie API keys its variables hold, and the paths and
// queries of webhook URLs (the host alone is shown, "webhook:https://host/…").
func (h *harness) policySecrets() {
	h.t.Helper()
	getenv := h.deps.Getenv
	if getenv == nil {
		getenv = os.Getenv // as newApp
	}
	policies, err := incident.LoadPolicies(h.cfg.EscalationFile, nil) // shape only: the bot checked the values
	if err != nil {
		h.t.Fatalf("read the escalation file for its secrets: %v", err)
	}
	h.Secret() // the Slack tokens, even without a provider
	for _, p := range policies.List {
		for _, l := range p.Levels {
			for _, t := range l.Targets {
				switch t.Kind() {
				case incident.TargetPagerDuty:
					h.Secret(t.Value())
				case incident.TargetOpsgenie, incident.TargetJSM:
					h.Secret(getenv(t.Value()))
				case incident.TargetWebhook:
					if u, err := url.Parse(t.Value()); err == nil {
						if p := u.EscapedPath(); p != "/" {
							h.Secret(p)
						}
						h.Secret(u.RawQuery)
					} else {
						h.Secret(t.Value())
					}
				}
			}
		}
	}
}

// AssertNoSecret fails the test for each registered secret (Secret) that
// shows in a line the bot logged; in a message (text, blocks, attachments,
// metadata, files), topic or purpose of any conversation of the fake, DMs
// included; in an ephemeral or ack payload shown to anyone; in a view; in an
// uploaded file; in an incident's timeline or its postmortem draft; or in
// the /metrics output.
func (h *harness) AssertNoSecret() {
	h.t.Helper()
	h.reportSecrets(h.everythingWritten())
}

func (h *harness) assertNoSecretAtEnd() {
	h.t.Helper()
	written := h.everythingWritten()
	logged := len(h.log.Lines())
	h.stop()
	for i, line := range h.log.Lines()[logged:] {
		written = append(written, shownText{fmt.Sprintf("log line %d", logged+i+1), line})
	}
	h.reportSecrets(written)
}

// reportSecrets fails the test for every secret in written, naming where.
func (h *harness) reportSecrets(written []shownText) {
	h.t.Helper()
	leaks := 0
	for _, s := range h.secrets {
		// A secret in a JSON document (a log line, blocks) may be escaped.
		quoted, _ := json.Marshal(s)
		escaped := strings.Trim(string(quoted), `"`)
		for _, w := range written {
			at := strings.Index(w.text, s)
			if at < 0 {
				at = strings.Index(w.text, escaped)
			}
			if at < 0 {
				continue
			}
			if leaks++; leaks <= 20 {
				h.t.Errorf("secret %q shows in %s:\n%s", s, w.where, around(w.text, at, 300))
			}
		}
	}
	if leaks > 20 {
		h.t.Errorf("… and %d more places show a secret", leaks-20)
	}
}

// everythingWritten is all the bot wrote that AssertNoSecret reads.
func (h *harness) everythingWritten() []shownText {
	h.t.Helper()
	var out []shownText
	add := func(where string, texts ...string) {
		for _, t := range texts {
			if t != "" {
				out = append(out, shownText{where, t})
			}
		}
	}
	for i, line := range h.log.Lines() {
		add(fmt.Sprintf("log line %d", i+1), line)
	}

	users := []string{h.alice, h.bob}
	for _, c := range h.fake.Channels() {
		add("name of "+c.ID, c.Name)
		add("topic of "+c.ID, c.Topic)
		add("purpose of "+c.ID, c.Purpose)
		users = append(users, c.Members...)
		for _, m := range h.fake.Messages(c.ID) {
			where := fmt.Sprintf("message %s in %s", m.TS, c.ID)
			add(where, m.Text, string(m.Blocks), string(m.Attachments), string(m.Metadata))
			for _, f := range m.Files {
				add(where+" (file "+f.ID+")", f.Name, f.Title)
			}
		}
	}
	slices.Sort(users)
	for _, u := range slices.Compact(users) {
		for _, m := range h.fake.Ephemerals(u) {
			add(fmt.Sprintf("ephemeral to %s via %s", u, m.Via), m.Text, string(m.Blocks), string(m.Attachments))
		}
	}
	for _, e := range h.fake.Envelopes() {
		if a, ok := h.fake.Ack(e.ID); ok {
			add("ack of envelope "+e.ID, string(a.Payload))
		}
	}
	for _, v := range h.fake.Views() {
		add("view "+v.ID, string(v.JSON))
	}
	for _, f := range h.fake.Files() {
		add("uploaded file "+f.ID, f.Name, f.Title, string(f.Content))
	}

	h.readStore(func(tx *store.Tx) error {
		templates, err := incident.LoadTemplates(h.cfg.TemplatesDir)
		if err != nil {
			return err
		}
		incs, err := tx.Incidents()
		if err != nil {
			return err
		}
		for _, inc := range incs {
			entries, err := tx.Timeline(inc.ID)
			if err != nil {
				return err
			}
			for _, e := range entries {
				add(fmt.Sprintf("timeline entry of INC-%d at %s", inc.ID, incident.FormatTime(e.At)), e.Text)
			}
			doc, err := report.Postmortem(tx, templates, inc.ID, time.Now())
			if err != nil {
				return err
			}
			add(fmt.Sprintf("the postmortem draft of INC-%d", inc.ID), doc)
		}
		return nil
	})
	if h.running() {
		add("/metrics", h.metricsText())
	}
	return out
}

// readStore reads the database: the bot's while it runs, else the file.
func (h *harness) readStore(fn func(*store.Tx) error) {
	h.t.Helper()
	if h.running() {
		h.view(fn)
		return
	}
	db, err := store.Open(h.cfg.DB, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		h.t.Errorf("open the database read-only: %v", err)
		return
	}
	defer func() { _ = db.Close() }()
	if err := db.View(fn); err != nil {
		h.t.Errorf("read the database: %v", err)
	}
}

// around is s within n bytes either side of at, for a failure message.
func around(s string, at, n int) string {
	from, to := max(0, at-n), min(len(s), at+n)
	out := strings.ToValidUTF8(s[from:to], "")
	if from > 0 {
		out = "…" + out
	}
	if to < len(s) {
		out += "…"
	}
	return out
}

// TestAssertNoSecretFindsSecrets: the check finds a secret wherever the bot
// wrote one (here a title, which it shows and records everywhere, and a log
// line), and names the place.
func TestAssertNoSecretFindsSecrets(t *testing.T) {
	rec := &recordingTB{TB: t}
	h := newHarness(rec)
	const secret = "S3CR3T-value-42"
	h.Secret(secret)
	ch := h.declared(1, "declare sev2 Leaky "+secret)
	h.slash(h.alice, ch.ID, "resolve")
	h.ExpectUpload("INC-1-postmortem.md")
	h.app.log.Info().Str("key", secret).Msg("a careless log line")
	h.AssertNoSecret()
	errs := rec.errors()
	for _, where := range []string{"log line", "message", "topic of", "ephemeral to", "ack of envelope", "uploaded file", "timeline entry of INC-1", "the postmortem draft of INC-1"} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, `secret "`+secret+`" shows in `+where) }) {
			t.Errorf("AssertNoSecret did not report the secret in %s; it reported:\n%s", where, strings.Join(errs, "\n"))
		}
	}
}

// recordingTB records the test's errors instead of failing it.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}
