package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/internal/config/check"
)

// loadAlertTokens reads the bearer tokens of the escalation file's alert
// routes when the receiver is on. Routes without INCIDENTBOT_ALERTS_ADDR, or
// the receiver without routes, are said in the log: both are inert.
func loadAlertTokens(cfg Config, policies *incident.Policies, getenv func(string) string, log zerolog.Logger) (map[string][]string, error) {
	routes := policies.AlertRoutes
	switch {
	case cfg.AlertsAddr == "" && len(routes) > 0:
		log.Warn().Int("routes", len(routes)).Msg("the escalation file has alert_routes but INCIDENTBOT_ALERTS_ADDR is empty: no alerts are received; set it, e.g. 0.0.0.0:9094")
		return nil, nil
	case cfg.AlertsAddr == "":
		return nil, nil
	case len(routes) == 0:
		log.Warn().Msg("INCIDENTBOT_ALERTS_ADDR is set but the escalation file has no alert_routes: every alert is refused (401)")
		return nil, nil
	}
	tokens, err := check.AlertTokens(routes, getenv)
	if err != nil {
		return nil, fmt.Errorf("INCIDENTBOT_ESCALATION_FILE: alert_routes: %w", err)
	}
	log.Info().Int("routes", len(routes)).Msg("loaded alert routes")
	return tokens, nil
}
