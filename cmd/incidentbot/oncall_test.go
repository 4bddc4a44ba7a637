package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// oncallFile is a rota in Europe/Berlin across the DST change of
// 2026-03-29 (handoffs Mondays 09:00 local) and one in a half-hour zone.
const oncallFile = `schedules:
  - name: platform-primary
    description: Platform primary on-call
    time_zone: Europe/Berlin
    rotations:
      - name: weekly
        start: 2026-01-05T09:00
        shift: 1w
        participants: [U01ANA0001, U02BOB0002, U03CAROL03]
  - name: india
    time_zone: Asia/Kolkata
    rotations:
      - name: daily
        start: 2026-01-05T09:00
        shift: 1d
        participants: [U04DAVE004, U05EVE0005]
`

const testICalToken = "0123456789abcdef0123456789abcdef"

// oncallEnv writes the file and a database holding one override: Bob
// covers Carol on 2026-03-27 from 08:00 to 20:00 UTC.
func oncallEnv(t *testing.T) map[string]string {
	t.Helper()
	env := offlineEnv(t)
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(oncallFile), 0o644); err != nil {
		t.Fatal(err)
	}
	env["INCIDENTBOT_ESCALATION_FILE"] = file
	db, err := store.Open(env["INCIDENTBOT_DB"], store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		return tx.AddOverride(&incident.Override{Schedule: "platform-primary", Who: "U02BOB0002",
			From: time.Date(2026, 3, 27, 8, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 27, 20, 0, 0, 0, time.UTC),
			Created: time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC), By: incident.User{ID: "U03CAROL03", Name: "carol"}})
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestOncallNow(t *testing.T) {
	env := oncallEnv(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"override in force", []string{"oncall", "--at", "2026-03-27T10:00:00Z"}, []string{
			"platform-primary — Platform primary on-call (Europe/Berlin)",
			"on call: U02BOB0002 until 2026-03-27 20:00 UTC (2026-03-27 21:00 CET)  [override 1]",
			"next:    U03CAROL03 from 2026-03-27 20:00 UTC (2026-03-27 21:00 CET)",
			"india (Asia/Kolkata)",
		}},
		{"across the DST change", []string{"oncall", "--at", "2026-03-29 10:00"}, []string{
			"on call: U03CAROL03 until 2026-03-30 07:00 UTC (2026-03-30 09:00 CEST)",
			"next:    U01ANA0001 from 2026-03-30 07:00 UTC (2026-03-30 09:00 CEST)",
			"until 2026-03-30 03:30 UTC (2026-03-30 09:00 IST)",
		}},
		{"a schedule's week, override marked", []string{"oncall", "--at", "2026-03-27T00:00:00Z", "platform-primary"}, []string{
			"platform-primary: shifts from 2026-03-27 00:00 UTC to 2026-04-03 00:00 UTC",
			"Mon 2026-03-23 08:00  Fri 2026-03-27 08:00  Mon 2026-03-23 09:00 CET   Fri 2026-03-27 09:00 CET   U03CAROL03  rotation weekly",
			"Fri 2026-03-27 08:00  Fri 2026-03-27 20:00  Fri 2026-03-27 09:00 CET   Fri 2026-03-27 21:00 CET   U02BOB0002  OVERRIDE 1 by carol",
			"Mon 2026-03-30 07:00  Mon 2026-04-06 07:00  Mon 2026-03-30 09:00 CEST  Mon 2026-04-06 09:00 CEST  U01ANA0001  rotation weekly",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := command(t, env, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestOncallErrors(t *testing.T) {
	env := oncallEnv(t)
	code, _, stderr := command(t, env, "oncall", "database")
	if code != 1 || !strings.Contains(stderr, `no schedule "database"`) || !strings.Contains(stderr, "platform-primary, india") {
		t.Errorf("unknown schedule: exit %d, %q", code, stderr)
	}
	if code, _, _ := command(t, env, "oncall", "--at", "someday"); code != 2 {
		t.Errorf("bad --at: exit %d, want 2", code)
	}
	if code, _, _ := command(t, env, "oncall", "--ical"); code != 2 {
		t.Errorf("--ical without a schedule: exit %d, want 2", code)
	}
	// No database yet: no overrides, and the rota still shows.
	env["INCIDENTBOT_DB"] = filepath.Join(t.TempDir(), "absent.db")
	code, out, stderr := command(t, env, "oncall", "--at", "2026-03-27T10:00:00Z")
	if code != 0 || !strings.Contains(out, "on call: U03CAROL03") || strings.Contains(out, "override") {
		t.Errorf("without a database: exit %d (%s):\n%s", code, stderr, out)
	}
	if _, err := os.Stat(env["INCIDENTBOT_DB"]); err == nil {
		t.Error("oncall created the database")
	}
	delete(env, "INCIDENTBOT_ESCALATION_FILE")
	if code, _, stderr := command(t, env, "oncall"); code != 1 || !strings.Contains(stderr, "no schedules") {
		t.Errorf("no file: exit %d, %q", code, stderr)
	}
}

// TestOncallICal: the calendar is CRLF, folded at 75 octets, reads back
// with golang-ical, and keeps its UIDs from one run to the next.
func TestOncallICal(t *testing.T) {
	env := oncallEnv(t)
	args := []string{"oncall", "--ical", "platform-primary", "--at", "2026-03-20T00:00:00Z", "--days", "14"}
	code, out, stderr := command(t, env, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkCalendarText(t, out)
	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range cal.Events() {
		start, err := ev.GetStartAt()
		if err != nil {
			t.Fatal(err)
		}
		end, _ := ev.GetEndAt()
		got = append(got, start.UTC().Format("01-02T15")+"/"+end.UTC().Format("01-02T15")+" "+ev.GetProperty(ics.ComponentPropertySummary).Value)
		if ev.GetProperty(ics.ComponentPropertyDtstamp) == nil {
			t.Errorf("event %s has no DTSTAMP", ev.Id())
		}
	}
	want := []string{
		"03-16T08/03-23T08 On call: U02BOB0002",
		"03-23T08/03-27T08 On call: U03CAROL03",
		"03-27T08/03-27T20 On call: U02BOB0002 (override)",
		"03-27T20/03-30T07 On call: U03CAROL03",
		"03-30T07/04-06T07 On call: U01ANA0001",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, again, _ := command(t, env, args...)
	if uids(t, again) != uids(t, out) {
		t.Errorf("UIDs changed between runs:\n%s\n%s", uids(t, out), uids(t, again))
	}
}

func checkCalendarText(t *testing.T, text string) {
	t.Helper()
	if !strings.HasPrefix(text, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(text, "END:VCALENDAR\r\n") {
		t.Fatalf("not a CRLF calendar:\n%q", text[:min(len(text), 200)])
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		if len(line) > 75 || strings.Contains(line, "\n") {
			t.Errorf("line of %d octets or with a bare LF: %q", len(line), line)
		}
	}
}

func uids(t *testing.T, text string) string {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range cal.Events() {
		out = append(out, ev.Id())
	}
	return strings.Join(out, " ")
}

// TestCalendarEndpoint: the feed with the right, a wrong and no token; a
// wrong token learns nothing about which schedules exist; no token
// configured turns the feed off; the token never reaches the log.
func TestCalendarEndpoint(t *testing.T) {
	env := oncallEnv(t)
	policies, err := incident.LoadPolicies(env["INCIDENTBOT_ESCALATION_FILE"], nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(env["INCIDENTBOT_DB"], store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	feeds := &onCallFeeds{token: testICalToken, policies: policies, db: db, log: zerolog.New(&logs),
		now: func() time.Time { return time.Date(2026, 3, 27, 10, 0, 0, 0, time.UTC) }}
	mux := http.NewServeMux()
	mux.Handle("GET /oncall/{file}", feeds)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	tests := []struct {
		name, path string
		code       int
	}{
		{"right token", "/oncall/platform-primary.ics?token=" + testICalToken, 200},
		{"any case", "/oncall/Platform-Primary.ics?token=" + testICalToken, 200},
		{"unknown schedule", "/oncall/database.ics?token=" + testICalToken, 404},
		{"not .ics", "/oncall/platform-primary?token=" + testICalToken, 404},
		{"no token", "/oncall/platform-primary.ics", 401},
		{"wrong token", "/oncall/platform-primary.ics?token=" + testICalToken[:31] + "X", 403},
		{"wrong token, unknown schedule", "/oncall/database.ics?token=nope", 403},
		{"token prefix", "/oncall/platform-primary.ics?token=" + testICalToken[:10], 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(tc.path)
			if rec.Code != tc.code {
				t.Fatalf("%s: %d %s, want %d", tc.path, rec.Code, rec.Body, tc.code)
			}
			body := rec.Body.String()
			if tc.code != 200 && (strings.Contains(body, "platform-primary") || strings.Contains(body, "india")) {
				t.Errorf("a refusal names a schedule: %q", body)
			}
			if tc.code == 200 {
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
					t.Errorf("Content-Type %q", ct)
				}
				checkCalendarText(t, body)
				if !strings.Contains(body, "SUMMARY:On call: U02BOB0002 (override)") {
					t.Errorf("the override is not in the feed:\n%s", body)
				}
			}
		})
	}
	if got := feeds.onCallNow(); len(got) != 2 || got[0].Person != "U02BOB0002" || got[1].Schedule != "india" {
		t.Errorf("onCallNow = %+v, want Bob (override) on platform-primary and someone on india", got)
	}
	feeds.token = ""
	if rec := get("/oncall/platform-primary.ics?token=" + testICalToken); rec.Code != 404 {
		t.Errorf("without INCIDENTBOT_ICAL_TOKEN: %d, want 404", rec.Code)
	}
	if strings.Contains(logs.String(), testICalToken[:10]) {
		t.Errorf("the token reached the log: %s", logs.String())
	}
}

// TestCalendarFeedServed: the running bot serves the feed on its health
// endpoint and /metrics says who is on call; the token never shows.
func TestCalendarFeedServed(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		file := filepath.Join(t.TempDir(), "escalation.yaml")
		rota := "schedules:\n  - name: ops\n    time_zone: UTC\n    rotations:\n      - name: daily\n        start: 2020-01-01T00:00\n        shift: 1d\n        participants: [" + h.alice + "]\n"
		if err := os.WriteFile(file, []byte(rota), 0o644); err != nil {
			t.Fatal(err)
		}
		h.cfg.EscalationFile, h.cfg.ICalToken = file, testICalToken
	})
	h.Secret(testICalToken)
	rec := h.get("/oncall/ops.ics?token="+testICalToken, "203.0.113.7:4000")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "SUMMARY:On call: "+h.alice) {
		t.Fatalf("feed: %d\n%s", rec.Code, rec.Body)
	}
	if rec := h.get("/oncall/ops.ics?token=wrong", "203.0.113.7:4000"); rec.Code != 403 {
		t.Errorf("wrong token: %d", rec.Code)
	}
	if v := h.metric(`incidentbot_oncall{person="` + h.alice + `",schedule="ops"}`); v != 1 {
		t.Errorf("incidentbot_oncall for alice = %v, want 1", v)
	}
}
