package alerts

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/incident"
)

// The receiver: POST /alerts/alertmanager, /alerts/grafana and
// /alerts/generic, on INCIDENTBOT_ALERTS_ADDR, an internal address only the
// monitoring system reaches (the bot needs no public endpoint, and this
// keeps it so). A request names its route by its bearer token. It is
// answered 2xx only once the notification is committed: Alertmanager and
// Grafana retry on 5xx and timeouts, so nothing answered is lost, and a
// retry of a committed request is merged as a repeat, changing nothing.

// MaxAlertBody is the largest request body taken (413 above).
const MaxAlertBody = 1 << 20

// decoders are the sources by path.
var decoders = map[string]func([]byte) (*incident.AlertGroup, error){
	"/alerts/alertmanager": incident.DecodeAlertmanager,
	"/alerts/grafana":      incident.DecodeGrafana,
	"/alerts/generic":      incident.DecodeGeneric,
}

// Receiver is the HTTP handler of the alert receiver.
func (m *Module) Receiver() http.Handler {
	return http.HandlerFunc(m.receive)
}

// answer is a JSON reply: what was taken, or why not.
type answer struct {
	Status string `json:"status"` // "ok" or "error"
	Error  string `json:"error,omitempty"`
	taken
}

func reply(w http.ResponseWriter, code int, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

func refuse(w http.ResponseWriter, code int, msg string) {
	reply(w, code, answer{Status: "error", Error: msg})
}

func (m *Module) receive(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	log := m.h.Log().With().Str("path", req.URL.Path).Str("remote", req.RemoteAddr).Logger()
	decode, ok := decoders[req.URL.Path]
	if !ok {
		refuse(w, http.StatusNotFound, "unknown path: POST to /alerts/alertmanager, /alerts/grafana or /alerts/generic")
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	routes, ok := m.authorise(req)
	if !ok {
		// The token is never logged, not even in part.
		log.Warn().Msg("refused an alert: missing or unknown bearer token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="incidentbot alerts"`)
		refuse(w, http.StatusUnauthorized, "missing or unknown bearer token: send Authorization: Bearer <the token of an alert route's token_env>")
		return
	}
	if req.ContentLength > MaxAlertBody {
		refuse(w, http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxAlertBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		refuse(w, http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB")
		return
	case err != nil:
		refuse(w, http.StatusBadRequest, "could not read the body")
		return
	}
	g, err := decode(body)
	if err != nil {
		log.Info().Err(err).Msg("refused a malformed alert")
		refuse(w, http.StatusBadRequest, m.h.UserMessage(err))
		return
	}
	var out taken
	err = m.h.Update(func(r *handlers.Request) error {
		route, unrouted := m.pickRoute(routes, g.Labels)
		if route == nil {
			return errNoRoute
		}
		var err error
		out, err = m.take(r, route, unrouted, g)
		return err
	})
	if err != nil {
		// Not committed: a 5xx makes the sender try again later.
		log.Error().Err(err).Msg("could not record an alert")
		w.Header().Set("Retry-After", "10")
		refuse(w, http.StatusServiceUnavailable, "the alert could not be recorded (the database refuses writes); retry later")
		return
	}
	log.Info().Str("route", out.Route).Str("alert", out.Alert).Str("result", out.Result).Str("source", g.Source).
		Int("alerts", len(g.Alerts)).Str("status", string(g.Status)).Dur("took", time.Since(start)).Msg("took an alert")
	reply(w, http.StatusOK, answer{Status: "ok", taken: out})
}

// errNoRoute: a token whose routes are all gone (cannot happen with a
// loaded file, whose tokens come from its routes).
var errNoRoute = errors.New("no route for this token")

// authorise returns the routes of the request's bearer token. Every token
// is compared in constant time, so timing tells nothing of a token.
func (m *Module) authorise(req *http.Request) ([]string, bool) {
	h := req.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	token = strings.TrimSpace(token)
	var routes []string
	found := false
	for t, names := range m.cfg.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			routes, found = names, true
		}
	}
	return routes, found && token != ""
}
