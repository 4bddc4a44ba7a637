package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/store"
)

// Jobs in one lane run one at a time in Seq order; lanes run side by side,
// never more than Workers at once.
func TestDispatchLanesInOrderAndInParallel(t *testing.T) {
	clock := newFakeClock()
	type run struct {
		job     store.Job
		release chan struct{}
	}
	var mu sync.Mutex
	running := map[string]int{}
	total := 0
	started := make(chan run, 16)
	r := runFunc(func(ctx context.Context, job store.Job) (func(*store.Tx) error, error) {
		mu.Lock()
		running[job.Lane]++
		total++
		if running[job.Lane] > 1 {
			t.Errorf("two jobs of lane %s at once", job.Lane)
		}
		if total > 2 {
			t.Errorf("%d jobs at once with 2 workers", total)
		}
		mu.Unlock()
		release := make(chan struct{})
		started <- run{job, release}
		select {
		case <-release:
		case <-ctx.Done():
		}
		mu.Lock()
		running[job.Lane]--
		total--
		mu.Unlock()
		return nil, nil
	})
	dt := newDispatchTest(t, Config{Workers: 2}, clock, r)
	var jobs []store.Job
	left := map[string]int{}
	for i := range 3 {
		for _, lane := range []string{"A", "B", "C"} {
			jobs = append(jobs, store.Job{Lane: lane, Kind: fmt.Sprintf("%s%d", lane, i)})
			left[lane]++
		}
	}
	dt.enqueue(jobs...)

	var ran []store.Job
	var inFlight []run
	next := func() {
		t.Helper()
		select {
		case s := <-started:
			ran = append(ran, s.job)
			inFlight = append(inFlight, s)
			left[s.job.Lane]--
		case <-time.After(10 * time.Second):
			t.Fatalf("no job started; %d ran", len(ran))
		}
	}
	// Two start before either finishes: two lanes in parallel.
	next()
	next()
	if ran[0].Lane == ran[1].Lane {
		t.Errorf("the first two jobs are both of lane %s", ran[0].Lane)
	}
	for len(inFlight) > 0 {
		done := inFlight[0]
		inFlight = inFlight[1:]
		before := dt.d.pending()
		close(done.release)
		eventually(t, done.job.Kind+" to finish", func() bool { return dt.d.pending() == before-1 })
		// A worker is free: a lane with jobs left that is not running starts.
		busy := map[string]bool{}
		for _, s := range inFlight {
			busy[s.job.Lane] = true
		}
		for lane, n := range left {
			if n > 0 && !busy[lane] {
				next()
				break
			}
		}
	}
	dt.drained()

	if len(ran) != len(jobs) {
		t.Errorf("%d jobs ran, want %d", len(ran), len(jobs))
	}
	for _, lane := range []string{"A", "B", "C"} {
		var kinds []string
		var last uint64
		for _, j := range ran {
			if j.Lane != lane {
				continue
			}
			kinds = append(kinds, j.Kind)
			if j.Seq <= last {
				t.Errorf("lane %s ran seq %d after %d", lane, j.Seq, last)
			}
			last = j.Seq
		}
		if want := []string{lane + "0", lane + "1", lane + "2"}; !slices.Equal(kinds, want) {
			t.Errorf("lane %s ran %v, want %v", lane, kinds, want)
		}
	}
	if got := dt.metrics.outcomes(); len(got) != 9 || slices.ContainsFunc(got, func(s string) bool { return !strings.HasSuffix(s, "/ok") }) {
		t.Errorf("metrics %v, want 9 ok", got)
	}
}

// Throttled jobs in one lane are PostInterval apart on the clock, also when
// the lane's queue ran empty in between; other lanes and unthrottled jobs
// are not held back.
func TestDispatchSpacesThrottledJobsInALane(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	r := runFunc(func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
		rec.add(job)
		return nil, nil
	})
	dt := newDispatchTest(t, Config{PostInterval: time.Second}, clock, r)
	post := func(lane string) store.Job { return store.Job{Lane: lane, Kind: "post", Throttled: true} }
	dt.enqueue(post("C1"), post("C1"), store.Job{Lane: "C1", Kind: "topic"}, post("C1"), post("C2"))
	eventually(t, "the first posts", func() bool { return rec.count() == 2 }) // before the clock moves
	clock.runUntil(t, func() bool { return rec.count() == 5 })
	dt.drained()
	if got, want := rec.in("C1"), []time.Duration{0, time.Second, time.Second, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("C1's calls at %v, want %v", got, want)
	}

	// The lane's queue is empty; a post now still waits for its turn, while
	// C2's last post is long enough ago.
	dt.enqueue(post("C1"), post("C2"))
	eventually(t, "C2's post", func() bool { return len(rec.in("C2")) == 2 })
	if at := clock.next(t); !at.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("the clock moved to %s, want 3s", at.Sub(t0))
	}
	dt.drained()
	if got, want := rec.in("C1"), []time.Duration{0, time.Second, time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("C1's calls at %v, want %v", got, want)
	}
	if got, want := rec.in("C2"), []time.Duration{0, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("C2's calls at %v, want %v", got, want)
	}
}

// A retryable error is retried after a backoff that doubles up to
// MaxBackoff (with ±20% jitter), waited on the clock; the failure is logged
// once, saying what the job does.
func TestDispatchBacksOffAndRetries(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	r := runFunc(func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
		if rec.add(job) <= 3 {
			return nil, slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}
		}
		return nil, nil
	})
	dt := newDispatchTest(t, Config{Backoff: time.Second, MaxBackoff: 2 * time.Second}, clock, r)
	dt.enqueue(store.Job{Lane: "C1", Kind: "post"})
	clock.runUntil(t, func() bool { return rec.count() == 4 })
	dt.drained()
	at := rec.in("C1")
	for i, base := range []time.Duration{time.Second, 2 * time.Second, 2 * time.Second} {
		gap := at[i+1] - at[i]
		if gap < base*8/10 || gap > base*12/10 {
			t.Errorf("retry %d came %s after the attempt before, want %s ±20%%", i+1, gap, base)
		}
	}
	if got, want := dt.metrics.outcomes(), []string{"post/retry", "post/retry", "post/retry", "post/ok"}; !slices.Equal(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
	lines := logLines(t, dt.logs)
	retrying := linesWith(lines, "do post failed; retrying")
	if len(retrying) != 1 {
		t.Fatalf("%d retry log lines for one unchanging error, want 1:\n%s", len(retrying), dt.logs)
	}
	l := retrying[0]
	if l["job"] != "post" || l["lane"] != "C1" || l["seq"] != 1.0 || l["level"] != "warn" || !strings.Contains(fmt.Sprint(l["error"]), "503") {
		t.Errorf("retry log line %v, want job post, lane C1, seq 1, warn and the error", l)
	}
	if n := len(linesWith(lines, "do post succeeded after retrying")); n != 1 {
		t.Errorf("%d success log lines, want 1:\n%s", n, dt.logs)
	}
}

// The delay Slack or a provider asks for is waited, on the clock, instead
// of the backoff, plus a jitter of at most a tenth of it (at most 1 s).
func TestDispatchHonoursRetryAfter(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	r := runFunc(func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
		switch rec.add(job) {
		case 1:
			return nil, &slack.RateLimitedError{RetryAfter: 30 * time.Second}
		case 2:
			return nil, fmt.Errorf("page: %w", Retry(errors.New("429 from the provider"), 7*time.Second))
		}
		return nil, nil
	})
	dt := newDispatchTest(t, Config{Backoff: time.Second}, clock, r)
	dt.enqueue(store.Job{Lane: "provider:x", Kind: "page"})
	clock.runUntil(t, func() bool { return rec.count() == 3 })
	dt.drained()
	got := rec.in("provider:x")
	if len(got) != 3 || got[0] != 0 || got[1] < 30*time.Second || got[1] > 31*time.Second ||
		got[2]-got[1] < 7*time.Second || got[2]-got[1] > 7700*time.Millisecond {
		t.Errorf("calls at %v, want 0, 30 s (+ ≤1 s), then 7 s (+ ≤0.7 s) later", got)
	}
	if got, want := dt.metrics.outcomes(), []string{"page/rate_limited", "page/rate_limited", "page/ok"}; !slices.Equal(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
	if n := len(linesWith(logLines(t, dt.logs), "do page failed; retrying")); n != 2 {
		t.Errorf("%d retry log lines for two different errors, want 2:\n%s", n, dt.logs)
	}
}

// A final error calls GiveUp once, in the transaction that removes the job
// (what it enqueues runs), and is logged saying what failed.
func TestDispatchGivesUpOnAFinalError(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	var mu sync.Mutex
	var gaveUp []string
	r := giveUpRunner{
		runFunc: func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
			rec.add(job)
			switch job.Kind {
			case "post":
				return nil, slack.SlackErrorResponse{Err: "channel_not_found"}
			case "decode":
				return nil, Final(errors.New("bad payload"))
			}
			return nil, nil
		},
		giveUp: func(tx *store.Tx, job store.Job, err error) error {
			mu.Lock()
			gaveUp = append(gaveUp, job.Kind+": "+err.Error())
			mu.Unlock()
			return tx.Enqueue(store.Job{Lane: "report", Kind: "report-" + job.Kind, Created: clock.Now()})
		},
	}
	dt := newDispatchTest(t, Config{}, clock, r)
	dt.enqueue(store.Job{Lane: "C1", Kind: "post"}, store.Job{Lane: "C2", Kind: "decode"})
	eventually(t, "the reports", func() bool { return rec.count() == 4 })
	dt.drained()

	mu.Lock()
	slices.Sort(gaveUp)
	if want := []string{"decode: bad payload", "post: channel_not_found"}; !slices.Equal(gaveUp, want) {
		t.Errorf("GiveUp called for %q, want %q", gaveUp, want)
	}
	mu.Unlock()
	var kinds []string
	for _, c := range rec.all() {
		kinds = append(kinds, c.job.Kind)
	}
	slices.Sort(kinds)
	if want := []string{"decode", "post", "report-decode", "report-post"}; !slices.Equal(kinds, want) {
		t.Errorf("ran %v, want each failing job once and the reports GiveUp enqueued: %v", kinds, want)
	}
	lines := logLines(t, dt.logs)
	post := linesWith(lines, "do post failed for good: slack says the channel does not exist")
	if len(post) != 1 || post[0]["lane"] != "C1" || post[0]["job"] != "post" || post[0]["level"] != "error" {
		t.Errorf("give-up log lines for post %v:\n%s", post, dt.logs)
	}
	if n := len(linesWith(lines, "do decode failed for good; giving up on it")); n != 1 {
		t.Errorf("%d give-up log lines for decode, want 1:\n%s", n, dt.logs)
	}
	if n := len(linesContaining(lines, "retrying")); n != 0 {
		t.Errorf("%d retry log lines for final errors:\n%s", n, dt.logs)
	}
}

// A job with NotBefore waits for the clock to reach it; others go on.
func TestDispatchWaitsForNotBefore(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	r := runFunc(func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
		rec.add(job)
		return nil, nil
	})
	dt := newDispatchTest(t, Config{}, clock, r)
	due := t0.Add(5 * time.Minute)
	dt.enqueue(store.Job{Lane: "remind:1:1", Kind: "remind", NotBefore: due}, store.Job{Lane: "C1", Kind: "post"})
	eventually(t, "the post", func() bool { return len(rec.in("C1")) == 1 })
	clock.waitFor(t, due)
	eventually(t, "the post to finish", func() bool { return dt.d.due() == 0 })
	if n := dt.d.pending(); n != 1 {
		t.Errorf("%d jobs pending, want the reminder", n)
	}

	// Short of the time, and looked at again (it set its timer anew): still
	// waiting.
	clock.advance(4 * time.Minute)
	dt.d.kick()
	clock.waitForFrom(t, t0.Add(4*time.Minute), due)
	if got := rec.in("remind:1:1"); len(got) != 0 {
		t.Fatalf("the reminder ran at %v, before its time", got)
	}

	clock.advance(time.Minute)
	eventually(t, "the reminder", func() bool { return len(rec.in("remind:1:1")) == 1 })
	if got := rec.in("remind:1:1"); got[0] != 5*time.Minute {
		t.Errorf("the reminder ran at %s, want 5m", got[0])
	}
	dt.drained()
}

// A lane that waits (Retry-After, backoff, post spacing) gives its worker
// back: with one worker, a lane rate-limited for an hour does not hold up
// another lane's job.
func TestDispatchWaitingLaneHoldsNoWorker(t *testing.T) {
	clock := newFakeClock()
	rec := &calls{clock: clock}
	r := runFunc(func(_ context.Context, job store.Job) (func(*store.Tx) error, error) {
		if rec.add(job); job.Lane == "slow" {
			return nil, &slack.RateLimitedError{RetryAfter: time.Hour}
		}
		return nil, nil
	})
	dt := newDispatchTest(t, Config{Workers: 1, Backoff: time.Second}, clock, r)
	dt.enqueue(store.Job{Lane: "slow", Kind: "fetch"})
	clock.runUntil(t, func() bool { return len(rec.in("slow")) == 1 })
	dt.enqueue(store.Job{Lane: "fast", Kind: "post"})
	// The clock stands still: the other lane must run without the hour passing.
	eventually(t, "the other lane's job, while the first lane waits", func() bool { return len(rec.in("fast")) == 1 })
}
