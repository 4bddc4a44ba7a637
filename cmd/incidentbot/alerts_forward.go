package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/incidentbot/incidentbot/handlers/alerts"
)

// In cluster mode any node's alert receiver takes alerts (the Service
// spreads them over the pods): a follower hands the request to the leader,
// which commits it, and answers with the leader's answer. 2xx still means
// committed by a quorum.

// alertForwardKind names the forward of an alert request.
const alertForwardKind = "alert"

// alertRequest is an alert request as a follower forwards it.
type alertRequest struct {
	Path          string `json:"path"`
	Method        string `json:"method"`
	Authorization string `json:"authorization,omitempty"`
	Body          []byte `json:"body"`
	Remote        string `json:"remote"`
}

// alertReply is the leader's answer.
type alertReply struct {
	Status int    `json:"status"`
	Body   []byte `json:"body"`
}

// clusterAlerts wraps the receiver: on a follower, forward; on the leader
// (or in single-node mode), serve.
func (a *app) clusterAlerts(receiver http.Handler) http.Handler {
	if a.cluster == nil {
		return receiver
	}
	a.bot.HandleForward(alertForwardKind, func(ctx context.Context, payload []byte) ([]byte, error) {
		var ar alertRequest
		if err := json.Unmarshal(payload, &ar); err != nil {
			return nil, err
		}
		req := httptest.NewRequestWithContext(ctx, ar.Method, ar.Path, bytes.NewReader(ar.Body))
		req.RemoteAddr = ar.Remote
		if ar.Authorization != "" {
			req.Header.Set("Authorization", ar.Authorization)
		}
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		return json.Marshal(alertReply{Status: rec.Code, Body: rec.Body.Bytes()})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.bot.Leading() {
			receiver.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, alerts.MaxAlertBody+1))
		if err != nil {
			http.Error(w, `{"status":"error","error":"the body is larger than 1 MiB"}`, http.StatusRequestEntityTooLarge)
			return
		}
		payload, _ := json.Marshal(alertRequest{Path: r.URL.Path, Method: r.Method, Authorization: r.Header.Get("Authorization"),
			Body: body, Remote: r.RemoteAddr})
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		out, err := a.bot.Forward(ctx, alertForwardKind, payload)
		var rep alertReply
		if err == nil {
			err = json.Unmarshal(out, &rep)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			// Not committed (or not known to be): the sender retries.
			a.log.Warn().Err(err).Str("path", r.URL.Path).Msg("could not hand an alert to the cluster's leader")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"error","error":"no cluster leader could record the alert; retry in a few seconds"}` + "\n"))
			return
		}
		w.WriteHeader(rep.Status)
		_, _ = w.Write(rep.Body)
	})
}
