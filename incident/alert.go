package incident

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// AlertStatus is the state of an alert or of an alert group.
type AlertStatus string

// The two alert states every source speaks.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// The sources an AlertGroup is decoded from.
const (
	SourceAlertmanager = "alertmanager"
	SourceGrafana      = "grafana"
	SourceGeneric      = "generic"
)

// AlertGroup is one alert in the bot: a notification group of the monitoring
// system (Alertmanager's groupKey, Grafana's group, the generic dedup_key)
// with the alerts it holds. Repeated notifications of one group are merged
// into it with Merge.
type AlertGroup struct {
	Source      string            `json:"source"`                 // SourceAlertmanager, SourceGrafana or SourceGeneric
	Key         string            `json:"key"`                    // groupKey, or the generic dedup_key
	Status      AlertStatus       `json:"status"`                 // firing while any of its alerts fires
	Labels      map[string]string `json:"labels,omitempty"`       // the labels all its alerts share
	GroupLabels map[string]string `json:"group_labels,omitempty"` // the labels the source grouped by
	Alerts      []Alert           `json:"alerts"`
	ExternalURL string            `json:"external_url,omitempty"` // the sending Alertmanager or Grafana
	Title       string            `json:"title,omitempty"`        // Grafana's title, the generic summary; else empty
	Truncated   int               `json:"truncated,omitempty"`    // alerts the source left out (truncatedAlerts)
}

// Alert is one alert of a group, identified within it by its fingerprint.
type Alert struct {
	Fingerprint string            `json:"fingerprint"`
	Status      AlertStatus       `json:"status"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Summary     string            `json:"summary,omitempty"`     // the summary annotation
	Description string            `json:"description,omitempty"` // the description annotation
	RunbookURL  string            `json:"runbook_url,omitempty"` // the runbook_url annotation, when an http(s) URL
	Value       string            `json:"value,omitempty"`       // Grafana's valueString or values, e.g. "B=44.24 C=1"
	StartsAt    time.Time         `json:"starts_at,omitzero"`
	EndsAt      time.Time         `json:"ends_at,omitzero"` // zero while firing, when the source says nothing
	Links       []AlertLink       `json:"links,omitempty"`
}

// AlertLink is a link shown with an alert: its source, dashboard, silence.
// Only http and https URLs are kept, so no javascript: link reaches Slack.
type AlertLink struct {
	URL  string `json:"url"`
	Text string `json:"text"`
}

// amAlert is one alert of Alertmanager's webhook payload, with Grafana's
// additions. Times are decoded by hand so that errors do not echo them.
type amAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     string             `json:"startsAt"`
	EndsAt       string             `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	SilenceURL   string             `json:"silenceURL"`
	ValueString  string             `json:"valueString"`
	Values       map[string]float64 `json:"values"`
}

// amPayload is Alertmanager's webhook payload (version 4), with the fields
// Grafana's webhook contact point adds (version 1).
type amPayload struct {
	Version           *string           `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Alerts            []amAlert         `json:"alerts"`
	Title             string            `json:"title"`
	Message           string            `json:"message"`
	OrgID             int64             `json:"orgId"`
	State             string            `json:"state"`
}

// DecodeAlertmanager reads Prometheus Alertmanager's webhook payload,
// version 4. A malformed body is an *InputError saying what is wrong, never
// quoting the body.
func DecodeAlertmanager(body []byte) (*AlertGroup, error) {
	return decodeAM(body, SourceAlertmanager, "4")
}

// DecodeGrafana reads the body of Grafana unified alerting's webhook contact
// point: Alertmanager's shape, version "1", plus title, message, orgId, state
// and per alert dashboardURL, panelURL, silenceURL, valueString and values.
func DecodeGrafana(body []byte) (*AlertGroup, error) {
	return decodeAM(body, SourceGrafana, "1")
}

func decodeAM(body []byte, source, version string) (*AlertGroup, error) {
	name := sourceName(source)
	var p amPayload
	if err := decodeJSON(body, &p); err != nil {
		return nil, payloadError(name, err.Error())
	}
	switch {
	case p.Version == nil:
		return nil, payloadError(name, `"version" is missing; version `+version+" is understood.")
	case *p.Version != version:
		return nil, payloadError(name, fmt.Sprintf(`"version" is %s; only version %s is understood.`, quoteShort(*p.Version), version))
	case strings.TrimSpace(p.GroupKey) == "":
		return nil, payloadError(name, `"groupKey" is missing.`)
	case len(p.Alerts) == 0:
		return nil, payloadError(name, `"alerts" is empty.`)
	}
	status, err := parseAlertStatus(`"status"`, p.Status)
	if err != nil {
		return nil, payloadError(name, err.Error())
	}
	g := &AlertGroup{
		Source: source, Key: p.GroupKey, Status: status,
		Labels: mergeLabels(p.GroupLabels, p.CommonLabels), GroupLabels: p.GroupLabels,
		ExternalURL: httpURL(p.ExternalURL), Truncated: p.TruncatedAlerts,
	}
	if source == SourceGrafana {
		g.Title = oneLine(p.Title)
	}
	for i, a := range p.Alerts {
		alert, err := decodeAMAlert(a, p.CommonAnnotations)
		if err != nil {
			return nil, payloadError(name, fmt.Sprintf("alerts[%d]: %v", i, err))
		}
		g.Alerts = append(g.Alerts, alert)
	}
	return g, nil
}

func decodeAMAlert(a amAlert, common map[string]string) (Alert, error) {
	status, err := parseAlertStatus(`"status"`, a.Status)
	if err != nil {
		return Alert{}, err
	}
	if a.Fingerprint == "" && len(a.Labels) == 0 {
		return Alert{}, errors.New(`it has neither "fingerprint" nor "labels".`)
	}
	start, err := parseAlertTime("startsAt", a.StartsAt)
	if err != nil {
		return Alert{}, err
	}
	end, err := parseAlertTime("endsAt", a.EndsAt)
	if err != nil {
		return Alert{}, err
	}
	ann := mergeLabels(common, a.Annotations)
	out := Alert{
		Fingerprint: a.Fingerprint, Status: status, Labels: a.Labels, Annotations: ann,
		Summary: oneLine(ann["summary"]), Description: strings.TrimSpace(ann["description"]),
		RunbookURL: httpURL(ann["runbook_url"]), StartsAt: start, EndsAt: end,
		Value: oneLine(a.ValueString),
	}
	if out.Fingerprint == "" {
		out.Fingerprint = labelsFingerprint(a.Labels)
	}
	if out.Value == "" && len(a.Values) > 0 {
		out.Value = formatValues(a.Values)
	}
	out.Links = appendLinks(nil,
		AlertLink{a.GeneratorURL, "Source"}, AlertLink{a.DashboardURL, "Dashboard"},
		AlertLink{a.PanelURL, "Panel"}, AlertLink{a.SilenceURL, "Silence"})
	return out, nil
}
