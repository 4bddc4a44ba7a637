package handlers_test

import (
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/handlers"
)

// TestSplitBytesKeepsEveryLineWithinTheLimit checks long answers are cut at
// line boundaries into parts that each encode within the limit, losing no
// line, and that a line too long on its own is clipped rather than dropped.
func TestSplitBytesKeepsEveryLineWithinTheLimit(t *testing.T) {
	var lines []string
	for i := 0; i < 200; i++ {
		lines = append(lines, strings.Repeat("設定<x>", 10+i%7))
	}
	lines = append(lines, strings.Repeat("長", 10000))
	parts := handlers.SplitBytes(strings.Join(lines, "\n"), 4096)
	got := 0
	for _, p := range parts {
		if n := handlers.EncodedLen(p); n > 4096 {
			t.Errorf("a part encodes in %d bytes, over 4096", n)
		}
		got += strings.Count(p, "\n") + 1
	}
	if got != len(lines) {
		t.Errorf("parts hold %d lines, want %d", got, len(lines))
	}
	if last := parts[len(parts)-1]; !strings.HasSuffix(last, "…") {
		t.Errorf("the over-long line was not clipped: %.40q", last[len(last)-40:])
	}
}

// TestPagesByLinesAndBytes checks pages hold at most maxLines lines and
// PageBytes encoded bytes, in order.
func TestPagesByLinesAndBytes(t *testing.T) {
	short := make([]string, 60)
	for i := range short {
		short[i] = "note"
	}
	if p := handlers.Pages(short, 25); len(p) != 3 || len(p[0]) != 25 || len(p[2]) != 10 {
		t.Errorf("60 short lines in pages of 25: %d pages", len(p))
	}
	long := make([]string, 30)
	for i := range long {
		long[i] = strings.Repeat("障害<原因>", 60)
	}
	pages := handlers.Pages(long, 25)
	n := 0
	for _, p := range pages {
		if size := handlers.EncodedLen(strings.Join(p, "\n")); size > handlers.PageBytes {
			t.Errorf("a page encodes in %d bytes, over %d", size, handlers.PageBytes)
		}
		n += len(p)
	}
	if n != 30 || len(pages) < 3 {
		t.Errorf("30 long lines in %d pages holding %d lines", len(pages), n)
	}
}
