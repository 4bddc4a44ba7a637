package bot

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/store"
)

// A refused bot token stops the bot and keeps the job for the next start.
func TestDispatchStopsOnFatalAuth(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	r := giveUpRunner{
		runFunc: func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
			rec.add(job)
			return nil, slack.SlackErrorResponse{Err: "invalid_auth"}
		},
		giveUp: func(_ *store.Tx, job store.Job, _ error) error {
			t.Errorf("GiveUp called for %s", job.Kind)
			return nil
		},
	}
	dt := newDispatchTest(t, Config{}, clock, r)
	dt.enqueue(store.Job{Lane: "C1", Kind: "post", Payload: json.RawMessage(`{"text":"hi"}`)})
	select {
	case err := <-dt.fatal:
		if !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") {
			t.Errorf("fatal error %q does not say which token to fix", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no fatal error")
	}
	dt.stopped()
	if n := rec.count(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	if jobs := dt.outbox(); len(jobs) != 1 || jobs[0].Kind != "post" || string(jobs[0].Payload) != `{"text":"hi"}` {
		t.Errorf("outbox %+v, want the post kept", jobs)
	}
}

// On shutdown a job in flight may finish within ShutdownGrace (on the
// clock); past it, it is cancelled. Unfinished jobs stay in the outbox.
func TestDispatchShutdownKeepsUnfinishedJobs(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	started := make(chan string, 8)
	finish := make(chan struct{})
	r := giveUpRunner{
		runFunc: func(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
			rec.add(job)
			switch job.Kind {
			case "slow":
				started <- job.Kind
				<-ctx.Done()
				return nil, ctx.Err()
			case "flaky":
				started <- job.Kind
				return nil, slack.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}
			case "finishing":
				started <- job.Kind
				select {
				case <-finish:
				case <-ctx.Done():
				}
			}
			return nil, nil
		},
		giveUp: func(_ *store.Tx, job store.Job, _ error) error {
			t.Errorf("GiveUp called for %s", job.Kind)
			return nil
		},
	}
	dt := newDispatchTest(t, Config{ShutdownGrace: 10 * time.Second}, clock, r)
	dt.enqueue(store.Job{Lane: "A", Kind: "slow"}, store.Job{Lane: "B", Kind: "flaky"},
		store.Job{Lane: "C", Kind: "later", NotBefore: t0.Add(time.Hour)}, store.Job{Lane: "D", Kind: "finishing"})
	for range 3 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the jobs did not start")
		}
	}

	dt.cancel()
	grace := t0.Add(10 * time.Second)
	clock.waitFor(t, grace)
	close(finish) // within the grace
	eventually(t, "the finishing job to be recorded", func() bool {
		return !slices.ContainsFunc(dt.outbox(), func(j store.Job) bool { return j.Kind == "finishing" })
	})
	select {
	case <-dt.done:
		t.Fatal("the dispatcher stopped before the grace was over, with a job in flight")
	default:
	}
	clock.set(grace)
	dt.stopped()

	var kinds []string
	for _, j := range dt.outbox() {
		kinds = append(kinds, j.Kind)
	}
	if want := []string{"slow", "flaky", "later"}; !slices.Equal(kinds, want) {
		t.Errorf("outbox after shutdown %v, want %v", kinds, want)
	}
	if got := rec.in("C"); len(got) != 0 {
		t.Errorf("the later job ran at %v", got)
	}
	if n := len(rec.in("B")); n != 1 {
		t.Errorf("the flaky job ran %d times, want 1 (its backoff was cut short)", n)
	}
}
