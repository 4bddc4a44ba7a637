package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Call is one Web API request the fake received.
type Call struct {
	Method string
	// Params holds the request's arguments: form fields and query
	// parameters, or, for JSON bodies, the top-level fields (objects and
	// arrays re-encoded as JSON strings).
	Params url.Values
	// JSON is the raw body of a JSON request, nil for form requests.
	JSON json.RawMessage
	// Time is the real (wall-clock) time the request arrived, so retry
	// and backoff timing can be checked.
	Time time.Time
	// Status is the HTTP status the fake answered with.
	Status int
	// Error is the Slack error code returned with ok:false, if any.
	Error string
}

// apiRequest is a parsed Web API request.
type apiRequest struct {
	method string
	params url.Values
	json   map[string]json.RawMessage // nil for form requests
	body   json.RawMessage
	token  string
	// jsonNoCharset is set for JSON bodies without a charset, for which
	// Slack adds a missing_charset warning.
	jsonNoCharset bool
}

func (r *apiRequest) get(k string) string { return r.params.Get(k) }

// apiError is a Slack API error: HTTP 200 with ok:false.
type apiError string

// Error returns the Slack error code.
func (e apiError) Error() string { return string(e) }

type apiHandler func(s *Server, r *apiRequest) (obj, error)

// apiHandlers maps method names to handlers. It is built per call rather
// than stored in a package variable so the package has no global state.
func apiHandlers() map[string]apiHandler {
	return map[string]apiHandler{
		"auth.test":                    (*Server).apiAuthTest,
		"apps.connections.open":        (*Server).apiConnectionsOpen,
		"conversations.create":         (*Server).apiConvCreate,
		"conversations.info":           (*Server).apiConvInfo,
		"conversations.list":           (*Server).apiConvList,
		"conversations.members":        (*Server).apiConvMembers,
		"conversations.invite":         (*Server).apiConvInvite,
		"conversations.join":           (*Server).apiConvJoin,
		"conversations.leave":          (*Server).apiConvLeave,
		"conversations.open":           (*Server).apiConvOpen,
		"conversations.setTopic":       (*Server).apiConvSetTopic,
		"conversations.setPurpose":     (*Server).apiConvSetPurpose,
		"conversations.history":        (*Server).apiConvHistory,
		"conversations.replies":        (*Server).apiConvReplies,
		"chat.postMessage":             (*Server).apiChatPost,
		"chat.update":                  (*Server).apiChatUpdate,
		"chat.delete":                  (*Server).apiChatDelete,
		"chat.postEphemeral":           (*Server).apiChatEphemeral,
		"chat.getPermalink":            (*Server).apiPermalink,
		"reactions.add":                (*Server).apiReactionsAdd,
		"reactions.remove":             (*Server).apiReactionsRemove,
		"pins.add":                     (*Server).apiPinsAdd,
		"pins.remove":                  (*Server).apiPinsRemove,
		"users.info":                   (*Server).apiUsersInfo,
		"users.lookupByEmail":          (*Server).apiUsersByEmail,
		"usergroups.users.list":        (*Server).apiUserGroupUsers,
		"usergroups.users.update":      (*Server).apiUserGroupUpdate,
		"views.open":                   (*Server).apiViewsOpen,
		"views.update":                 (*Server).apiViewsUpdate,
		"views.push":                   (*Server).apiViewsPush,
		"files.getUploadURLExternal":   (*Server).apiFilesGetUploadURL,
		"files.completeUploadExternal": (*Server).apiFilesComplete,
		"files.info":                   (*Server).apiFilesInfo,
		"conversations.kick":           (*Server).apiConvKick,
		"conversations.archive":        (*Server).apiConvArchive,
		"users.conversations":          (*Server).apiUsersConversations,
		"bots.info":                    (*Server).apiBotsInfo,
		"team.info":                    (*Server).apiTeamInfo,
	}
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	req, perr := parseAPIRequest(method, r)
	call := Call{Method: method, Time: time.Now()}
	if req != nil {
		call.Params, call.JSON = req.params, req.body
	}
	rec := httptest.NewRecorder()
	if !s.serveAPI(rec, req, perr, method, &call) {
		call.Status = rec.Code
		if b := rec.Body.Bytes(); !bytes.Contains(b, []byte(`"ok":true`)) {
			var body struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(b, &body)
			call.Error = body.Error
		}
		s.mu.Lock()
		s.recordCallLocked(call)
		s.notifyLocked()
		s.mu.Unlock()
	}
	s.mu.Lock()
	hook := s.beforeReply
	s.mu.Unlock()
	if hook != nil {
		hook(call)
	}

	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// serveAPI answers one call. It reports whether it recorded the call itself:
// a call that reached its handler is recorded together with its effect, so
// a test that sees the effect (a message) also sees the call.
func (s *Server) serveAPI(w http.ResponseWriter, req *apiRequest, perr error, method string, call *Call) bool {
	handler, known := apiHandlers()[method]
	channel := ""
	if req != nil {
		channel = req.get("channel")
	}
	if f, ok := s.takeFault(method, channel); ok && !f.Apply {
		writeFault(w, f)
		return false
	} else if ok {
		// The call takes effect, then its response is lost: what a client
		// sees when Slack acted but the reply never arrived.
		if perr == nil && known {
			s.runHandler(httptest.NewRecorder(), req, handler, nil)
		}
		writeFault(w, f)
		return false
	}
	if !known {
		writeJSON(w, obj{"ok": false, "error": "unknown_method", "req_method": method})
		return false
	}
	s.mu.Lock()
	wait, allowed := s.limiter.allow(method, s.wall())
	s.mu.Unlock()
	if !allowed {
		writeFault(w, Fault{Status: http.StatusTooManyRequests, RetryAfter: wait})
		return false
	}
	if perr != nil {
		writeJSON(w, obj{"ok": false, "error": perr.Error()})
		return false
	}
	s.runHandler(w, req, handler, call)
	return true
}

// runHandler applies a call; when call is not nil it is recorded in the same
// critical section as the effect.
func (s *Server) runHandler(w http.ResponseWriter, req *apiRequest, h apiHandler, call *Call) {
	s.mu.Lock()
	record := func(apiErr string) {
		if call != nil {
			call.Status, call.Error = http.StatusOK, apiErr
			s.recordCallLocked(*call)
		}
		s.notifyLocked()
	}
	if err := s.checkTokenLocked(req); err != nil {
		record(err.Error())
		s.mu.Unlock()
		writeJSON(w, obj{"ok": false, "error": err.Error()})
		return
	}
	res, err := h(s, req)
	apiErr := ""
	if err != nil {
		apiErr = err.Error()
	}
	record(apiErr)
	s.mu.Unlock()
	if err != nil {
		out := obj{"ok": false, "error": err.Error()}
		for k, v := range res { // extra error context, e.g. invite "errors"
			out[k] = v
		}
		writeJSON(w, out)
		return
	}
	if res == nil {
		res = obj{}
	}
	res["ok"] = true
	if req.jsonNoCharset {
		res["warning"] = "missing_charset"
		res["response_metadata"] = obj{"warnings": []string{"missing_charset"}}
	}
	writeJSON(w, res)
}

// checkTokenLocked authenticates a request. apps.connections.open takes
// the app-level token; everything else the bot token.
func (s *Server) checkTokenLocked(req *apiRequest) error {
	if req.token == "" {
		return apiError("not_authed")
	}
	want, other := s.opts.BotToken, s.opts.AppToken
	if req.method == "apps.connections.open" {
		want, other = other, want
	}
	switch req.token {
	case want:
		if s.revoked {
			return apiError("token_revoked")
		}
		return nil
	case other:
		if s.revoked {
			return apiError("token_revoked")
		}
		return apiError("not_allowed_token_type")
	}
	return apiError("invalid_auth")
}

// parseAPIRequest reads form, query and JSON arguments. The token may come
// from a "token" argument or an "Authorization: Bearer" header, as Slack
// accepts both.
func parseAPIRequest(method string, r *http.Request) (*apiRequest, error) {
	req := &apiRequest{method: method, params: url.Values{}}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return req, apiError("request_timeout")
		}
		req.body = b
		req.jsonNoCharset = ctParams["charset"] == ""
		// An empty body is fine: apps.connections.open sends none.
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &req.json); err != nil {
				return req, apiError("invalid_json")
			}
		}
		for k, v := range req.json {
			var str string
			if json.Unmarshal(v, &str) == nil {
				req.params.Set(k, str)
			} else {
				req.params.Set(k, string(v))
			}
		}
		for k, v := range r.URL.Query() {
			req.params[k] = v
		}
	} else {
		var err error
		if ct == "multipart/form-data" {
			err = r.ParseMultipartForm(32 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return req, apiError("invalid_form_data")
		}
		req.params = r.Form
	}
	req.token = req.params.Get("token")
	if h := r.Header.Get("Authorization"); req.token == "" && strings.HasPrefix(h, "Bearer ") {
		req.token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	return req, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

func writeFault(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 && f.RetryAfter > 0 {
		status = http.StatusTooManyRequests
	}
	switch {
	case status == http.StatusTooManyRequests:
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
	case status != 0 && status != http.StatusOK:
		// Slack sends an HTML page with 5xx codes.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><body>%d %s</body></html>", status, http.StatusText(status))
	default:
		code := f.Error
		if code == "" {
			code = "internal_error"
		}
		writeJSON(w, obj{"ok": false, "error": code})
	}
}

// boolArg reads Slack's boolean arguments, which arrive as "true", "1" etc.
func boolArg(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

func (s *Server) apiAuthTest(r *apiRequest) (obj, error) {
	return obj{
		"url":  "https://" + s.opts.TeamDomain + ".slack.com/",
		"team": s.opts.TeamDomain, "user": s.opts.BotName,
		"team_id": s.opts.TeamID, "user_id": s.opts.BotUserID,
		"bot_id": s.opts.BotID, "is_enterprise_install": false,
	}, nil
}

func (s *Server) apiConnectionsOpen(r *apiRequest) (obj, error) {
	return obj{"url": s.newTicketLocked()}, nil
}

func (s *Server) apiBotsInfo(r *apiRequest) (obj, error) {
	if b := r.get("bot"); b != "" && b != s.opts.BotID {
		return nil, apiError("bot_not_found")
	}
	return obj{"bot": obj{
		"id": s.opts.BotID, "deleted": false, "name": s.opts.BotName,
		"updated": 1700000000, "app_id": s.opts.AppID, "user_id": s.opts.BotUserID,
		"icons": obj{"image_36": "", "image_48": "", "image_72": ""},
	}}, nil
}

func (s *Server) apiTeamInfo(r *apiRequest) (obj, error) {
	return obj{"team": obj{
		"id": s.opts.TeamID, "name": s.opts.TeamDomain, "domain": s.opts.TeamDomain,
		"email_domain": "", "icon": obj{"image_default": true},
	}}, nil
}
