package metrics_test

import (
	"testing"

	"github.com/incidentbot/incidentbot/metrics"
)

func TestPaged(t *testing.T) {
	m := metrics.New()
	m.Paged("platform-primary", "U01ANA0001")
	m.Paged("platform-primary", "U01ANA0001")
	m.Paged("", "U01ANA0001")
	m.Paged("Bad Name!", "someone@example.com")
	checkSamples(t, scrape(t, m), map[string]float64{
		`incidentbot_pages_total{person="U01ANA0001",schedule="platform-primary"}`: 2,
		`incidentbot_pages_total{person="U01ANA0001",schedule=""}`:                 1,
		`incidentbot_pages_total{person="other",schedule="other"}`:                 1,
	})
}

func TestOnCallGauge(t *testing.T) {
	m := metrics.New()
	if got := scrape(t, m); len(filter(got, "incidentbot_oncall{")) != 0 {
		t.Errorf("no function installed, yet %v", filter(got, "incidentbot_oncall{"))
	}
	who := "U01ANA0001"
	m.SetOnCallFunc(func() []metrics.OnCall {
		return []metrics.OnCall{{"platform-primary", who}, {"platform-primary", who}, {"db", "not-an-id"}, {"vendor", "U02BOB0002"}}
	})
	got := filter(scrape(t, m), "incidentbot_oncall{")
	want := map[string]float64{
		`incidentbot_oncall{person="U01ANA0001",schedule="platform-primary"}`: 1,
		`incidentbot_oncall{person="U02BOB0002",schedule="vendor"}`:           1,
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	checkSamples(t, got, want)
	who = "U03CAROL03" // read at every scrape
	if got := scrape(t, m); got[`incidentbot_oncall{person="U03CAROL03",schedule="platform-primary"}`] != 1 {
		t.Errorf("the handoff is not seen at the next scrape: %v", filter(got, "incidentbot_oncall{"))
	}
}

func filter(samples map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range samples {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			out[k] = v
		}
	}
	return out
}
