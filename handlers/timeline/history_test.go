package timeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/slack-go/slack"
)

// fakeHistory is one channel's top-level messages, oldest first, served a
// page at a time, newest first, as conversations.history does.
type fakeHistory struct {
	msgs  []slack.Message
	calls atomic.Int32
	fail  atomic.Pointer[error] // every call fails with it while set
	// gate, if set, holds every call until it is closed.
	gate chan struct{}
}

func newFakeHistory(n int) *fakeHistory {
	f := &fakeHistory{}
	for i := range n {
		m := slack.Message{}
		m.Timestamp = ts(i)
		m.Text = "message " + strconv.Itoa(i)
		f.msgs = append(f.msgs, m)
	}
	return f
}

// ts is the timestamp of message i: "999999900.000100" and on, with one
// more digit in the seconds from i = 100 on, so they do not sort as text.
func ts(i int) string {
	return fmt.Sprintf("%d.%06d", 999_999_900+i, 100)
}

func (f *fakeHistory) page(ctx context.Context, channel, oldest, latest, cursor string, limit int) ([]slack.Message, string, error) {
	f.calls.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	if err := f.fail.Load(); err != nil {
		return nil, "", *err
	}
	var in []slack.Message
	for _, m := range slices.Backward(f.msgs) {
		if !tsLess(m.Timestamp, oldest) && !tsLess(latest, m.Timestamp) {
			in = append(in, m)
		}
	}
	from := 0
	if cursor != "" {
		from, _ = strconv.Atoi(cursor)
	}
	to := min(from+limit, len(in))
	next := ""
	if to < len(in) {
		next = strconv.Itoa(to)
	}
	return in[from:to], next, nil
}

// findAll calls find for every ts at once, from a goroutine each.
func findAll(h *history, f *fakeHistory, tss []string) (msgs []*slack.Message, oks []bool, errs []error) {
	msgs, oks, errs = make([]*slack.Message, len(tss)), make([]bool, len(tss)), make([]error, len(tss))
	var wg sync.WaitGroup
	for i, t := range tss {
		wg.Go(func() { msgs[i], oks[i], errs[i] = h.find(context.Background(), "C1", t, f.page) })
	}
	wg.Wait()
	return msgs, oks, errs
}

func TestTSLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"1700000000.000100", "1700000000.000200", true},
		{"1700000000.000200", "1700000000.000100", false},
		{"999999999.900000", "1000000000.000100", true},
		{"1700000001.000000", "1700000000.999999", false},
		{"1700000000.000100", "1700000000.000100", false},
	} {
		if got := tsLess(c.a, c.b); got != c.less {
			t.Errorf("tsLess(%s, %s) = %v, want %v", c.a, c.b, got, c.less)
		}
	}
}

// Pins waiting in a channel are read with one read over their range (two
// pages for 300), whichever job comes first; the others take their
// message from it.
func TestHistoryOneReadForManyPins(t *testing.T) {
	f := newFakeHistory(400)
	var h history
	var want []string
	for i := 50; i < 350; i++ {
		h.want("C1", ts(i))
		want = append(want, ts(i))
	}
	msgs, oks, errs := findAll(&h, f, want)
	for i := range want {
		if errs[i] != nil || !oks[i] || msgs[i] == nil || msgs[i].Text != "message "+strconv.Itoa(i+50) {
			t.Fatalf("pin %s: %v, %v, %+v", want[i], errs[i], oks[i], msgs[i])
		}
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d history calls for 300 pins in a range of 300 messages, want 2 (pages of %d)", n, historyPage)
	}
	if len(h.got) != 0 || h.size != 0 || len(h.wanted) != 0 || len(h.reading) != 0 {
		t.Errorf("left behind: %d read, %d wanted, %d reading", len(h.got), h.size, len(h.reading))
	}
}

// A pin that became wanted while a read was under way, outside it, gets a
// read of its own after it; one the read did not find (a reply in a
// thread) is left to the caller.
func TestHistoryLaterPinAndMissingPin(t *testing.T) {
	f := newFakeHistory(10)
	f.gate = make(chan struct{})
	var h history
	h.want("C1", ts(2))
	first := make(chan bool)
	go func() {
		_, ok, _ := h.find(context.Background(), "C1", ts(2), f.page)
		first <- ok
	}()
	for f.calls.Load() == 0 {
		runtime.Gosched() // until the read of ts(2) has begun
	}
	later := make(chan bool)
	go func() {
		_, ok, _ := h.find(context.Background(), "C1", ts(7), f.page)
		later <- ok
	}()
	close(f.gate)
	if !<-first || !<-later {
		t.Fatal("a pin was not found")
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2 (the later pin was not covered by the first read)", n)
	}
	msg, ok, err := h.find(context.Background(), "C1", "1.000001", f.page)
	if msg != nil || ok || err != nil {
		t.Errorf("a ts not in history: %v, %v, %v; want not found, no error", msg, ok, err)
	}
}

// A read that fails fails every pin it covered, with its error; they are
// wanted again, and the retry of any one reads them all once more. (A
// find that comes after a failed read reads again: it is its job's next
// attempt, which the dispatcher spaces.)
func TestHistoryFailedReadIsRetriedForAll(t *testing.T) {
	f := newFakeHistory(100)
	var h history
	var want []string
	for i := range 100 {
		h.want("C1", ts(i))
		want = append(want, ts(i))
	}
	limited := errors.New("ratelimited")
	f.fail.Store(&limited)
	_, _, errs := findAll(&h, f, want)
	for i, err := range errs {
		if !errors.Is(err, limited) {
			t.Fatalf("pin %d: %v, want the read's error", i, err)
		}
	}
	failed := f.calls.Load()
	f.fail.Store(nil)
	msgs, oks, errs := findAll(&h, f, want)
	for i := range want {
		if errs[i] != nil || !oks[i] || msgs[i].Timestamp != want[i] {
			t.Fatalf("pin %d after the retry: %v, %v", i, errs[i], oks[i])
		}
	}
	if n := f.calls.Load() - failed; n != 1 {
		t.Errorf("%d calls after the failure, want 1: one read for all", n)
	}
}

// A few pins far apart in a busy channel cost no more calls than reading
// each alone: the read stops paging when the rest alone is cheaper.
func TestHistorySparsePinsCostNoMoreThanAlone(t *testing.T) {
	f := newFakeHistory(5000)
	var h history
	want := []string{ts(10), ts(1500), ts(3000), ts(4990)}
	for _, t := range want {
		h.want("C1", t)
	}
	_, oks, errs := findAll(&h, f, want)
	alone := 0
	for i := range want {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !oks[i] {
			alone++
		}
	}
	if n := int(f.calls.Load()) + alone; n > len(want) {
		t.Errorf("%d calls (%d in the read, %d alone) for %d pins, want at most one each", n, f.calls.Load(), alone, len(want))
	}
	if !oks[3] {
		t.Error("the newest pin, on the first page, was not found")
	}
}
