package incident_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// stellateDomainExpiry replays Stellate's public report "Major Service
// Outage" (26 September 2022, ../shared/reference/stellate-domain-expiry-outage.txt)
// through the domain API: its times, its status posts and its follow-ups.
func stellateDomainExpiry(t *testing.T) incident.PostmortemInput {
	t.Helper()
	at := func(hh, mm int) time.Time { return time.Date(2022, 9, 26, hh, mm, 0, 0, time.UTC) }
	oncall := incident.User{ID: "U0ONCALL1", Name: "oncall-eng"}
	comms := incident.User{ID: "U0COMMS01", Name: "cs-lead"}
	founder := incident.User{ID: "U0FOUNDR1", Name: "founder"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	inc := incident.New(12, incident.Declaration{Title: "Major service outage: every request fails with SSL handshake errors",
		Severity: incident.Sev2, By: oncall, At: at(3, 45)})
	must(inc.Times.Set(incident.KeyStarted, at(3, 30), at(3, 46)))
	must(inc.Times.Set(incident.KeyDetected, at(3, 39), at(3, 46)))
	inc.Times.Acknowledged = at(3, 41)
	_, err := inc.SetSeverity(incident.Sev1, oncall, at(3, 50))
	must(err)
	inc.Assign(incident.RoleComms, comms)
	inc.AddServices("Dashboard", "User API", "Admin API")

	post := func(s incident.Status, hh, mm int, text string) {
		t.Helper()
		d := inc.AddDraft(s, text, comms, at(hh, mm))
		ok, err := inc.PostDraft(d.ID, comms, at(hh, mm), []string{"C0STATUS1"})
		must(err)
		if !ok {
			t.Fatalf("update at %02d:%02d was not posted", hh, mm)
		}
	}
	post(incident.Investigating, 4, 28, "We are currently investigating an issue with our edge caching service.")
	post(incident.Investigating, 4, 46, "We are continuing to investigate this issue, which is causing all Stellate services to be unavailable at this time.")
	post(incident.Identified, 5, 16, "All services using the new or custom domains are back up and running again. Services still using the older domains are still affected.")
	post(incident.Monitoring, 5, 55, "We have deployed a fix for the older domains and are waiting for the required DNS changes to propagate. All services should be working again shortly.")
	post(incident.Resolved, 6, 34, "This incident has been resolved and all services are working as expected again.")
	inc.ResolutionNote = "Deployed a fix at 05:15 that removed the internal dependency on the expired domain, then recovered access to the registrar and renewed the domain at 05:50."

	for _, f := range []struct {
		text  string
		owner incident.User
	}{
		{"short-term: Validate that no other domains are expiring soon.", oncall},
		{"short-term: Audit and ensure all on-call engineers have access to all critical services.", oncall},
		{"short-term: Use a central email for authentication with any domain registrars.", founder},
		{"short-term: Ensure there is an escalation policy to the founders and that the founders are permanently on-call.", founder},
		{"future: Set up monitoring & alerts for expiring certificates & domains and audit our monitoring for holes.", oncall},
		{"future: Create a Customer Success on-call rotation.", comms},
		{"future: Set up monitoring and alerts for failed subscription payments.", incident.User{}},
	} {
		h, text := incident.ParseHorizon(f.text)
		inc.AddFollowUp(incident.FollowUp{Text: text, Owner: f.owner, Horizon: h, By: oncall, At: at(7, 0)})
	}

	timeline := []incident.Entry{
		{Seq: 1, At: at(3, 39), Kind: incident.KindMessage, Author: oncall, Text: "First alert: elevated errors in the CDN. Paged on-call, investigating."},
		{Seq: 2, At: at(3, 45), Kind: incident.KindEvent, Event: "declared", Author: oncall, Text: "Incident declared (SEV2)"},
		{Seq: 3, At: at(4, 1), Kind: incident.KindMessage, Author: oncall, Text: "Runbook: error message about a \u201cmoved domain\u201d: SSL handshakes fail because the domain expired."},
		{Seq: 4, At: at(4, 12), Kind: incident.KindNote, Author: oncall, Text: "Cannot reach the person who can renew the domain; moving the CDN workers to a different domain."},
		{Seq: 5, At: at(5, 15), Kind: incident.KindMessage, Author: oncall, Text: "Deployed the fix moving CDN workers to a different domain; custom domains restored."},
		{Seq: 6, At: at(5, 50), Kind: incident.KindMessage, Author: founder, Text: "Restored access to the registrar and renewed the domain."},
		{Seq: 7, At: at(6, 34), Kind: incident.KindEvent, Event: "resolved", Author: comms, Text: "Resolved"},
	}
	return incident.PostmortemInput{Incident: inc, Timeline: timeline,
		Paging: []string{"2022-09-26 03:39 UTC: on-call paged by the CDN error-rate alert; acknowledged 03:41 UTC by oncall-eng"},
		Now:    at(7, 0)}
}

// TestReferenceIncidentGolden pins the draft of a replayed reference report
// (regenerate with go test ./incident -run Golden -update).
func TestReferenceIncidentGolden(t *testing.T) {
	got := render(t, incident.MustLoadDefaults(), stellateDomainExpiry(t))
	golden := filepath.Join("testdata", "postmortem-stellate-domain-expiry.golden")
	if *update {
		write(t, golden, got)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./incident -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("postmortem differs from %s (run with -update if the change is intended):\n%s", golden, lineDiff(string(want), got))
	}
}

func TestPostDraftPostsOnce(t *testing.T) {
	now := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)
	inc := incident.New(1, incident.Declaration{Title: "x", Severity: incident.Sev2, By: ana, At: now})
	d := inc.AddDraft(incident.Identified, "found it", ana, now)
	if ok, err := inc.PostDraft(d.ID, ana, now, nil); !ok || err != nil {
		t.Fatalf("first post: %v %v", ok, err)
	}
	if ok, err := inc.PostDraft(d.ID, ana, now, nil); ok || err != nil {
		t.Errorf("second post of the same draft: posted=%v err=%v, want false, nil", ok, err)
	}
	if inc.Status != incident.Identified || len(inc.Updates) != 1 {
		t.Errorf("status %s, %d updates", inc.Status, len(inc.Updates))
	}
	c := inc.AddDraft(incident.Monitoring, "watching", ana, now)
	if ok, _ := inc.CancelDraft(c.ID); !ok {
		t.Error("cancel of a pending draft failed")
	}
	if ok, _ := inc.PostDraft(c.ID, ana, now, nil); ok {
		t.Error("a cancelled draft was posted")
	}
}

func TestParseHorizon(t *testing.T) {
	tests := []struct {
		in   string
		h    incident.Horizon
		text string
	}{
		{"short-term: add an alert", incident.ShortTerm, "add an alert"},
		{"Short term - add an alert", incident.ShortTerm, "add an alert"},
		{"[mid-term] move DNS", incident.MidTerm, "move DNS"},
		{"future: rotation", incident.Future, "rotation"},
		{"long-term: rotation", incident.Future, "rotation"},
		{"write the runbook", incident.Unsorted, "write the runbook"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			h, text := incident.ParseHorizon(tc.in)
			if h != tc.h || text != tc.text {
				t.Errorf("ParseHorizon(%q) = %q, %q; want %q, %q", tc.in, h, text, tc.h, tc.text)
			}
		})
	}
}
