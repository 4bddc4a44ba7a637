package incident_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// whenNow is the injected current time: 2023-08-17 10:43:27 UTC.
var whenNow = time.Date(2023, 8, 17, 10, 43, 27, 0, time.UTC)

// utc returns 2023-08-<day> hh:mm:ss UTC.
func utc(day, hh, mm, ss int) time.Time { return time.Date(2023, 8, day, hh, mm, ss, 0, time.UTC) }

// formHint is the hint given with every time that could not be read.
const formHint = "Use 24-hour UTC like 10:28, 2023-08-17 10:28 or 15m ago."

func TestParseWhen(t *testing.T) {
	tests := []struct {
		name string
		text string
		now  time.Time // whenNow when zero
		want time.Time
	}{
		// Times of day.
		{"hh:mm", "10:28", time.Time{}, utc(17, 10, 28, 0)},
		{"h:mm", "9:05", time.Time{}, utc(17, 9, 5, 0)},
		{"hh:mm:ss", "10:28:30", time.Time{}, utc(17, 10, 28, 30)},
		{"leading zero hour", "09:05", time.Time{}, utc(17, 9, 5, 0)},
		{"midnight", "0:00", time.Time{}, utc(17, 0, 0, 0)},
		{"surrounding spaces", "  \t10:28 \n", time.Time{}, utc(17, 10, 28, 0)},
		{"now exactly", "10:43:27", time.Time{}, utc(17, 10, 43, 27)},
		{"later today is yesterday", "11:00", time.Time{}, utc(16, 11, 0, 0)},
		{"last minute of the day", "23:59", time.Time{}, utc(16, 23, 59, 0)},
		{"midnight crossing", "23:50", utc(18, 0, 10, 0), utc(17, 23, 50, 0)},
		{"just after midnight", "00:05", utc(18, 0, 10, 0), utc(18, 0, 5, 0)},
		// A clock read a little ahead still means today.
		{"ahead within tolerance", "10:45", time.Time{}, utc(17, 10, 45, 0)},
		{"ahead by exactly the tolerance", "10:48:27", time.Time{}, utc(17, 10, 48, 27)},
		{"ahead by more than the tolerance", "10:48:28", time.Time{}, utc(16, 10, 48, 28)},
		{"ahead within tolerance across midnight", "00:02", utc(17, 23, 59, 0), utc(18, 0, 2, 0)},

		// Zones.
		{"UTC", "10:28 UTC", time.Time{}, utc(17, 10, 28, 0)},
		{"utc lower case", "10:28 utc", time.Time{}, utc(17, 10, 28, 0)},
		{"UTC without space", "10:28UTC", time.Time{}, utc(17, 10, 28, 0)},
		{"Z", "10:28Z", time.Time{}, utc(17, 10, 28, 0)},
		{"z with space", "10:28 z", time.Time{}, utc(17, 10, 28, 0)},
		{"GMT", "10:28 GMT", time.Time{}, utc(17, 10, 28, 0)},
		{"+hh:mm", "12:28 +02:00", time.Time{}, utc(17, 10, 28, 0)},
		{"+hhmm", "12:28 +0200", time.Time{}, utc(17, 10, 28, 0)},
		{"offset without space", "12:28+02:00", time.Time{}, utc(17, 10, 28, 0)},
		{"-hh:mm", "05:28 -05:00", time.Time{}, utc(17, 10, 28, 0)},
		{"-hhmm", "5:28 -0500", time.Time{}, utc(17, 10, 28, 0)},
		{"half-hour offset", "15:58 +05:30", time.Time{}, utc(17, 10, 28, 0)},
		{"+00:00", "10:28 +00:00", time.Time{}, utc(17, 10, 28, 0)},
		{"-00:00", "10:28 -0000", time.Time{}, utc(17, 10, 28, 0)},
		{"with seconds and offset", "12:28:30 +02:00", time.Time{}, utc(17, 10, 28, 30)},
		// In +14:00 it is already 2023-08-18 00:43; 01:00 there is still ahead,
		// so it is the day before: 2023-08-17 01:00 +14:00.
		{"offset's own calendar", "01:00 +14:00", time.Time{}, utc(16, 11, 0, 0)},
		// In -05:00 it is 05:43; 23:00 -05:00 is the evening before.
		{"offset before UTC midnight", "23:00 -05:00", time.Time{}, utc(17, 4, 0, 0)},
		// In +02:00 it is 2023-08-18 01:30: 01:15 there is 23:15 UTC today.
		{"offset past UTC midnight", "01:15 +02:00", utc(17, 23, 30, 0), utc(17, 23, 15, 0)},

		// Yesterday.
		{"yesterday", "yesterday 10:28", time.Time{}, utc(16, 10, 28, 0)},
		{"yesterday upper case", "YESTERDAY 23:59:59 UTC", time.Time{}, utc(16, 23, 59, 59)},
		{"yesterday with offset", "yesterday 01:00 +02:00", time.Time{}, utc(15, 23, 0, 0)},
		{"yesterday just after midnight", "yesterday 23:50", utc(18, 0, 10, 0), utc(17, 23, 50, 0)},
		{"yesterday extra spaces", "yesterday   10:28", time.Time{}, utc(16, 10, 28, 0)},

		// Dates.
		{"date and time", "2023-08-17 10:28", time.Time{}, utc(17, 10, 28, 0)},
		{"date T time", "2023-08-17T10:28", time.Time{}, utc(17, 10, 28, 0)},
		{"date t time lower case", "2023-08-17t10:28:05", time.Time{}, utc(17, 10, 28, 5)},
		{"date one-digit hour", "2023-08-17 9:05", time.Time{}, utc(17, 9, 5, 0)},
		{"date and seconds", "2023-08-17 10:28:05", time.Time{}, utc(17, 10, 28, 5)},
		{"date UTC", "2023-08-17 10:28 UTC", time.Time{}, utc(17, 10, 28, 0)},
		{"date offset", "2023-08-17 12:28 +0200", time.Time{}, utc(17, 10, 28, 0)},
		{"date offset across midnight", "2023-08-16 23:30 -05:00", time.Time{}, utc(17, 4, 30, 0)},
		{"RFC 3339 Z", "2023-08-17T10:28:00Z", time.Time{}, utc(17, 10, 28, 0)},
		{"RFC 3339 offset", "2023-08-17T12:28:00+02:00", time.Time{}, utc(17, 10, 28, 0)},
		{"RFC 3339 fraction", "2023-08-17T10:28:00.25Z", time.Time{}, utc(17, 10, 28, 0).Add(250 * time.Millisecond)},
		{"earlier day", "2023-08-10 10:28", time.Time{}, utc(10, 10, 28, 0)},
		{"future within tolerance", "2023-08-17 10:48:27", time.Time{}, utc(17, 10, 48, 27)},
		{"30 days ago exactly", "2023-07-18 10:43:27", time.Time{}, time.Date(2023, 7, 18, 10, 43, 27, 0, time.UTC)},
		{"leap day", "2024-02-29 12:00", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},

		// How long ago.
		{"-15m", "-15m", time.Time{}, utc(17, 10, 28, 27)},
		{"15m ago", "15m ago", time.Time{}, utc(17, 10, 28, 27)},
		{"2h ago", "2h ago", time.Time{}, utc(17, 8, 43, 27)},
		{"1h30m ago", "1h30m ago", time.Time{}, utc(17, 9, 13, 27)},
		{"1h 30m ago", "1h 30m ago", time.Time{}, utc(17, 9, 13, 27)},
		{"seconds", "90s ago", time.Time{}, utc(17, 10, 41, 57)},
		{"fraction", "1.5h ago", time.Time{}, utc(17, 9, 13, 27)},
		{"upper case", "15M AGO", time.Time{}, utc(17, 10, 28, 27)},
		{"across midnight", "30m ago", utc(18, 0, 10, 0), utc(17, 23, 40, 0)},
		{"7 days exactly", "168h ago", time.Time{}, utc(10, 10, 43, 27)},

		// now in another zone: the result is still UTC.
		{"now not in UTC", "10:28", utc(17, 10, 43, 27).In(time.FixedZone("CEST", 2*3600)), utc(17, 10, 28, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = whenNow
			}
			got, err := incident.ParseWhen(tt.text, now)
			if err != nil {
				t.Fatalf("ParseWhen(%q) error: %v", tt.text, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseWhen(%q) = %s, want %s", tt.text, got, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("ParseWhen(%q) location = %v, want UTC", tt.text, got.Location())
			}
		})
	}
}

func TestParseWhenRefused(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		problem string // part of the problem
		hint    string // part of the hint
	}{
		{"empty", "", "No time was given", formHint},
		{"blank", "  \t ", "No time was given", formHint},
		{"words", "soon", `"soon" is not a time.`, formHint},
		{"dot", "10.28", `"10.28" is not a time.`, formHint},
		{"no colon", "1028", "is not a time", formHint},
		{"one-digit minute", "10:5", "is not a time", formHint},
		{"three-digit hour", "100:00", "is not a time", formHint},
		{"am/pm", "10:28 pm", "is not a time", formHint},
		{"unknown zone", "10:28 PST", "is not a time", formHint},
		{"two zones", "10:28 +02:00 UTC", "is not a time", formHint},
		{"yesterday alone", "yesterday", "is not a time", formHint},
		{"yesterday with a date", "yesterday 2023-08-16 10:00", "is not a time", formHint},
		{"date alone", "2023-08-17", "is not a time", formHint},
		{"bare duration", "15m", `"15m" is not a time.`, formHint},
		{"days are not a unit", "2d ago", "is not a time", formHint},
		{"milliseconds are not a unit", "15ms ago", "is not a time", formHint},
		{"plus duration", "+15m", "is not a time", formHint},
		{"minus and ago", "-15m ago", "is not a time", formHint},
		{"hour 24", "24:00", "There is no hour 24", formHint},
		{"hour 99", "2023-08-17 99:00", "There is no hour 99", formHint},
		{"minute 60", "10:60", "There is no minute 60", formHint},
		{"second 60", "10:28:60", "There is no second 60", formHint},
		{"yesterday hour 25", "yesterday 25:00", "There is no hour 25", formHint},
		{"no such day", "2023-02-30 10:00", "There is no date 2023-02-30", formHint},
		{"no such month", "2023-13-01 10:00", "There is no date 2023-13-01", formHint},
		{"day zero", "2023-08-00 10:00", "There is no date 2023-08-00", formHint},
		{"offset hour", "12:00 +15:00", "+15:00 is not a UTC offset", "Use an offset like +02:00"},
		{"offset minute", "12:00 -0075", "-0075 is not a UTC offset", "Use an offset like +02:00"},
		{"future date", "2023-08-18 10:00", "2023-08-18 10:00 UTC is in the future",
			"Times are UTC unless you add a zone like +02:00, and it is now 2023-08-17 10:43 UTC."},
		{"local time taken for UTC", "2023-08-17 12:28", "2023-08-17 12:28 UTC is in the future", "it is now 2023-08-17 10:43 UTC"},
		{"just past the tolerance", "2023-08-17 10:48:28", "is in the future", "Times are UTC"},
		{"future by the zone", "2023-08-17 10:50 -01:00", "2023-08-17 11:50 UTC is in the future", "Times are UTC"},
		{"31 days ago", "2023-07-17 10:00", "2023-07-17 10:00 UTC is more than 30 days ago", "within the last 30 days"},
		{"just past 30 days", "2023-07-18 10:43:26", "is more than 30 days ago", "within the last 30 days"},
		{"year 0000", "0000-01-01 00:00", "is more than 30 days ago", "within the last 30 days"},
		{"more than 7 days ago", "169h ago", `"169h ago" is more than 7 days ago`, "give the date and time"},
		{"overflowing duration", "99999999999999h ago", "is more than 7 days ago", "give the date and time"},
		{"zero ago", "0m ago", `"0m ago" is not in the past`, "Say how long ago"},
		{"minus zero", "-0s", "is not in the past", "Say how long ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := incident.ParseWhen(tt.text, whenNow)
			if err == nil {
				t.Fatalf("ParseWhen(%q) = %s, want an error", tt.text, got)
			}
			if !errors.Is(err, incident.ErrInvalidInput) {
				t.Errorf("ParseWhen(%q) error %v is not ErrInvalidInput", tt.text, err)
			}
			var in *incident.InputError
			if !errors.As(err, &in) {
				t.Fatalf("ParseWhen(%q) error %T is not an *InputError", tt.text, err)
			}
			if !strings.Contains(in.Problem, tt.problem) {
				t.Errorf("problem = %q, want it to contain %q", in.Problem, tt.problem)
			}
			if !strings.Contains(in.Hint, tt.hint) {
				t.Errorf("hint = %q, want it to contain %q", in.Hint, tt.hint)
			}
		})
	}
}

func TestParseWhenEchoesAtMost40Characters(t *testing.T) {
	text := strings.Repeat("abcdefghij", 4) + "SECRET-TAIL" + strings.Repeat("x", 500)
	_, err := incident.ParseWhen(text, whenNow)
	var in *incident.InputError
	if !errors.As(err, &in) {
		t.Fatalf("ParseWhen(long text) error = %v, want an *InputError", err)
	}
	if strings.Contains(in.Problem, "SECRET") || strings.Contains(in.Problem, "x") {
		t.Errorf("problem %q repeats more than 40 characters of the text", in.Problem)
	}
	if !strings.Contains(in.Problem, `"`+strings.Repeat("abcdefghij", 4)+`…"`) {
		t.Errorf("problem %q does not show the first 40 characters, clipped", in.Problem)
	}
}

func TestParseWhenEchoesUnprintableSafely(t *testing.T) {
	_, err := incident.ParseWhen("10\x00:\xff28", whenNow)
	if err == nil {
		t.Fatal("ParseWhen accepted control characters")
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\x00") || !strings.Contains(msg, `"10?:?28"`) {
		t.Errorf("error %q does not show unprintable characters as ?", msg)
	}
}

func TestSplitWhen(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		want   time.Time
		rest   string
		wantOK bool
	}{
		{"time and note", "10:28 DNS changed", utc(17, 10, 28, 0), "DNS changed", true},
		{"date, time and zone", "2023-08-17 10:28 UTC rolled back", utc(17, 10, 28, 0), "rolled back", true},
		{"date, time and offset", "2023-08-17 12:28 +02:00 rolled back", utc(17, 10, 28, 0), "rolled back", true},
		{"time and offset", "12:28 +0200 failover", utc(17, 10, 28, 0), "failover", true},
		{"RFC 3339", "2023-08-17T10:28:00Z alert fired", utc(17, 10, 28, 0), "alert fired", true},
		{"yesterday", "yesterday 23:50 first alert", utc(16, 23, 50, 0), "first alert", true},
		{"yesterday and zone (4 words)", "yesterday 23:50 UTC first alert", utc(16, 23, 50, 0), "first alert", true},
		{"ago", "15m ago paged the DBA", utc(17, 10, 28, 27), "paged the DBA", true},
		{"spaced ago (3 words)", "1h 30m ago deploy began", utc(17, 9, 13, 27), "deploy began", true},
		{"minus", "-15m paged", utc(17, 10, 28, 27), "paged", true},
		{"time alone", "10:28", utc(17, 10, 28, 0), "", true},
		{"time and zone alone", "2023-08-17 10:28 UTC", utc(17, 10, 28, 0), "", true},
		{"rest keeps its lines", "  10:28\tDNS changed\n\nsecond  line  ", utc(17, 10, 28, 0), "DNS changed\n\nsecond  line", true},
		{"zone-like word after a full time", "10:28 UTC GMT x", utc(17, 10, 28, 0), "GMT x", true},
		{"time later in the text", "DNS changed at 10:28", time.Time{}, "DNS changed at 10:28", false},
		{"not a time", "rolled back", time.Time{}, "rolled back", false},
		{"empty", "", time.Time{}, "", false},
		{"blank", "  ", time.Time{}, "  ", false},
		{"bad hour", "25:00 DNS", time.Time{}, "25:00 DNS", false},
		{"future", "2023-08-18 10:00 DNS", time.Time{}, "2023-08-18 10:00 DNS", false},
		{"bare number", "5 people paged", time.Time{}, "5 people paged", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, rest, ok := incident.SplitWhen(tt.text, whenNow)
			if ok != tt.wantOK || !at.Equal(tt.want) || rest != tt.rest {
				t.Errorf("SplitWhen(%q) = (%s, %q, %v), want (%s, %q, %v)",
					tt.text, at, rest, ok, tt.want, tt.rest, tt.wantOK)
			}
		})
	}
}
