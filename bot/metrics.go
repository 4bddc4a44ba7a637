package bot

import "time"

// Metrics is what the bot reports about its work. The command wires a
// Prometheus implementation; tests use none.
type Metrics interface {
	EnvelopeReceived(typ string)
	EnvelopeAcked(typ string, sinceReceived time.Duration)
	EnvelopeWithheld(typ string)
	Commit(d time.Duration, err error)
	// JobDone counts a job's outcome: "ok", "retry", "rate_limited" or "failed".
	JobDone(kind, outcome string)
	Connected(up bool)
}

type nopMetrics struct{}

func (nopMetrics) EnvelopeReceived(string)             {}
func (nopMetrics) EnvelopeAcked(string, time.Duration) {}
func (nopMetrics) EnvelopeWithheld(string)             {}
func (nopMetrics) Commit(time.Duration, error)         {}
func (nopMetrics) JobDone(string, string)              {}
func (nopMetrics) Connected(bool)                      {}
