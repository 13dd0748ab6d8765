package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/hostile"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// TestBadChoiceIndexWithoutStreaming: a non-streamed answer with a choice index outside the
// request's n is refused as the streamed path refuses such an event, with the same check
// (pkg/moonshot's): the client gets the upstream-error shape and 502, none of the answer, and
// the request is counted and logged as a failed one.
func TestBadChoiceIndexWithoutStreaming(t *testing.T) {
	bad := httptest.NewServer(&hostile.Server{})
	defer bad.Close()
	cases := map[string]string{hostile.NegativeIndex: "choice index -1,", hostile.HugeIndex: "choice index 3000000,"}
	var deps []Deployment
	for c := range cases {
		deps = append(deps, Deployment{ModelName: c, Model: "kimi-k2.6", APIKey: upstreamKey, APIBase: bad.URL + "/" + c + "/v1"})
	}
	p := startProxy(t, &Config{Deployments: deps, MasterKey: masterKey}, Options{})
	auth := []string{"Authorization", "Bearer " + masterKey}
	for c, mention := range cases {
		resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON(c, ""), auth...)
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: status %d, want 502: %s", c, resp.StatusCode, body)
		}
		e := openAIError(t, body)
		if e.Error.Type != moonshot.ErrTypeUnexpectedOutput || !strings.Contains(e.Error.Message, mention) {
			t.Errorf("%s: error %+v, want %s naming %q", c, e.Error, moonshot.ErrTypeUnexpectedOutput, mention)
		}
		if strings.Contains(string(body), hostile.Content) {
			t.Errorf("%s: the refused answer reached the client: %s", c, body)
		}
		// The streamed path ends the stream with the same error, after what was sent.
		_, body = p.do(t, "POST", "/v1/chat/completions", chatJSON(c, `,"stream":true`), auth...)
		events := sse(t, body)
		last := openAIError(t, []byte(events[len(events)-1]))
		if last.Error.Type != e.Error.Type || !strings.Contains(last.Error.Message, mention) {
			t.Errorf("%s: the streamed path ends with %+v, the non-streamed one with %+v", c, last.Error, e.Error)
		}
	}
	_, body := p.do(t, "GET", "/metrics", "", auth...)
	for c := range cases {
		want := `moonchat_proxy_requests_total{deployment="` + c + `#0",model="` + c + `",status="502"} 1`
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	logs := p.logs.String()
	for _, mention := range cases {
		logged := false
		for line := range strings.Lines(logs) {
			logged = logged || strings.Contains(line, "status=502") && strings.Contains(line, mention)
		}
		if !logged {
			t.Errorf("no log line shows a 502 naming %q:\n%s", mention, logs)
		}
	}
}

// TestBadChoiceIndexFailsOver: as after a 5xx, a refused answer goes to the group's next
// deployment before the client has seen anything.
func TestBadChoiceIndexFailsOver(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	bad := httptest.NewServer(&hostile.Server{})
	defer bad.Close()
	cfg := &Config{Deployments: []Deployment{
		{ModelName: "mixed", Model: "kimi-k2.6", APIKey: upstreamKey, APIBase: bad.URL + "/" + hostile.NegativeIndex + "/v1"},
		deploy("mixed", "kimi-k2.6", up),
	}, MasterKey: masterKey, NumRetries: 1}
	p := startProxy(t, cfg, Options{})
	auth := []string{"Authorization", "Bearer " + masterKey}
	// Round robin: one of the two requests starts at the bad deployment.
	for range 2 {
		resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("mixed", ""), auth...)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), hostile.Content) || strings.Contains(string(body), `"error"`) {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	_, body := p.do(t, "GET", "/metrics", "", auth...)
	if want := `moonchat_proxy_failovers_total{model="mixed"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s", want)
	}
}
