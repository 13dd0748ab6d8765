package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestLiteLLMAuthHeaders(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi-k2.6", "kimi-k2.6", up)}, MasterKey: masterKey}, Options{})
	for _, name := range []string{"api-key", "x-litellm-api-key", "x-api-key"} {
		resp, b := p.do(t, "GET", "/v1/models", "", name, masterKey)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
		resp, b = p.do(t, "GET", "/v1/models", "", name, "sk-wrong")
		if resp.StatusCode != 401 || !strings.Contains(string(b), "Incorrect API key") {
			t.Errorf("%s with a wrong key: %d %s", name, resp.StatusCode, b)
		}
	}
}

func overheadMs(t *testing.T, h http.Header) float64 {
	t.Helper()
	v := h.Get("X-Moonchat-Overhead-Ms")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		t.Fatalf("X-Moonchat-Overhead-Ms %q", v)
	}
	return f
}

func TestOverheadAndCostHeaders(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", up)}}, Options{})
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	overheadMs(t, resp.Header)
	var out moonshot.ChatCompletion
	if err := json.Unmarshal(b, &out); err != nil || out.Usage == nil {
		t.Fatalf("%v %s", err, b)
	}
	spec, _ := moonshot.LookupModel("kimi-k2.6")
	want := spec.Price.Cost(out.Usage)
	if want <= 0 {
		t.Fatal("the table has no price for kimi-k2.6: the test needs a priced model")
	}
	got, err := strconv.ParseFloat(resp.Header.Get("X-Moonchat-Response-Cost"), 64)
	if err != nil || !near(got, want) {
		t.Fatalf("X-Moonchat-Response-Cost %q, want %g", resp.Header.Get("X-Moonchat-Response-Cost"), want)
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "overhead_ms=") || !strings.Contains(logs, "response_cost=") {
		t.Fatalf("access log lacks overhead_ms or response_cost:\n%s", logs)
	}

	// A stream learns its usage at the end: the cost comes as a trailer.
	resp, b = p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"stream":true`))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	overheadMs(t, resp.Header)
	if c, err := strconv.ParseFloat(resp.Trailer.Get("X-Moonchat-Response-Cost"), 64); err != nil || c <= 0 {
		t.Fatalf("stream cost trailer %q (trailers %v)", resp.Trailer.Get("X-Moonchat-Response-Cost"), resp.Trailer)
	}

	// Errors carry the overhead too; no usage, no cost.
	resp, _ = p.do(t, "POST", "/v1/chat/completions", chatJSON("nope", ""))
	if resp.StatusCode != 404 || resp.Header.Get("X-Moonchat-Response-Cost") != "" {
		t.Fatalf("%d cost %q", resp.StatusCode, resp.Header.Get("X-Moonchat-Response-Cost"))
	}
	overheadMs(t, resp.Header)
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9+1e-6*b
}

func TestHealthChecksEveryDeployment(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	down := startUpstream(t, emulator.Config{})
	downURL := down.URL
	down.Close()
	bad := deploy("kimi", "kimi-k2.6", up)
	bad.APIBase = downURL
	missing := deploy("ghost", "kimi-ghost", up) // the key's list does not have it
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", up), bad, missing}, MasterKey: masterKey}, Options{})
	if resp, _ := p.do(t, "GET", "/health", ""); resp.StatusCode != 401 {
		t.Fatalf("/health without the key: %d", resp.StatusCode)
	}
	resp, b := p.do(t, "GET", "/health", "", "Authorization", "Bearer "+masterKey)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var h struct {
		Healthy   []map[string]any `json:"healthy_endpoints"`
		Unhealthy []map[string]any `json:"unhealthy_endpoints"`
		HC        int              `json:"healthy_count"`
		UC        int              `json:"unhealthy_count"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.HC != 1 || h.UC != 2 || len(h.Healthy) != 1 || len(h.Unhealthy) != 2 {
		t.Fatalf("health %s", b)
	}
	if h.Healthy[0]["model"] != "moonshot/kimi-k2.6" || h.Healthy[0]["api_base"] != up.URL {
		t.Fatalf("healthy %v", h.Healthy[0])
	}
	for _, u := range h.Unhealthy {
		if e, _ := u["error"].(string); e == "" {
			t.Fatalf("unhealthy without a reason: %v", u)
		}
	}
	if !strings.Contains(string(b), "kimi-ghost") || strings.Contains(string(b), upstreamKey) {
		t.Fatalf("health %s", b)
	}
	n := 0
	for _, r := range up.Requests() {
		if r.Path == "/v1/models" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d GET /models on the live upstream, want 2 (one per deployment)", n)
	}
}

func TestModelInfo(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	in := 0.000002
	d := deploy("cheap", "kimi-k2.6", up)
	d.InputCostPerToken = &in
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", up), d}}, Options{})
	for _, path := range []string{"/model/info", "/v1/model/info"} {
		resp, b := p.do(t, "GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		var info struct {
			Data []struct {
				ModelName     string         `json:"model_name"`
				LiteLLMParams map[string]any `json:"litellm_params"`
				ModelInfo     map[string]any `json:"model_info"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &info); err != nil || len(info.Data) != 2 {
			t.Fatalf("%v %s", err, b)
		}
		spec, _ := moonshot.LookupModel("kimi-k2.6")
		first := info.Data[0]
		if first.ModelName != "kimi" || first.LiteLLMParams["model"] != "moonshot/kimi-k2.6" || first.ModelInfo["litellm_provider"] != "moonshot" ||
			first.ModelInfo["max_input_tokens"] != float64(spec.Context) || !near(first.ModelInfo["input_cost_per_token"].(float64), spec.Price.Input/1e6) ||
			first.ModelInfo["supports_vision"] != spec.Vision {
			t.Fatalf("%s: %+v", path, first)
		}
		if got := info.Data[1].ModelInfo["input_cost_per_token"]; got != in {
			t.Fatalf("override: input_cost_per_token %v", got)
		}
		if _, ok := first.LiteLLMParams["api_key"]; ok || strings.Contains(string(b), upstreamKey) {
			t.Fatalf("a key in /model/info: %s", b)
		}
	}
}
