package incident_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// at returns 2023-08-<day> hh:mm UTC.
func at(day, hh, mm int) time.Time { return time.Date(2023, 8, day, hh, mm, 0, 0, time.UTC) }

func TestKeyTimesSpans(t *testing.T) {
	tests := []struct {
		name string
		k    incident.KeyTimes
		// The measured spans; 0 with ok false means "not recorded".
		detect, ack, mitigate, resolve time.Duration
		ok                             [4]bool
		from                           string // where mitigate/resolve start
	}{
		{
			name: "all recorded",
			k: incident.KeyTimes{Started: at(17, 10, 5), Detected: at(17, 10, 18), Declared: at(17, 10, 22),
				Acknowledged: at(17, 10, 25), Mitigated: at(17, 10, 52), Resolved: at(17, 11, 30)},
			detect: 13 * time.Minute, ack: 3 * time.Minute, mitigate: 47 * time.Minute, resolve: 85 * time.Minute,
			ok: [4]bool{true, true, true, true}, from: "started",
		},
		{
			name: "across midnight",
			k: incident.KeyTimes{Started: at(17, 23, 50), Detected: at(18, 0, 5), Declared: at(18, 0, 10),
				Acknowledged: at(18, 0, 12), Mitigated: at(18, 0, 40), Resolved: at(18, 1, 15)},
			detect: 15 * time.Minute, ack: 2 * time.Minute, mitigate: 50 * time.Minute, resolve: 85 * time.Minute,
			ok: [4]bool{true, true, true, true}, from: "started",
		},
		{
			name: "across days",
			k: incident.KeyTimes{Started: at(14, 10, 0), Detected: at(15, 9, 0), Declared: at(15, 9, 30),
				Acknowledged: at(15, 9, 31), Mitigated: at(16, 8, 0), Resolved: at(16, 13, 10)},
			detect: 23 * time.Hour, ack: time.Minute, mitigate: 46 * time.Hour, resolve: 51*time.Hour + 10*time.Minute,
			ok: [4]bool{true, true, true, true}, from: "started",
		},
		{
			name:     "started missing: from detected",
			k:        incident.KeyTimes{Detected: at(17, 10, 0), Declared: at(17, 10, 10), Mitigated: at(17, 10, 30), Resolved: at(17, 11, 0)},
			mitigate: 30 * time.Minute, resolve: time.Hour,
			ok: [4]bool{false, false, true, true}, from: "detected",
		},
		{
			name:     "started and detected missing: from declared",
			k:        incident.KeyTimes{Declared: at(17, 10, 10), Mitigated: at(17, 10, 30), Resolved: at(17, 11, 0)},
			mitigate: 20 * time.Minute, resolve: 50 * time.Minute,
			ok: [4]bool{false, false, true, true}, from: "declared",
		},
		{
			name: "nothing after declared",
			k:    incident.KeyTimes{Declared: at(17, 10, 10)},
			ok:   [4]bool{false, false, false, false}, from: "declared",
		},
		{
			name: "nothing at all",
			k:    incident.KeyTimes{},
			ok:   [4]bool{false, false, false, false}, from: "",
		},
		{
			name: "ends before starts",
			k: incident.KeyTimes{Started: at(17, 10, 30), Detected: at(17, 10, 0), Declared: at(17, 10, 40),
				Acknowledged: at(17, 10, 35), Mitigated: at(17, 10, 20), Resolved: at(17, 10, 25)},
			// An ack before the declaration is an alert that paged someone
			// first: time to acknowledge runs from detection.
			ack: 35 * time.Minute,
			ok:  [4]bool{false, true, false, false}, from: "started",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spans := []struct {
				what string
				got  incident.Span
				want time.Duration
			}{
				{"TimeToDetect", tc.k.TimeToDetect(), tc.detect},
				{"TimeToAcknowledge", tc.k.TimeToAcknowledge(), tc.ack},
				{"TimeToMitigate", tc.k.TimeToMitigate(), tc.mitigate},
				{"TimeToResolve", tc.k.TimeToResolve(), tc.resolve},
			}
			for i, s := range spans {
				if s.got.OK != tc.ok[i] {
					t.Errorf("%s OK = %v, want %v (%+v)", s.what, s.got.OK, tc.ok[i], s.got)
					continue
				}
				if !s.got.OK {
					if got := s.got.String(); got != "not recorded" {
						t.Errorf("%s.String() = %q, want \"not recorded\"", s.what, got)
					}
					continue
				}
				if s.got.D != s.want {
					t.Errorf("%s = %v, want %v", s.what, s.got.D, s.want)
				}
			}
			for _, s := range spans[2:] {
				if s.got.From != tc.from {
					t.Errorf("%s measured from %q, want %q", s.what, s.got.From, tc.from)
				}
			}
		})
	}
}

func TestKeyTimesDuration(t *testing.T) {
	now := at(18, 12, 0)
	tests := []struct {
		name string
		k    incident.KeyTimes
		want time.Duration
		ok   bool
		from string
	}{
		{"resolved", incident.KeyTimes{Started: at(17, 10, 0), Declared: at(17, 10, 5), Resolved: at(17, 11, 5)}, 65 * time.Minute, true, "started"},
		{"resolved across midnight", incident.KeyTimes{Started: at(17, 23, 45), Resolved: at(18, 0, 15)}, 30 * time.Minute, true, "started"},
		{"open: until now", incident.KeyTimes{Started: at(17, 12, 0)}, 24 * time.Hour, true, "started"},
		{"open, from detected", incident.KeyTimes{Detected: at(18, 11, 0), Declared: at(18, 11, 30)}, time.Hour, true, "detected"},
		{"open, from declared", incident.KeyTimes{Declared: at(18, 11, 30)}, 30 * time.Minute, true, "declared"},
		{"no start", incident.KeyTimes{Resolved: at(17, 11, 5)}, 0, false, ""},
		{"resolved before started", incident.KeyTimes{Started: at(17, 11, 0), Resolved: at(17, 10, 0)}, 0, false, "started"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.k.Duration(now)
			if got.OK != tc.ok || got.D != tc.want || got.From != tc.from {
				t.Errorf("Duration = %+v, want {D:%v OK:%v From:%q}", got, tc.want, tc.ok, tc.from)
			}
		})
	}
}

func TestKeyTimesSet(t *testing.T) {
	now := at(17, 12, 0)
	tests := []struct {
		name    string
		k       incident.KeyTimes
		which   incident.KeyTime
		at      time.Time
		wantErr string // part of the message; "" for success
	}{
		{"started", incident.KeyTimes{Detected: at(17, 10, 18)}, incident.KeyStarted, at(17, 10, 5), ""},
		{"started equal to detected", incident.KeyTimes{Detected: at(17, 10, 18)}, incident.KeyStarted, at(17, 10, 18), ""},
		{"started without detected", incident.KeyTimes{}, incident.KeyStarted, at(16, 23, 0), ""},
		{"detected", incident.KeyTimes{Started: at(17, 10, 5)}, incident.KeyDetected, at(17, 10, 18), ""},
		{"a few seconds of clock skew", incident.KeyTimes{}, incident.KeyDetected, now.Add(30 * time.Second), ""},
		{"started in the future", incident.KeyTimes{}, incident.KeyStarted, now.Add(time.Hour), "in the future"},
		{"detected in the future", incident.KeyTimes{}, incident.KeyDetected, at(18, 9, 0), "in the future"},
		{"started after detected", incident.KeyTimes{Detected: at(17, 10, 18)}, incident.KeyStarted, at(17, 10, 30), "cannot start after it was detected"},
		{"detected before started", incident.KeyTimes{Started: at(17, 10, 5)}, incident.KeyDetected, at(17, 10, 0), "cannot come before impact started"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := tc.k
			err := k.Set(tc.which, tc.at, now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Set(%s, %v) = %v", tc.which, tc.at, err)
				}
				got := k.Started
				if tc.which == incident.KeyDetected {
					got = k.Detected
				}
				if !got.Equal(tc.at) {
					t.Errorf("after Set(%s, %v) the key time is %v", tc.which, tc.at, got)
				}
				return
			}
			var in *incident.InputError
			if !errors.As(err, &in) {
				t.Fatalf("Set(%s, %v) = %v, want an *InputError", tc.which, tc.at, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || in.Hint == "" {
				t.Errorf("Set(%s, %v) error %q, want it to say %q and give a hint", tc.which, tc.at, err, tc.wantErr)
			}
			if k != tc.k {
				t.Errorf("a refused Set changed the key times: %+v", k)
			}
		})
	}
}

func TestKeyTimesSetUnknown(t *testing.T) {
	var k incident.KeyTimes
	if err := k.Set("mitigated", at(17, 10, 0), at(17, 12, 0)); !errors.Is(err, incident.ErrInvalidInput) {
		t.Errorf("Set(mitigated) = %v, want ErrInvalidInput", err)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"seconds", 45 * time.Second, "45s"},
		{"just under a minute", 59*time.Second + 900*time.Millisecond, "59s"},
		{"one minute", time.Minute, "1m"},
		{"minutes", 26 * time.Minute, "26m"},
		{"minutes round to nearest", 26*time.Minute + 40*time.Second, "27m"},
		{"hour with padded minutes", time.Hour + 5*time.Minute, "1h 05m"},
		{"whole hours", 3 * time.Hour, "3h 00m"},
		{"rounds up to an hour", 59*time.Minute + 45*time.Second, "1h 00m"},
		{"days", 2*24*time.Hour + 3*time.Hour + 10*time.Minute, "2d 3h 10m"},
		{"one day", 24 * time.Hour, "1d 0h 00m"},
		{"negative reads as positive", -26 * time.Minute, "26m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := incident.FormatDuration(tc.d); got != tc.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	paris := time.FixedZone("CEST", 2*60*60)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"UTC", at(17, 10, 46), "2023-08-17 10:46 UTC"},
		{"converted to UTC", time.Date(2023, 8, 17, 12, 46, 30, 0, paris), "2023-08-17 10:46 UTC"},
		{"date changes in UTC", time.Date(2023, 8, 18, 1, 30, 0, 0, paris), "2023-08-17 23:30 UTC"},
		{"zero", time.Time{}, "not recorded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := incident.FormatTime(tc.t); got != tc.want {
				t.Errorf("FormatTime(%v) = %q, want %q", tc.t, got, tc.want)
			}
		})
	}
}
