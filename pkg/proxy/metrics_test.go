package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
)

func TestMetrics(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	cfg := &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b), deploy("*", "*", a)}, MasterKey: masterKey, NumRetries: 1}
	p := startProxy(t, cfg, Options{})
	auth := []string{"Authorization", "Bearer " + masterKey}
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""), auth...)
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"stream":true,"stream_options":{"include_usage":true}`), auth...)
	a.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 503})
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""), auth...) // a fails, b answers
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-k2.5", ""), auth...)
	p.do(t, "POST", "/v1/chat/completions", chatJSON("no such model/x*", ""), auth...)

	if resp, _ := p.do(t, "GET", "/metrics", ""); resp.StatusCode != 401 {
		t.Fatalf("/metrics without the key: %d", resp.StatusCode)
	}
	resp, body := p.do(t, "GET", "/metrics", "", auth...)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	text := string(body)
	for _, want := range []string{
		`moonchat_proxy_requests_total{deployment="kimi#0",model="kimi",status="200"} 1`,
		`moonchat_proxy_requests_total{deployment="kimi#1",model="kimi",status="200"} 2`,
		`moonchat_proxy_requests_total{deployment="*#0",model="*",status="200"} 1`,
		`moonchat_proxy_retries_total{model="kimi"} 1`,
		`moonchat_proxy_failovers_total{model="kimi"} 1`,
		`moonchat_proxy_overhead_seconds_count{model="kimi"} 3`,
		`moonchat_proxy_upstream_first_byte_seconds_count{deployment="kimi#1",model="kimi"} 1`,
		`moonchat_proxy_upstream_seconds_count{deployment="kimi#0",model="kimi"} 2`,
		`moonchat_proxy_tokens_total{deployment="kimi#0",kind="prompt",model="kimi"}`,
		`moonchat_proxy_tokens_total{deployment="kimi#1",kind="completion",model="kimi"}`,
		`moonchat_proxy_cost_usd_total{deployment="kimi#0",model="kimi"}`,
		"moonchat_proxy_open_streams 0",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "no such model") || strings.Contains(text, masterKey) || strings.Contains(text, upstreamKey) {
		t.Errorf("a client's model name or a key in the metrics")
	}
	if t.Failed() {
		t.Log(text)
	}
	// The handler for a listener of its own needs no key.
	srv := newServer(t, p.h.Metrics())
	r, err := http.Get(srv)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(b2), "moonchat_proxy_requests_total") {
		t.Fatalf("Metrics(): %d", r.StatusCode)
	}
}
