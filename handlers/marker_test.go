package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/internal/slackfake"
	"github.com/incidentbot/incidentbot/store"
)

// markerRig runs post jobs straight through Handlers.Run against the fake,
// with handlers made (as at a start) whenever a test asks.
type markerRig struct {
	t     *testing.T
	fake  *slackfake.Server
	db    *store.DB
	alice string
	ch    string
}

func newMarkerRig(t *testing.T) *markerRig {
	fake := slackfake.New(slackfake.Options{})
	t.Cleanup(fake.Close)
	db, err := store.Open(filepath.Join(t.TempDir(), "incidentbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	alice := fake.AddUser(slackfake.User{Name: "alice"})
	return &markerRig{t: t, fake: fake, db: db, alice: alice, ch: fake.AddChannel("ops", false, alice, fake.BotUserID())}
}

// start makes the handlers, as a starting bot does.
func (r *markerRig) start() *handlers.Handlers {
	r.t.Helper()
	h, err := handlers.New(handlers.Config{}, handlers.Deps{DB: r.db, Now: time.Now, Log: zerolog.New(io.Discard),
		API: slack.New(r.fake.BotToken(), slack.OptionAPIURL(r.fake.APIURL()))})
	if err != nil {
		r.t.Fatal(err)
	}
	h.SetBotUserID(r.fake.BotUserID())
	return h
}

// enqueue adds a post job and returns it as the dispatcher gets it.
func (r *markerRig) enqueue(payload map[string]string) store.Job {
	r.t.Helper()
	raw, _ := json.Marshal(payload)
	var job store.Job
	if err := r.db.Update(func(tx *store.Tx) error {
		if err := tx.Enqueue(store.Job{Lane: payload["channel"], Kind: "post", Payload: raw, Created: time.Now(), Throttled: true}); err != nil {
			return err
		}
		jobs, err := tx.Jobs()
		job = jobs[len(jobs)-1]
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	return job
}

func (r *markerRig) run(h *handlers.Handlers, job store.Job) error {
	_, err := h.Run(context.Background(), job)
	return err
}

// lookups counts the calls made to find a marker.
func (r *markerRig) lookups() int {
	n := 0
	for _, c := range r.fake.Calls("") {
		if c.Params.Get("include_all_metadata") == "1" {
			n++
		}
	}
	return n
}

func (r *markerRig) botPosts(channel string) int {
	n := 0
	for _, m := range r.fake.Messages(channel) {
		if m.User == r.fake.BotUserID() && m.Subtype == "" {
			n++
		}
	}
	return n
}

var lost = slackfake.Fault{Status: http.StatusServiceUnavailable, Apply: true}

func TestPostOnceAfterALostReply(t *testing.T) {
	r := newMarkerRig(t)
	parent := r.fake.PostMessage(r.alice, r.ch, "the thread")
	for _, tc := range []struct {
		name, channel, thread, in string
	}{
		{"channel", r.ch, "", r.ch},
		{"thread reply", r.ch, parent, r.ch},
		{"to a user id (the DM)", r.alice, "", r.fake.DM(r.alice)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := r.start()
			job := r.enqueue(map[string]string{"channel": tc.channel, "text": "posted once: " + tc.name, "thread_ts": tc.thread})
			before, calls := r.lookups(), len(r.fake.Calls("chat.postMessage"))
			r.fake.FailNext("chat.postMessage", 1, lost)
			if err := r.run(h, job); err == nil {
				t.Fatal("the lost reply was not an error")
			}
			if err := r.run(h, job); err != nil {
				t.Fatal(err)
			}
			if got := len(r.fake.Calls("chat.postMessage")) - calls; got != 1 {
				t.Errorf("%d chat.postMessage calls, want 1 (the retry found the post)", got)
			}
			if r.lookups() == before {
				t.Errorf("the retry did not look for its marker")
			}
			n := 0
			for _, m := range r.fake.Messages(tc.in) {
				if m.Text == "posted once: "+tc.name {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d messages in %s, want 1", n, tc.in)
			}
		})
	}
}

func TestPostOnceLooksOnlyWhenItMayHavePosted(t *testing.T) {
	r := newMarkerRig(t)
	h := r.start()
	// Refused (429): nothing was posted, so the retry posts without looking.
	job := r.enqueue(map[string]string{"channel": r.ch, "text": "after a 429"})
	r.fake.FailNext("chat.postMessage", 1, slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	if err := r.run(h, job); err == nil {
		t.Fatal("the 429 was not an error")
	}
	if err := r.run(h, job); err != nil {
		t.Fatal(err)
	}
	if n := r.lookups(); n != 0 {
		t.Errorf("%d lookups for a new job and a refused attempt, want 0", n)
	}

	// In the outbox when the bot starts: it may have posted, so it looks
	// (finds nothing, posts); started again with the job still there, it
	// finds its post.
	resumed := r.enqueue(map[string]string{"channel": r.ch, "text": "resumed"})
	if err := r.run(r.start(), resumed); err != nil {
		t.Fatal(err)
	}
	if err := r.run(r.start(), resumed); err != nil {
		t.Fatal(err)
	}
	if n := r.lookups(); n != 2 {
		t.Errorf("%d lookups for a job run by two starts, want 2", n)
	}
	// A database restored from a backup hands the same Seq out again: a
	// job created at another time is another job, and posts.
	again := resumed
	again.Created = again.Created.Add(time.Second)
	if err := r.run(r.start(), again); err != nil {
		t.Fatal(err)
	}
	// A history the bot cannot read does not stop the post.
	unreadable := r.enqueue(map[string]string{"channel": r.ch, "text": "unreadable history"})
	r.fake.FailNext("conversations.history", 1, slackfake.Fault{Error: "missing_scope"})
	if err := r.run(r.start(), unreadable); err != nil {
		t.Fatal(err)
	}
	if n := r.botPosts(r.ch); n != 4 {
		t.Errorf("%d posts, want 4: after a 429, resumed (once), the restored job's, the unreadable one", n)
	}
}
