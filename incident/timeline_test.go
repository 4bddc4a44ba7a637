package incident_test

import (
	"slices"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

func TestEntryPinUnpin(t *testing.T) {
	var e incident.Entry
	steps := []struct {
		name   string
		pin    bool // false: unpin
		pinner string
		want   bool // Pin: new; Unpin: still pinned
		left   []string
	}{
		{"first pin", true, "U1:pushpin", true, []string{"U1:pushpin"}},
		{"same pin again", true, "U1:pushpin", false, []string{"U1:pushpin"}},
		{"same user, other emoji", true, "U1:round_pushpin", true, []string{"U1:pushpin", "U1:round_pushpin"}},
		{"second user", true, "U2:pushpin", true, []string{"U1:pushpin", "U1:round_pushpin", "U2:pushpin"}},
		{"unpin one of three", false, "U1:pushpin", true, []string{"U1:round_pushpin", "U2:pushpin"}},
		{"unpin someone who never pinned", false, "U9:pushpin", true, []string{"U1:round_pushpin", "U2:pushpin"}},
		{"unpin another", false, "U2:pushpin", true, []string{"U1:round_pushpin"}},
		{"unpin the last", false, "U1:round_pushpin", false, nil},
		{"unpin when nobody holds it", false, "U1:round_pushpin", false, nil},
	}
	for _, s := range steps {
		var got bool
		if s.pin {
			got = e.Pin(s.pinner)
		} else {
			got = e.Unpin(s.pinner)
		}
		if got != s.want {
			t.Errorf("%s: got %v, want %v", s.name, got, s.want)
		}
		if len(e.PinnedBy) != len(s.left) || (len(s.left) > 0 && !slices.Equal(e.PinnedBy, s.left)) {
			t.Errorf("%s: pinned by %v, want %v", s.name, e.PinnedBy, s.left)
		}
	}
}

func TestEntryEdit(t *testing.T) {
	e := incident.Entry{Text: "DB is down"}
	if e.Edit(at(17, 10, 1), "DB is down") {
		t.Error("Edit with the same text reported a change")
	}
	if len(e.History) != 0 {
		t.Errorf("Edit with the same text added history: %+v", e.History)
	}
	if !e.Edit(at(17, 10, 2), "DB primary is down") || !e.Edit(at(17, 10, 3), "DB primary is down in eu-west-1") {
		t.Error("Edit with new text reported no change")
	}
	want := []incident.Revision{{At: at(17, 10, 2), Text: "DB is down"}, {At: at(17, 10, 3), Text: "DB primary is down"}}
	if e.Text != "DB primary is down in eu-west-1" || !slices.EqualFunc(e.History, want, func(a, b incident.Revision) bool {
		return a.At.Equal(b.At) && a.Text == b.Text
	}) {
		t.Errorf("after two edits: text %q, history %+v", e.Text, e.History)
	}
}

func TestSortTimeline(t *testing.T) {
	e := func(seq uint64, at time.Time) incident.Entry { return incident.Entry{Seq: seq, At: at} }
	tests := []struct {
		name    string
		entries []incident.Entry
		want    []uint64 // Seqs in order
	}{
		{"empty", nil, nil},
		{"already in order", []incident.Entry{e(1, at(17, 10, 0)), e(2, at(17, 10, 5))}, []uint64{1, 2}},
		{"backdated note lands in place",
			[]incident.Entry{e(1, at(17, 10, 0)), e(2, at(17, 10, 10)), e(3, at(17, 10, 20)), e(4, at(17, 10, 5))},
			[]uint64{1, 4, 2, 3}},
		{"same time: by seq",
			[]incident.Entry{e(3, at(17, 10, 0)), e(1, at(17, 10, 0)), e(2, at(17, 10, 0))},
			[]uint64{1, 2, 3}},
		{"backdated before everything, across midnight",
			[]incident.Entry{e(1, at(18, 0, 5)), e(2, at(18, 0, 10)), e(3, at(17, 23, 55))},
			[]uint64{3, 1, 2}},
		{"same instant in other zones",
			[]incident.Entry{e(2, at(17, 10, 0)), e(1, at(17, 10, 0).In(time.FixedZone("X", 3600)))},
			[]uint64{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries := slices.Clone(tc.entries)
			incident.SortTimeline(entries)
			var got []uint64
			for _, x := range entries {
				got = append(got, x.Seq)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}
