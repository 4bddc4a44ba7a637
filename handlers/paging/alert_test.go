package paging_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

func contains(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, text)
		}
	}
}

func job(t *testing.T, jobs []store.Job, kind, lane string) store.Job {
	t.Helper()
	for _, j := range jobs {
		if j.Kind == kind && j.Lane == lane {
			return j
		}
	}
	t.Fatalf("no %s job on lane %s in %v", kind, lane, jobs)
	return store.Job{}
}

// TestPageAlertPolicy pages a policy for an alert from its route (nobody
// pressed anything), escalates to a user group and the providers on the
// timer, and stops for everyone when one of the people paged acknowledges
// from their DM. Nothing is posted to a channel (the harness fails on a
// post): every change is written to the alert and announced through
// AlertChanged.
func TestPageAlertPolicy(t *testing.T) {
	x := newHarness(t)
	a := x.newAlert("Checkout 5xx above 2%")
	x.update(func(r *handlers.Request) error { return x.paging.PageAlert(r, a, "PLATFORM", "") })

	jobs := x.jobs()
	dm := job(t, jobs, "page_dm", bot.DMLane(bob))
	if got, want := string(dm.Payload), `{"incident":0,"alert":1,"escalation":1,"page":1}`; got != want {
		t.Errorf("page_dm payload %s, want %s", got, want)
	}
	timer := job(t, jobs, "page_escalate", bot.AlertEscalationLane(1, 1, 0))
	if got, want := string(timer.Payload), `{"incident":0,"alert":1,"escalation":1,"step":0}`; got != want {
		t.Errorf("page_escalate payload %s, want %s", got, want)
	}
	if d := timer.NotBefore.Sub(t0); d != 5*time.Minute {
		t.Errorf("timer due after %s, want 5m", d)
	}
	if len(jobs) != 2 {
		t.Errorf("jobs %v, want the page DM and the timer", jobs)
	}
	if n := x.hook.count(a.ID); n != 1 {
		t.Errorf("AlertChanged ran %d times, want 1", n)
	}
	e := x.alert(a.ID).Escalations[0]
	if e.Policy != "platform" || e.By.ID != "" || !e.Active() || len(e.Pages) != 1 {
		t.Fatalf("escalation %+v", e)
	}

	x.settle()
	contains(t, "bob's page DM", x.dm(bob),
		"You are being paged for ALERT-1 (SEV2)*: ", "Checkout 5xx above 2%",
		"Alert in <#"+x.alerts+"> (<https://fake.slack.com/archives/"+x.alerts+"/p1709632800000001|its message>)",
		"Paged by alert route platform · policy platform, level 1 of 2",
		"\na1:1:1\n", "\npage_ack\n", "\npage_decline\n")
	if pg := x.alert(a.ID).Escalations[0].Pages[0]; pg.State != incident.PageSent || pg.TS == "" || pg.User.Name != "bob" {
		t.Errorf("bob's page %+v, want sent", pg)
	}
	if len(x.paged) != 1 || x.paged[0] != "/"+bob {
		t.Errorf("OnPaged heard %v", x.paged)
	}

	// Nobody answered: level 2, a user group and two providers.
	x.advance(5 * time.Minute)
	contains(t, "carol's page DM", x.dm(carol), "through user group "+oncall, "policy platform, level 2 of 2", "\na1:1:")
	contains(t, "dave's page DM", x.dm(dave), "through user group "+oncall)
	reqs := strings.Join(x.prov.take(), "\n")
	contains(t, "the providers' requests", reqs, "incidentbot-"+x.fake.TeamID()+"-ALERT-1", `"trigger"`, "/hook")
	e = x.alert(a.ID).Escalations[0]
	var failed *incident.Page
	for i, pg := range e.Pages {
		if strings.HasPrefix(string(pg.Target), "webhook:") {
			failed = &e.Pages[i]
		}
	}
	if failed == nil || failed.State != incident.PageFailed || failed.Error == "" {
		t.Errorf("the webhook's page %+v, want failed with its error", failed)
	}

	// Dave acknowledges from his DM: the alert is his, paging stops.
	x.clock.mu.Lock()
	x.clock.t = x.clock.t.Add(time.Minute)
	x.clock.mu.Unlock()
	x.click(dave, "page_ack")
	got := x.alert(a.ID)
	if got.AckedBy.ID != dave {
		t.Errorf("alert acknowledged by %+v, want dave", got.AckedBy)
	}
	if e := got.Escalations[0]; e.State != incident.EscalationAcknowledged || e.AckedBy.ID != dave {
		t.Errorf("escalation %s by %s, want acknowledged by dave", e.State, e.AckedBy.ID)
	}
	for _, u := range []string{bob, carol, dave} {
		contains(t, u+"'s page DM", x.dm(u), "Acknowledged by <@"+dave+"> at")
	}
	reqs = strings.Join(x.prov.take(), "\n")
	contains(t, "the providers' requests", reqs, `"acknowledge"`, "incidentbot-"+x.fake.TeamID()+"-ALERT-1")
	if strings.Contains(reqs, "/hook") {
		t.Errorf("the webhook, whose page failed, was told of the acknowledgement: %s", reqs)
	}

	// The timer of level 2 finds the escalation over.
	x.advance(10 * time.Minute)
	if n := len(x.alert(a.ID).Escalations[0].Pages); n != len(got.Escalations[0].Pages) {
		t.Errorf("pages after the acknowledgement: %d, want %d", n, len(got.Escalations[0].Pages))
	}
}

// TestAlertDecline: a decline moves on at once, without a word in any
// channel, and a second PageAlert of the same policy pages nobody twice.
func TestAlertDecline(t *testing.T) {
	x := newHarness(t)
	a := x.newAlert("Queue backlog")
	x.update(func(r *handlers.Request) error { return x.paging.PageAlert(r, a, "platform", "") })
	x.settle()
	x.update(func(r *handlers.Request) error {
		a, err := r.Tx.Alert(a.ID)
		if err != nil {
			return err
		}
		return x.paging.PageAlert(r, a, "platform", "again")
	})
	if n := len(x.alert(a.ID).Escalations); n != 1 {
		t.Fatalf("%d escalations, want one: the policy is already paging", n)
	}
	x.click(bob, "page_decline")
	contains(t, "bob's page DM", x.dm(bob), "You declined this page")
	e := x.alert(a.ID).Escalations[0]
	if e.Level != 1 || !e.Active() {
		t.Errorf("escalation at level %d (%s), want level 2 at once", e.Level+1, e.State)
	}
	contains(t, "carol's page DM", x.dm(carol), "level 2 of 2")
}

// TestStopAlertSchedule pages a schedule for an alert, by a person, and
// stops when the alert is resolved.
func TestStopAlertSchedule(t *testing.T) {
	x := newHarness(t)
	a := x.newAlert("Disk full on db-1")
	x.as(bob, func(r *handlers.Request) error { return x.paging.PageAlert(r, a, "Schedule:PRIMARY", "db-1 at 98%") })
	x.settle()
	contains(t, "alice's page DM", x.dm(alice), "ALERT-1", "Paged by <@"+bob+"> · direct page, level 1 of 1",
		"you are on call for schedule primary", "db-1 at 98%")
	if e := x.alert(a.ID).Escalations[0]; e.Levels[0].Targets[0] != "schedule:primary" || e.Repeat != 1 ||
		e.Levels[0].Timeout != incident.DirectPageTimeout {
		t.Errorf("escalation %+v, want one level of schedule:primary, asked twice", e)
	}
	if len(x.paged) != 1 || x.paged[0] != "primary/"+alice {
		t.Errorf("OnPaged heard %v", x.paged)
	}

	before := x.hook.count(a.ID)
	x.update(func(r *handlers.Request) error {
		a, err := r.Tx.Alert(a.ID)
		if err != nil {
			return err
		}
		a.Resolve(incident.User{}, r.Now)
		return x.paging.StopAlert(r, a)
	})
	if x.hook.count(a.ID) != before+1 {
		t.Errorf("StopAlert did not announce the change")
	}
	x.settle()
	if e := x.alert(a.ID).Escalations[0]; e.State != incident.EscalationCancelled {
		t.Errorf("escalation %s, want cancelled", e.State)
	}
	contains(t, "alice's page DM", x.dm(alice), "Paging stopped at 2024-03-05 10:00 UTC: ALERT-1 is resolved.")
	n := len(x.fake.Messages(x.fake.DM(alice)))
	x.advance(5 * time.Minute)
	if m := len(x.fake.Messages(x.fake.DM(alice))); m != n {
		t.Errorf("alice was paged again after the alert was resolved")
	}

	if n := len(x.jobs()); n != 0 {
		t.Errorf("%d jobs left after the alert was resolved", n)
	}
}

// TestAckAlert acknowledges from the alert's message: every escalation
// still waiting is acknowledged, its DMs redrawn, its providers told.
func TestAckAlert(t *testing.T) {
	x := newHarness(t)
	a := x.newAlert("Latency")
	x.update(func(r *handlers.Request) error { return x.paging.PageAlert(r, a, "platform", "") })
	x.as(carol, func(r *handlers.Request) error { return x.paging.PageAlert(r, a, "schedule:primary", "") })
	x.settle()
	x.as(carol, func(r *handlers.Request) error {
		a, err := r.Tx.Alert(a.ID)
		if err != nil {
			return err
		}
		return x.paging.AckAlert(r, a)
	})
	x.settle()
	got := x.alert(a.ID)
	if got.AckedBy.ID != carol || !got.AckedAt.Equal(t0) {
		t.Errorf("alert acked by %+v at %s", got.AckedBy, got.AckedAt)
	}
	for _, e := range got.Escalations {
		if e.State != incident.EscalationAcknowledged || e.AckedBy.ID != carol {
			t.Errorf("escalation %d %s by %s, want acknowledged by carol", e.ID, e.State, e.AckedBy.ID)
		}
	}
	contains(t, "bob's page DM", x.dm(bob), "Acknowledged by <@"+carol+">")
	contains(t, "alice's page DM", x.dm(alice), "Acknowledged by <@"+carol+">")

	err := x.h.Update(func(r *handlers.Request) error { return x.paging.AckAlert(r, got) })
	if !errors.Is(err, incident.ErrInvalidInput) {
		t.Errorf("AckAlert without a user: %v, want ErrInvalidInput", err)
	}
}

// TestAlertPagesNobody: what the incident flow says in the channel (a
// schedule with nobody on call, an empty user group) is kept on the alert
// as a failed page, with the reason.
func TestAlertPagesNobody(t *testing.T) {
	for _, tc := range []struct {
		target, error string
		state         incident.EscalationState
	}{
		// Nobody to page at any step: it runs out at once.
		{"schedule:later", "Nobody is on call in schedule later right now", incident.EscalationExhausted},
		{"hollow", "User group " + empty + " has no members", incident.EscalationActive},
	} {
		t.Run(tc.target, func(t *testing.T) {
			x := newHarness(t)
			a := x.newAlert("Nobody home")
			x.update(func(r *handlers.Request) error { return x.paging.PageAlert(r, a, tc.target, "") })
			x.settle()
			e := x.alert(a.ID).Escalations[0]
			if e.State != tc.state {
				t.Errorf("escalation %s, want %s", e.State, tc.state)
			}
			pages := e.Pages
			if len(pages) == 0 {
				t.Fatal("no failed page kept")
			}
			if pg := pages[0]; pg.State != incident.PageFailed || !strings.HasPrefix(pg.Error, tc.error) {
				t.Errorf("page %+v, want failed: %s", pg, tc.error)
			}
		})
	}
}

// TestPageAlertRefuses: what PageAlert does not page.
func TestPageAlertRefuses(t *testing.T) {
	x := newHarness(t)
	a := x.newAlert("Refused")
	resolved := x.newAlert("Over")
	resolved.Resolve(incident.User{}, t0)
	for _, tc := range []struct {
		name, target string
		alert        *incident.AlertRecord
		want         error
	}{
		{"unknown policy", "payments", a, incident.ErrInvalidInput},
		{"unknown schedule", "schedule:nope", a, incident.ErrInvalidInput},
		{"schedule without a name", "schedule:", a, incident.ErrInvalidInput},
		{"nothing", "", a, incident.ErrInvalidInput},
		{"resolved alert", "platform", resolved, incident.ErrResolved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := x.h.Update(func(r *handlers.Request) error { return x.paging.PageAlert(r, tc.alert, tc.target, "") })
			if !errors.Is(err, tc.want) {
				t.Errorf("PageAlert(%q) = %v, want %v", tc.target, err, tc.want)
			}
			var in *incident.InputError
			if tc.want == incident.ErrInvalidInput && (!errors.As(err, &in) || in.Hint == "") {
				t.Errorf("PageAlert(%q) = %v, want an InputError with a hint", tc.target, err)
			}
		})
	}
	if jobs := x.jobs(); len(jobs) != 0 {
		t.Errorf("refused pages enqueued %v", jobs)
	}
}
