package incident

import (
	"strings"
	"testing"
	"time"
)

var escT0 = time.Date(2023, 8, 17, 23, 50, 0, 0, time.UTC) // crosses midnight

func twoLevels() []Level {
	return []Level{
		{Targets: []Target{"U0000AAAA"}, Timeout: 5 * time.Minute},
		{Targets: []Target{"U0000BBBB", "pagerduty:KEY"}, Timeout: 10 * time.Minute},
	}
}

func TestEscalationAdvance(t *testing.T) {
	tests := []struct {
		name      string
		repeat    int
		advances  int
		wantState EscalationState
		wantLevel int
		wantRound int
		wantDue   time.Duration // from escT0, 0: none
	}{
		{"first level", 0, 0, EscalationActive, 0, 0, 5 * time.Minute},
		{"second level", 0, 1, EscalationActive, 1, 0, 15 * time.Minute},
		{"no repeat: exhausted after the last level", 0, 2, EscalationExhausted, 1, 0, 0},
		{"repeat goes back to the first level", 1, 2, EscalationActive, 0, 1, 20 * time.Minute},
		{"repeat then second level", 1, 3, EscalationActive, 1, 1, 30 * time.Minute},
		{"repeat exhausted", 1, 4, EscalationExhausted, 1, 1, 0},
		{"advancing an exhausted escalation changes nothing", 0, 5, EscalationExhausted, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := &Incident{ID: 1}
			e, err := inc.StartEscalation("platform", twoLevels(), tt.repeat, User{ID: "U1"}, "", escT0)
			if err != nil {
				t.Fatal(err)
			}
			now := escT0
			for i := 0; i < tt.advances; i++ {
				now = e.Due
				if now.IsZero() {
					now = escT0.Add(time.Hour)
				}
				e.Advance(now)
			}
			if e.State != tt.wantState || e.Level != tt.wantLevel || e.Round != tt.wantRound {
				t.Errorf("state %s level %d round %d, want %s %d %d", e.State, e.Level, e.Round, tt.wantState, tt.wantLevel, tt.wantRound)
			}
			var want time.Time
			if tt.wantDue > 0 {
				want = escT0.Add(tt.wantDue)
			}
			if !e.Due.Equal(want) {
				t.Errorf("due %s, want %s", e.Due, want)
			}
		})
	}
}

func TestEscalationSkipsWhoDeclined(t *testing.T) {
	inc := &Incident{ID: 1}
	ana, bo := User{ID: "U0000AAAA"}, User{ID: "U0000BBBB"}
	e, _ := inc.StartEscalation("platform", twoLevels(), 1, User{ID: "U1"}, "", escT0)
	e.AddPage(Page{Target: Target(ana.ID), User: ana})
	if !e.Decline(ana) || !e.Declined(ana.ID) || e.Declined(bo.ID) || e.Declined("") {
		t.Fatal("the decline was not recorded for ana alone")
	}
	e.Advance(escT0)
	e.Advance(escT0) // the repeat round
	if e.AddPage(Page{Target: Target(ana.ID), User: ana}) != nil {
		t.Fatal("the repeat paged ana, who declined")
	}
	if e.AddPage(Page{Target: Target(bo.ID), User: bo, Group: "S1"}) == nil {
		t.Fatal("bo, who did not decline, was skipped")
	}
	if e.AddPage(Page{Target: "pagerduty:KEY"}) == nil {
		t.Fatal("a provider target was skipped")
	}
	again, _ := inc.StartEscalation("", twoLevels(), 0, User{ID: "U1"}, "", escT0)
	if again.AddPage(Page{Target: Target(ana.ID), User: ana}) == nil {
		t.Fatal("a new escalation did not page ana")
	}
}

func TestEscalationStartNeedsTargets(t *testing.T) {
	inc := &Incident{ID: 1}
	if _, err := inc.StartEscalation("", nil, 0, User{ID: "U1"}, "", escT0); err == nil {
		t.Fatal("an escalation without targets started")
	}
	if len(inc.Escalations) != 0 {
		t.Fatal("a failed start was recorded")
	}
}

func TestEscalationPagesOncePerStep(t *testing.T) {
	inc := &Incident{ID: 1}
	e, _ := inc.StartEscalation("platform", twoLevels(), 1, User{ID: "U1"}, "", escT0)
	if e.AddPage(Page{Target: "U0000AAAA", User: User{ID: "U0000AAAA"}}) == nil {
		t.Fatal("first page refused")
	}
	if e.AddPage(Page{Target: "U0000AAAA", User: User{ID: "U0000AAAA"}, Group: "S1"}) != nil {
		t.Fatal("the same person was paged twice in one step")
	}
	e.Advance(e.Due)
	e.Advance(e.Due) // repeat round: the same person again
	if e.AddPage(Page{Target: "U0000AAAA", User: User{ID: "U0000AAAA"}}) == nil {
		t.Fatal("a repeat did not page again")
	}
	if got := len(e.Tried()); got != 1 {
		t.Fatalf("Tried() = %d people, want 1", got)
	}
}

func TestEscalationAcknowledgeDeclineCancel(t *testing.T) {
	ana, bo := User{ID: "U0000AAAA", Name: "ana"}, User{ID: "U0000BBBB", Name: "bo"}
	tests := []struct {
		name string
		do   func(e *Escalation) bool
		want bool
		end  EscalationState
	}{
		{"acknowledge an active escalation", func(e *Escalation) bool { return e.Acknowledge(ana, escT0.Add(time.Minute)) }, true, EscalationAcknowledged},
		{"second acknowledgement changes nothing", func(e *Escalation) bool {
			e.Acknowledge(ana, escT0.Add(time.Minute))
			return e.Acknowledge(bo, escT0.Add(2*time.Minute))
		}, false, EscalationAcknowledged},
		{"late acknowledgement of an exhausted escalation counts", func(e *Escalation) bool {
			for e.Advance(escT0.Add(time.Hour)) {
			}
			return e.Acknowledge(ana, escT0.Add(2*time.Hour))
		}, true, EscalationAcknowledged},
		{"a cancelled escalation cannot be acknowledged", func(e *Escalation) bool {
			e.Cancel(escT0)
			return e.Acknowledge(ana, escT0.Add(time.Minute))
		}, false, EscalationCancelled},
		{"decline of the current step moves on", func(e *Escalation) bool { return e.Decline(ana) }, true, EscalationActive},
		{"decline of an earlier step does not", func(e *Escalation) bool {
			e.Advance(e.Due)
			return e.Decline(ana)
		}, false, EscalationActive},
		{"decline by someone not paged does nothing", func(e *Escalation) bool { return e.Decline(bo) }, false, EscalationActive},
		{"cancel twice", func(e *Escalation) bool { e.Cancel(escT0); return e.Cancel(escT0) }, false, EscalationCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := &Incident{ID: 1}
			e, _ := inc.StartEscalation("platform", twoLevels(), 0, User{ID: "U1"}, "", escT0)
			e.AddPage(Page{Target: "U0000AAAA", User: ana, At: escT0})
			if got := tt.do(e); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if e.State != tt.end {
				t.Errorf("state %s, want %s", e.State, tt.end)
			}
		})
	}
}

func TestPagingLinesInPostmortem(t *testing.T) {
	inc := &Incident{ID: 7, Title: "Domain expired", Severity: Sev1, Status: Resolved,
		DeclaredBy: User{ID: "U1", Name: "mara"}, Times: KeyTimes{Declared: escT0}}
	e, _ := inc.StartEscalation("platform", twoLevels(), 0, User{ID: "U1", Name: "mara"}, "DNS is gone", escT0)
	e.AddPage(Page{Target: "U0000AAAA", User: User{ID: "U0000AAAA", Name: "ana"}, At: escT0, State: PageSent})
	e.Advance(e.Due)
	e.AddPage(Page{Target: "pagerduty:ROUTINGKEYSECRET", At: e.Due.Add(-10 * time.Minute), State: PageFailed, Error: "pagerduty answered 400"})
	e.Acknowledge(User{ID: "U0000AAAA", Name: "ana"}, escT0.Add(7*time.Minute))
	lines := pagingLines(inc, func(u User) string { return u.Name }, func(s string) string { return s })
	got := strings.Join(lines, "\n")
	for _, want := range []string{"policy platform by mara: DNS is gone", "acknowledged by ana", "7m after paging",
		"level 1: ana — acknowledged", "level 2: pagerduty:ROU… — failed (pagerduty answered 400)", "2023-08-17"} {
		if !strings.Contains(got, want) {
			t.Errorf("paging section lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ROUTINGKEYSECRET") {
		t.Errorf("the routing key reached the postmortem:\n%s", got)
	}
}
