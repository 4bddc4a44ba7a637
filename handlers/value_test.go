package handlers_test

import (
	"slices"
	"testing"

	"github.com/incidentbot/incidentbot/handlers"
)

// TestValueRoundTrip pins the formats buttons and forms already carry in
// posted messages ("3:1", "3:2:5") and checks malformed ones are refused.
func TestValueRoundTrip(t *testing.T) {
	if got := handlers.EncodeValue(3, 2, 5); got != "3:2:5" {
		t.Errorf("EncodeValue(3, 2, 5) = %q", got)
	}
	if got := handlers.EncodeValue(12, 0); got != "12:0" {
		t.Errorf("EncodeValue(12, 0) = %q", got)
	}
	tests := []struct {
		in      string
		n       int
		inc     int64
		ids     []int
		wantErr bool
	}{
		{"3:1", 1, 3, []int{1}, false},
		{"3:2:5", 2, 3, []int{2, 5}, false},
		{"12:0", 1, 12, []int{0}, false},
		{"3", 1, 0, nil, true},
		{"3:1:2", 1, 0, nil, true},
		{"0:1", 1, 0, nil, true},
		{"-3:1", 1, 0, nil, true},
		{"x:1", 1, 0, nil, true},
		{"3:-1", 1, 0, nil, true},
		{"3:", 1, 0, nil, true},
		{"", 1, 0, nil, true},
	}
	for _, tt := range tests {
		inc, ids, err := handlers.ParseValue(tt.in, tt.n)
		if (err != nil) != tt.wantErr || inc != tt.inc || !slices.Equal(ids, tt.ids) {
			t.Errorf("ParseValue(%q, %d) = %d, %v, %v", tt.in, tt.n, inc, ids, err)
		}
	}
}
