package slackfake

import (
	"encoding/json"
	"fmt"
	"time"
)

// triggerTTL is how long a trigger_id can be exchanged for a view.
const triggerTTL = 3 * time.Second

// newTriggerLocked issues a trigger_id for an interaction by userID.
func (s *Server) newTriggerLocked(userID string) string {
	s.seq++
	id := fmt.Sprintf("%d.%d.%032x", s.opts.Now().Unix(), s.seq, uint64(s.seq)*0x9E3779B97F4A7C15)
	s.triggers[id] = &trigger{created: s.wall(), user: userID}
	return id
}

// takeTriggerLocked exchanges a trigger_id: it must exist, be fresh by wall
// time and not have been exchanged before.
func (s *Server) takeTriggerLocked(id string) (*trigger, error) {
	t := s.triggers[id]
	switch {
	case id == "":
		return nil, apiError("invalid_arguments")
	case t == nil:
		return nil, apiError("invalid_trigger_id")
	case t.used:
		return nil, apiError("exchanged_trigger_id")
	case s.wall().Sub(t.created) > triggerTTL:
		return nil, apiError("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// parseViewArg decodes and validates the "view" argument.
func parseViewArg(r *apiRequest) (map[string]any, error) {
	var v map[string]any
	if json.Unmarshal([]byte(r.get("view")), &v) != nil || v == nil {
		return nil, apiError("invalid_arguments")
	}
	if t, _ := v["type"].(string); t != "modal" && t != "home" {
		return nil, apiError("invalid_arguments")
	}
	if v["blocks"] == nil {
		v["blocks"] = []any{}
	}
	if !validBlocks(mustJSON(v["blocks"])) {
		return nil, apiError("invalid_blocks")
	}
	return v, nil
}

// storeViewLocked renders a view request into the view object Slack
// returns and stores it. prev is the view it replaces or is pushed on.
func (s *Server) storeViewLocked(req map[string]any, userID string, id string, prev *view, pushed bool) *view {
	str := func(k string) string { v, _ := req[k].(string); return v }
	if id == "" {
		id = s.nextIDLocked("V")
	}
	s.seq++
	w := obj{
		"id": id, "team_id": s.opts.TeamID, "type": req["type"],
		"blocks":           json.RawMessage(normalizeBlocks(mustJSON(req["blocks"]), s.nextBlockID)),
		"private_metadata": str("private_metadata"), "callback_id": str("callback_id"),
		"state": obj{"values": obj{}}, "hash": fmt.Sprintf("%d.%08x", s.opts.Now().Unix(), s.seq),
		"clear_on_close": req["clear_on_close"] == true, "notify_on_close": req["notify_on_close"] == true,
		"close": req["close"], "submit": req["submit"], "title": req["title"],
		"previous_view_id": nil, "root_view_id": id, "app_id": s.opts.AppID,
		"external_id": str("external_id"), "app_installed_team_id": s.opts.TeamID,
		"bot_id": s.opts.BotID,
	}
	v := &view{View: View{ID: id, CallbackID: str("callback_id"), ExternalID: str("external_id"), User: userID}}
	v.stack = id
	if prev != nil {
		v.stack = prev.stack
		w["root_view_id"] = prev.stack
		if pushed {
			w["previous_view_id"] = prev.ID
		} else {
			w["previous_view_id"] = prev.wire["previous_view_id"]
		}
	}
	v.wire, v.hash = w, w["hash"].(string)
	v.JSON = mustJSON(w)
	if _, exists := s.views[id]; !exists {
		s.viewOrder = append(s.viewOrder, id)
	}
	s.views[id] = v
	return v
}

func (s *Server) externalIDTakenLocked(req map[string]any) bool {
	ext, _ := req["external_id"].(string)
	if ext == "" {
		return false
	}
	for _, v := range s.views {
		if v.ExternalID == ext {
			return true
		}
	}
	return false
}

func (s *Server) apiViewsOpen(r *apiRequest) (obj, error) {
	req, err := parseViewArg(r)
	if err != nil {
		return nil, err
	}
	t, err := s.takeTriggerLocked(r.get("trigger_id"))
	if err != nil {
		return nil, err
	}
	if s.externalIDTakenLocked(req) {
		return nil, apiError("duplicate_external_id")
	}
	v := s.storeViewLocked(req, t.user, "", nil, false)
	s.publishLocked(Event{Kind: EventViewOpened, User: t.user, View: ptr(v.snapshot())})
	return obj{"view": v.wire}, nil
}

func (s *Server) apiViewsPush(r *apiRequest) (obj, error) {
	req, err := parseViewArg(r)
	if err != nil {
		return nil, err
	}
	t, err := s.takeTriggerLocked(r.get("trigger_id"))
	if err != nil {
		return nil, err
	}
	top := s.topViewLocked(t.user)
	if top == nil {
		return nil, apiError("not_found")
	}
	v := s.storeViewLocked(req, t.user, "", top, true)
	s.publishLocked(Event{Kind: EventViewOpened, User: t.user, View: ptr(v.snapshot())})
	return obj{"view": v.wire}, nil
}

// topViewLocked is the most recently opened view of a user still open.
func (s *Server) topViewLocked(userID string) *view {
	for i := len(s.viewOrder) - 1; i >= 0; i-- {
		if v := s.views[s.viewOrder[i]]; v.User == userID && !v.Closed {
			return v
		}
	}
	return nil
}

func (s *Server) apiViewsUpdate(r *apiRequest) (obj, error) {
	req, err := parseViewArg(r)
	if err != nil {
		return nil, err
	}
	var v *view
	if id := r.get("view_id"); id != "" {
		v = s.views[id]
	} else if ext := r.get("external_id"); ext != "" {
		for _, x := range s.views {
			if x.ExternalID == ext {
				v = x
			}
		}
	} else {
		return nil, apiError("invalid_arguments")
	}
	if v == nil {
		return nil, apiError("not_found")
	}
	if h := r.get("hash"); h != "" && h != v.hash {
		return nil, apiError("hash_conflict")
	}
	if _, ok := req["external_id"]; !ok && v.ExternalID != "" {
		req["external_id"] = v.ExternalID
	}
	nv := s.storeViewLocked(req, v.User, v.ID, v, false)
	nv.Closed, nv.Errors = v.Closed, nil
	s.publishLocked(Event{Kind: EventViewUpdated, User: v.User, View: ptr(nv.snapshot())})
	return obj{"view": nv.wire}, nil
}

// viewAckLocked applies the response_action of a view_submission ack.
// An empty ack closes the view; "clear" closes the whole stack; "errors"
// keeps it open and records the errors; "update" and "push" replace or
// stack a view.
func (s *Server) viewAckLocked(e *envelope, payload json.RawMessage) {
	v := s.views[e.viewID]
	if v == nil {
		return
	}
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           map[string]any    `json:"view"`
	}
	_ = json.Unmarshal(payload, &ack)
	switch ack.ResponseAction {
	case "errors":
		v.Errors = ack.Errors
		s.publishLocked(Event{Kind: EventViewErrors, User: v.User, View: ptr(v.snapshot())})
	case "update":
		if ack.View != nil {
			nv := s.storeViewLocked(ack.View, v.User, v.ID, v, false)
			s.publishLocked(Event{Kind: EventViewUpdated, User: v.User, View: ptr(nv.snapshot())})
		}
	case "push":
		if ack.View != nil {
			nv := s.storeViewLocked(ack.View, v.User, "", v, true)
			s.publishLocked(Event{Kind: EventViewOpened, User: v.User, View: ptr(nv.snapshot())})
		}
	case "clear":
		for _, x := range s.views {
			if x.stack == v.stack && !x.Closed {
				x.Closed = true
				s.publishLocked(Event{Kind: EventViewClosed, User: x.User, View: ptr(x.snapshot())})
			}
		}
	default:
		v.Closed = true
		s.publishLocked(Event{Kind: EventViewClosed, User: v.User, View: ptr(v.snapshot())})
	}
}

func (v *view) snapshot() View {
	out := v.View
	out.JSON = clone(v.JSON)
	if v.Errors != nil {
		out.Errors = map[string]string{}
		for k, x := range v.Errors {
			out.Errors[k] = x
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
