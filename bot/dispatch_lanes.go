package bot

import (
	"sort"
	"time"

	"github.com/incidentbot/incidentbot/store"
)

// The dispatcher's lanes in memory: the outbox's jobs by lane, in Seq
// order, with each lane's state (running, waiting, its head job's retries).

type lane struct {
	name    string
	jobs    []store.Job // in Seq order
	running bool
	// waiting holds the head job back until a wait on the clock ends: a
	// retry's backoff or Retry-After, or the spacing of posts. A waiting
	// lane holds no worker, so rate-limited lanes never stall the others.
	waiting bool
	// attempt and lastErr are the head job's retries so far.
	attempt int
	lastErr string
	// spaced: the head job has waited out the spacing of posts (checked
	// once: under a simulated clock that stands still, "now" never passes
	// the spacing, but the wait did end).
	spaced bool
}

// dueAt is when the lane's head job may run.
func (l *lane) dueAt() time.Time {
	if len(l.jobs) == 0 {
		return time.Time{}
	}
	return l.jobs[0].NotBefore
}

// add takes jobs just committed (or loaded) into their lanes.
func (d *dispatcher) add(jobs []store.Job) {
	d.mu.Lock()
	for _, j := range jobs {
		l := d.lanes[j.Lane]
		if l == nil {
			l = &lane{name: j.Lane}
			d.lanes[j.Lane] = l
		}
		if n := len(l.jobs); n > 0 && l.jobs[n-1].Seq == j.Seq {
			continue // already known (loaded and also reported by commit)
		}
		l.jobs = append(l.jobs, j)
		if n := len(l.jobs); n > 1 && l.jobs[n-2].Seq > j.Seq {
			sort.Slice(l.jobs, func(a, b int) bool { return l.jobs[a].Seq < l.jobs[b].Seq })
		}
	}
	d.mu.Unlock()
	d.kick()
}

// reset forgets every lane, so that load reads the outbox afresh: a node
// that leads again must not run jobs another leader finished meanwhile.
func (d *dispatcher) reset() {
	d.mu.Lock()
	for name, l := range d.lanes {
		if !l.running {
			delete(d.lanes, name)
		}
	}
	d.mu.Unlock()
}

// pending counts the jobs in every lane.
func (d *dispatcher) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, l := range d.lanes {
		n += len(l.jobs)
	}
	return n
}

// due counts jobs that are due now or running: the work a caller waiting
// for the bot to settle cares about (timers set for later are not).
func (d *dispatcher) due() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	n := 0
	for _, l := range d.lanes {
		for _, j := range l.jobs {
			if l.running || !j.NotBefore.After(now) {
				n++
			}
		}
	}
	return n
}
