package jsm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fake is a local Jira Service Management integration events API. It
// rejects what the real one rejects, with the real one's kinds of answer:
// no or another API key (401/403), a body that is not JSON (400), a create
// without a message or with fields over their limits (422), an action on
// an alias that has no alert (404), an unknown identifierType (422); while
// throttled it answers 429 with a Retry-After. Accepted requests get the
// asynchronous 202 with a requestId.
type fake struct {
	*httptest.Server
	key string

	mu       sync.Mutex
	alerts   map[string]*fakeAlert // by alias
	throttle int                   // how many more requests to answer 429
	fail     int                   // how many more requests to answer 503
	requests int
}

// fakeAlert is what the fake keeps of an alert.
type fakeAlert struct {
	Message, Priority, Status string // Status: "open", "acknowledged", "closed"
	Count                     int    // creates folded into it by alias
	Notes                     []string
}

const alertsURL = "/jsm/ops/integration/v2/alerts"

func newFake(t *testing.T, key string) *fake {
	f := &fake{key: key, alerts: map[string]*fakeAlert{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// answer writes status and a JSON body with message and, if given, field errors.
func answer(w http.ResponseWriter, status int, message string, errs map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"message": message, "took": 0.002, "requestId": "b2c3d4e5"}
	if errs != nil {
		body["errors"] = errs
	}
	json.NewEncoder(w).Encode(body)
}

// accepted is the answer to every accepted request: the action itself is
// processed afterwards.
func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"result":"Request will be processed","took":0.012,"requestId":"a1b2c3d4"}`)
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	switch auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "GenieKey "); {
	case !ok || auth == "":
		answer(w, http.StatusUnauthorized, "Could not authenticate: no GenieKey in the Authorization header", nil)
		return
	case auth != f.key:
		// The real API's message does not quote the key; this one does, to
		// prove the key is scrubbed from whatever comes back.
		answer(w, http.StatusForbidden, "API key "+auth+" is not valid for any integration", nil)
		return
	case f.throttle > 0:
		f.throttle--
		w.Header().Set("Retry-After", "3")
		answer(w, http.StatusTooManyRequests, "You are making too many requests! To avoid errors, we recommend you limit requests.", nil)
		return
	case f.fail > 0:
		f.fail--
		answer(w, http.StatusServiceUnavailable, "Service unavailable", nil)
		return
	case r.Method != http.MethodPost:
		answer(w, http.StatusMethodNotAllowed, "Method not allowed", nil)
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		answer(w, http.StatusUnsupportedMediaType, "Content type is not supported", nil)
		return
	}
	var body map[string]any
	if raw, _ := io.ReadAll(r.Body); json.Unmarshal(raw, &body) != nil {
		answer(w, http.StatusBadRequest, "Could not parse the request body", nil)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), alertsURL)
	switch {
	case ok && rest == "":
		f.create(w, body)
	case ok && strings.Count(rest, "/") == 2:
		f.act(w, r, rest, body)
	default:
		answer(w, http.StatusNotFound, "No such resource", nil)
	}
}

// limits are the longest a create's string fields may be.
var limits = map[string]int{"message": 130, "alias": 512, "description": 15000, "entity": 512, "source": 100, "user": 100, "note": 25000}

func tooLong(body map[string]any, fields ...string) map[string]string {
	errs := map[string]string{}
	for _, k := range fields {
		if s, _ := body[k].(string); utf8.RuneCountInString(s) > limits[k] {
			errs[k] = fmt.Sprintf("%s can not be longer than %d characters.", k, limits[k])
		}
	}
	return errs
}

func (f *fake) create(w http.ResponseWriter, body map[string]any) {
	errs := tooLong(body, "message", "alias", "description", "entity", "source", "user", "note")
	if m, _ := body["message"].(string); strings.TrimSpace(m) == "" {
		errs["message"] = "Message can not be empty."
	}
	p, _ := body["priority"].(string)
	if _, set := body["priority"]; set && !strings.Contains(" P1 P2 P3 P4 P5 ", " "+p+" ") {
		errs["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]."
	}
	if tags, _ := body["tags"].([]any); len(tags) > 20 {
		errs["tags"] = "Tags can have at most 20 elements."
	}
	if d, set := body["details"]; set {
		details, ok := d.(map[string]any)
		for _, v := range details {
			if _, isString := v.(string); !isString {
				ok = false
			}
		}
		if !ok {
			errs["details"] = "Details should be a map of strings."
		}
	}
	if len(errs) > 0 {
		answer(w, http.StatusUnprocessableEntity, "Request body is not processable. Please check the errors.", errs)
		return
	}
	alias, _ := body["alias"].(string)
	if a := f.alerts[alias]; alias != "" && a != nil && a.Status != "closed" {
		a.Count++ // an open alert with the alias absorbs the create
	} else {
		f.alerts[alias] = &fakeAlert{Message: body["message"].(string), Priority: p, Status: "open", Count: 1}
	}
	accepted(w)
}

// act acknowledges or closes the alert rest names: "/{identifier}/{action}".
func (f *fake) act(w http.ResponseWriter, r *http.Request, rest string, body map[string]any) {
	parts := strings.Split(rest, "/")
	id, err := url.PathUnescape(parts[1])
	action := parts[2]
	if err != nil || (action != "acknowledge" && action != "close") {
		answer(w, http.StatusNotFound, "No such resource", nil)
		return
	}
	if errs := tooLong(body, "user", "source", "note"); len(errs) > 0 {
		answer(w, http.StatusUnprocessableEntity, "Request body is not processable. Please check the errors.", errs)
		return
	}
	var a *fakeAlert
	switch kind := r.URL.Query().Get("identifierType"); kind {
	case "alias":
		a = f.alerts[id]
	case "", "id", "tiny": // the default is the alert's id, which an alias never is
	default:
		answer(w, http.StatusUnprocessableEntity, "Invalid identifierType ["+kind+"]. Possible values are [id, alias, tiny].", nil)
		return
	}
	if a == nil {
		answer(w, http.StatusNotFound, "Alert does not exist", nil)
		return
	}
	a.Status = map[string]string{"acknowledge": "acknowledged", "close": "closed"}[action]
	if note, _ := body["note"].(string); note != "" {
		a.Notes = append(a.Notes, note)
	}
	accepted(w)
}

// alert returns a copy of the alert with alias, or nil.
func (f *fake) alert(alias string) *fakeAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.alerts[alias]; a != nil {
		c := *a
		return &c
	}
	return nil
}
