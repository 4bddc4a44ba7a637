package cluster

import (
	"bytes"
	"encoding/json"

	"github.com/hashicorp/go-hclog"
	"github.com/rs/zerolog"
)

// newHCLogger gives hashicorp/raft (which logs through hclog) a logger that
// ends in the bot's zerolog: hclog writes one JSON object per entry, and
// hclogWriter re-emits it with its level and fields. This is far smaller than
// implementing hclog.Logger's twenty-odd methods over zerolog.
func newHCLogger(name string, log zerolog.Logger) hclog.Logger {
	// hclog filters at the source, so raft formats nothing zerolog would
	// drop (a zero zerolog.Logger drops everything). raft's DEBUG logs
	// every heartbeat and RPC: only when the bot logs at debug.
	level := hclog.Off
	for _, l := range []struct {
		ev *zerolog.Event
		hc hclog.Level
	}{{log.Debug(), hclog.Debug}, {log.Info(), hclog.Info}, {log.Warn(), hclog.Warn}, {log.Error(), hclog.Error}} {
		if l.ev != nil {
			l.ev.Discard()
			if level == hclog.Off {
				level = l.hc
			}
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:        name,
		Level:       level,
		Output:      hclogWriter{log},
		JSONFormat:  true,
		DisableTime: true, // zerolog stamps its own time
	})
}

type hclogWriter struct{ log zerolog.Logger }

// Write takes whole entries: hclog writes each one with a single Write.
func (w hclogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var fields map[string]interface{}
		if err := json.Unmarshal(line, &fields); err != nil {
			w.log.Info().Str("component", "raft").Msg(string(line))
			continue
		}
		msg, _ := fields["@message"].(string)
		lvl, _ := fields["@level"].(string)
		mod, _ := fields["@module"].(string)
		for _, k := range []string{"@message", "@level", "@module", "@timestamp"} {
			delete(fields, k)
		}
		var ev *zerolog.Event
		switch lvl {
		case "trace", "debug":
			ev = w.log.Debug()
		case "warn":
			ev = w.log.Warn()
		case "error":
			ev = w.log.Error()
		default:
			ev = w.log.Info()
		}
		ev.Str("component", mod).Fields(fields).Msg(msg)
	}
	return len(p), nil
}
