package main

// The bot's HTTP endpoints (/metrics, /readyz, /healthz, /backup): in this
// process through its handler, or over the network from a child process.

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// get runs a request against the bot's HTTP endpoints as a caller at from.
func (h *harness) get(path, from string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = from
	rec := httptest.NewRecorder()
	h.app.healthHandler().ServeHTTP(rec, req)
	return rec
}

// metricsText is the bot's /metrics output.
func (h *harness) metricsText() string {
	h.t.Helper()
	return h.get("/metrics", "127.0.0.1:5000").Body.String()
}

// metric reads one sample from /metrics, 0 when absent.
func (h *harness) metric(series string) float64 {
	h.t.Helper()
	v, _, err := metricIn(h.metricsText(), series)
	if err != nil {
		h.t.Fatalf("metric %s: %v", series, err)
	}
	return v
}

// metricIn reads one sample from a Prometheus text body.
func metricIn(body, series string) (v float64, found bool, err error) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(m[1], 64)
	return v, err == nil, err
}

// httpGet fetches a URL of a bot's HTTP endpoint; code is 0 when it cannot
// be reached.
func httpGet(url string) (code int, body string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricAt reads one sample from the /metrics of the bot at base (its
// http://host:port), -1 when it is absent or cannot be read.
func metricAt(base, series string) float64 {
	_, body := httpGet(base + "/metrics")
	v, found, _ := metricIn(body, series)
	if !found {
		return -1
	}
	return v
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
