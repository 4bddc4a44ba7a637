package incident_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// benchSizes are the timelines benchmarked: a short incident, and a long
// one with a chatty channel, twice (which shows the cost is linear).
var benchSizes = []int{100, 10_000, 100_000}

// BenchmarkPostmortem renders drafts of incidents with 100, 10,000 and
// 100,000 timeline entries; compare BenchmarkPostmortemFloor of the same
// run, in MB/s.
func BenchmarkPostmortem(b *testing.B) {
	tmpl := incident.MustLoadDefaults()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			in := bigIncident(n)
			out, err := tmpl.PostmortemString(in)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := tmpl.Postmortem(io.Discard, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/draft")
		})
	}
}

// BenchmarkPostmortemFloor is what no renderer of these drafts can beat:
// the draft already rendered, written a line at a time (the renderer writes
// an entry at a time) through a writer like the renderer's, to io.Discard.
func BenchmarkPostmortemFloor(b *testing.B) {
	tmpl := incident.MustLoadDefaults()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			out, err := tmpl.PostmortemString(bigIncident(n))
			if err != nil {
				b.Fatal(err)
			}
			lines := strings.SplitAfter(out, "\n")
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := bufio.NewWriterSize(io.Discard, incident.DraftBufferSize)
				for _, l := range lines {
					if _, err := w.WriteString(l); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/draft")
		})
	}
}

func bigIncident(n int) incident.PostmortemInput {
	start := time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)
	people := []incident.User{{ID: "U1", Name: "mara"}, {ID: "U2", Name: "jonas"}, {ID: "U3", Name: "priya"}}
	inc := incident.New(1, incident.Declaration{Title: "Configuration updates not propagating", Severity: incident.Sev2,
		By: people[0], At: start, Services: []string{"GraphQL Edge Caching", "GraphQL Rate Limiting"}})
	inc.Assign(incident.RoleComms, people[2])
	_, _ = inc.SetSeverity(incident.Sev1, people[0], start.Add(time.Hour))
	_ = inc.Resolve(start.Add(24*time.Hour), "Rolled back to the old infrastructure.")
	entries := make([]incident.Entry, n)
	for i := range entries {
		e := incident.Entry{Seq: uint64(i + 1), At: start.Add(time.Duration(i) * time.Second), Kind: incident.KindMessage,
			Author: people[i%3], Text: fmt.Sprintf("Step %d: checked <https://grafana.example/d/%d|the dashboard> &amp; the KV store in FRA", i, i),
			Link: fmt.Sprintf("https://example.slack.com/archives/C1/p%d", 1692266400000000+i)}
		if i%50 == 0 {
			e.Files = []incident.Link{{Title: "graph.png", URL: "https://files.example/graph.png"}}
		}
		entries[i] = e
	}
	return incident.PostmortemInput{Incident: inc, Timeline: entries, Now: start.Add(25 * time.Hour)}
}
