package proxy

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestHugeUpstreamRetryAfterIsPassedOnBounded: an upstream's absurd Retry-After reaches the
// client as a positive number of seconds, not an overflowed negative one.
func TestHugeUpstreamRetryAfterIsPassedOnBounded(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1e300")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"message":"slow down","type":"rate_limit_reached_error"}}`))
	}))
	defer up.Close()
	p := startProxy(t, &Config{Deployments: []Deployment{{ModelName: "kimi", Model: "kimi-k2-turbo-preview", APIKey: upstreamKey, APIBase: up.URL}}}, Options{})
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Fatalf("Retry-After %q passed on, want a positive number of seconds", resp.Header.Get("Retry-After"))
	}
}
