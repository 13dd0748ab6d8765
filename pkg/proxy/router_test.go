package proxy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
)

func TestRPMIsEnforcedPerDeployment(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	da, db := deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)
	da.RPM, db.RPM = 2, 1
	clock := newFakeClock()
	clock.Advance(15 * time.Second) // 45 s left in the minute
	p := startProxy(t, &Config{Deployments: []Deployment{da, db}}, Options{Now: clock.Now})
	for i := range 3 {
		if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if na, nb := len(a.ChatBodies()), len(b.ChatBodies()); na != 2 || nb != 1 {
		t.Fatalf("%d and %d requests, want 2 and 1 (each deployment's rpm)", na, nb)
	}
	resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	e := openAIError(t, body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "45" || string(e.Error.Code) != `"no_deployment_available"` {
		t.Fatalf("all at their limit: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := len(a.ChatBodies()) + len(b.ChatBodies()); n != 3 {
		t.Fatalf("%d upstream requests: the 429 must not reach an upstream", n)
	}
	clock.Advance(45 * time.Second) // a new minute
	if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
		t.Fatalf("next minute: %d %s", resp.StatusCode, b)
	}
}

func TestTPMIsEnforced(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	d := deploy("kimi", "kimi-k2.6", up)
	d.TPM = 1 // the first answer uses it up
	clock := newFakeClock()
	p := startProxy(t, &Config{Deployments: []Deployment{d}}, Options{Now: clock.Now})
	for _, stream := range []string{"", `,"stream":true`} {
		if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", stream)); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", stream)); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
			t.Fatalf("over tpm: %d %s", resp.StatusCode, b)
		}
		clock.Advance(time.Minute)
	}
}

func TestCooldownTakesAFailingDeploymentOut(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	clock := newFakeClock()
	cfg := &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)}, NumRetries: 2, AllowedFails: 1, CooldownTime: 30 * time.Second}
	p := startProxy(t, cfg, Options{Now: clock.Now})
	send := func() {
		t.Helper()
		if resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	// Two 500s on a within the minute: more than allowed_fails (1), so a cools down.
	for range 2 {
		a.Inject(emulator.Fault{Kind: emulator.ServerError})
		send() // a fails, b answers
		send() // b's turn
	}
	a.Reset()
	b.Reset()
	for range 4 {
		send()
	}
	if na, nb := len(a.ChatBodies()), len(b.ChatBodies()); na != 0 || nb != 4 {
		t.Fatalf("during the cooldown: %d and %d requests", na, nb)
	}
	if !strings.Contains(p.logs.String(), "deployment cooling down") || !strings.Contains(p.logs.String(), "deployment=kimi#0") {
		t.Fatalf("cooldown not logged:\n%s", p.logs.String())
	}
	clock.Advance(31 * time.Second)
	for range 4 {
		send()
	}
	if na := len(a.ChatBodies()); na != 2 {
		t.Fatalf("after the cooldown a got %d of 4 requests", na)
	}
}

func TestRateLimitCoolsDownAtOnceButNotALoneDeployment(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	clock := newFakeClock()
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b), deploy("solo", "kimi-k2.6", a)}, NumRetries: 1}, Options{Now: clock.Now})
	a.Inject(emulator.Fault{Kind: emulator.RateLimit})
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	a.Reset()
	for range 3 {
		p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	}
	if n := len(a.ChatBodies()); n != 0 {
		t.Fatalf("a 429 did not cool the deployment down: %d requests", n)
	}
	// "solo" shares a's upstream but is its group's only deployment: a 429 is passed on and
	// the next request still goes to it.
	a.Inject(emulator.Fault{Kind: emulator.RateLimit})
	a.Inject(emulator.Fault{Kind: emulator.RateLimit}) // and its retry
	if resp, _ := p.do(t, "POST", "/v1/chat/completions", chatJSON("solo", "")); resp.StatusCode != 429 {
		t.Fatalf("solo: %d", resp.StatusCode)
	}
	if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("solo", "")); resp.StatusCode != 200 {
		t.Fatalf("solo after its 429: %d %s", resp.StatusCode, b)
	}
}

func TestContextWindowFallbacks(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	cfg := &Config{
		Deployments: []Deployment{
			deploy("moonshot-v1-8k", "moonshot-v1-8k", up), deploy("moonshot-v1-32k", "moonshot-v1-32k", up), deploy("moonshot-v1-128k", "moonshot-v1-128k", up),
		},
		ContextWindowFallbacks: map[string][]string{"moonshot-v1-8k": {"moonshot-v1-32k", "moonshot-v1-128k"}},
	}
	p := startProxy(t, cfg, Options{})
	long := strings.Repeat("lorem ipsum dolor sit amet ", 3000) // more than 8k tokens, less than 32k
	body, _ := json.Marshal(map[string]any{"model": "moonshot-v1-8k", "messages": []map[string]string{{"role": "user", "content": long}}})
	for _, stream := range []bool{false, true} {
		up.Reset()
		req := string(body)
		if stream {
			req = strings.TrimSuffix(req, "}") + `,"stream":true}`
		}
		resp, b := p.do(t, "POST", "/v1/chat/completions", req)
		if resp.StatusCode != 200 || resp.Header.Get(FallbackHeader) != "moonshot-v1-8k -> moonshot-v1-32k" ||
			resp.Header.Get("X-Moonchat-Upstream-Model") != "moonshot-v1-32k" {
			t.Fatalf("stream %v: %d %q %.300s", stream, resp.StatusCode, resp.Header.Get(FallbackHeader), b)
		}
		if models := upstreamModels(up); strings.Join(models, ",") != "moonshot-v1-8k,moonshot-v1-32k" {
			t.Fatalf("upstream requests %v", models)
		}
	}
	if !strings.Contains(p.logs.String(), `fallback="moonshot-v1-8k -> moonshot-v1-32k"`) {
		t.Fatalf("fallback not in the access log:\n%s", p.logs.String())
	}
	// A short prompt stays on 8k; a failure that is not about the context does not fall back.
	up.Reset()
	resp, _ := p.do(t, "POST", "/v1/chat/completions", chatJSON("moonshot-v1-8k", ""))
	if resp.StatusCode != 200 || resp.Header.Get(FallbackHeader) != "" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get(FallbackHeader))
	}
	up.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 500})
	if resp, _ := p.do(t, "POST", "/v1/chat/completions", chatJSON("moonshot-v1-8k", "")); resp.StatusCode != 500 || resp.Header.Get(FallbackHeader) != "" {
		t.Fatalf("a 500 used a context-window fallback: %d", resp.StatusCode)
	}
}

func upstreamModels(s *emulator.Server) []string {
	var out []string
	for _, r := range s.ChatBodies() {
		m, _ := r["model"].(string)
		out = append(out, m)
	}
	return out
}

func TestFallbacksWhenAGroupFails(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	cfg := &Config{Deployments: []Deployment{deploy("main", "kimi-k2.6", a), deploy("backup", "kimi-k2-turbo-preview", b)},
		Fallbacks: map[string][]string{"main": {"backup"}}}
	p := startProxy(t, cfg, Options{})
	a.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 503})
	a.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 503})
	a.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 503})
	resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("main", ""))
	if resp.StatusCode != 200 || resp.Header.Get(FallbackHeader) != "main -> backup" || !strings.Contains(string(body), `"model":"backup"`) {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get(FallbackHeader), body)
	}
	// A 400 is the request's fault: no fallback.
	resp, _ = p.do(t, "POST", "/v1/chat/completions", chatJSON("main", `,"stop":["a","b","c","d","e","f"]`))
	if resp.StatusCode != 400 || resp.Header.Get(FallbackHeader) != "" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get(FallbackHeader))
	}
}

func TestWeightedShuffle(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	da, db := deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)
	da.Weight, db.Weight = 1, 3
	p := startProxy(t, &Config{Deployments: []Deployment{da, db}, RoutingStrategy: SimpleShuffle}, Options{})
	const n = 400
	for range n {
		p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	}
	// b's share is 3/4: 300 expected, standard deviation 8.7; 240..360 is ±7 of them.
	if nb := len(b.ChatBodies()); nb < 240 || nb > 360 {
		t.Fatalf("b got %d of %d requests with weight 3 against 1", nb, n)
	}
}

func TestDeploymentParams(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	d := deploy("kimi", "kimi-k2-turbo-preview", up)
	seed := int64(42)
	d.Defaults.Seed = &seed
	d.AdditionalDropParams = []string{"temperature", "user"}
	d.AllowedOpenAIParams = []string{"logprobs"}
	dropAll := true
	d.DropParams = &dropAll
	p := startProxy(t, &Config{Deployments: []Deployment{d}}, Options{})
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"temperature":0.3,"user":"u1","logprobs":true,"verbosity":"low"`))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	got := up.ChatBodies()[0]
	for _, k := range []string{"temperature", "user", "verbosity"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s was sent: %v", k, got)
		}
	}
	if got["logprobs"] != true {
		t.Errorf("allowed_openai_params: %v", got)
	}
	adj := resp.Header.Get("X-Moonchat-Adjustments")
	if !strings.Contains(adj, "additional_drop_params") || !strings.Contains(adj, "verbosity") {
		t.Errorf("adjustments %q", adj)
	}

	// seed is a default like temperature: the client's own value wins.
	up.Reset()
	seeded := deploy("seeded", "kimi-k2-turbo-preview", up)
	seeded.Defaults.Seed = &seed
	p = startProxy(t, &Config{Deployments: []Deployment{seeded}}, Options{})
	p.do(t, "POST", "/v1/chat/completions", chatJSON("seeded", ""))
	p.do(t, "POST", "/v1/chat/completions", chatJSON("seeded", `,"seed":7`))
	if reqs := up.ChatBodies(); len(reqs) != 2 || reqs[0]["seed"] != float64(42) || reqs[1]["seed"] != float64(7) {
		t.Errorf("seed: %v", reqs)
	}
}

func TestTagRouting(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	da, db := deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)
	da.Tags, db.Tags = []string{"teamA"}, []string{"default"}
	p := startProxy(t, &Config{Deployments: []Deployment{da, db}}, Options{})
	for range 2 {
		p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"tags":["teamA"]`))
		p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"metadata":{"tags":["teamA"]}`))
	}
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"tags":["other"]`))
	if na, nb := len(a.ChatBodies()), len(b.ChatBodies()); na != 4 || nb != 1 {
		t.Fatalf("%d and %d requests", na, nb)
	}
	if _, ok := a.ChatBodies()[0]["tags"]; ok {
		t.Fatal("tags were sent upstream")
	}
	resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"tags":"x"`))
	if resp.StatusCode != 400 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestWildcardRouting(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	cfg := &Config{Deployments: []Deployment{
		deploy("kimi-k2.6", "kimi-k2-turbo-preview", up), // an exact name wins over the patterns
		deploy("kimi-*", "kimi-*", up),
		deploy("moonshot/*", "*", up),
		deploy("fast-*", "kimi-k2-turbo-preview", up),
	}}
	p := startProxy(t, cfg, Options{})
	for _, c := range []struct{ asked, upstream string }{
		{"kimi-k2.6", "kimi-k2-turbo-preview"},
		{"kimi-k2.5", "kimi-k2.5"},
		{"moonshot/moonshot-v1-8k", "moonshot-v1-8k"},
		{"fast-anything", "kimi-k2-turbo-preview"},
	} {
		up.Reset()
		resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON(c.asked, ""))
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"model":"`+c.asked+`"`) {
			t.Fatalf("%s: %d %s", c.asked, resp.StatusCode, b)
		}
		if m := upstreamModels(up); len(m) != 1 || m[0] != c.upstream {
			t.Fatalf("%s went upstream as %v, want %s", c.asked, m, c.upstream)
		}
	}
	for _, name := range []string{"gpt-4o", "kimi-", "moonshot/"} {
		if resp, _ := p.do(t, "POST", "/v1/chat/completions", chatJSON(name, "")); resp.StatusCode != 404 {
			t.Fatalf("%s: %d", name, resp.StatusCode)
		}
	}
	// Before the upstreams' lists are fetched, the patterns list the model table's current
	// models; after, the upstreams' (the emulator's includes retired ids it still serves).
	_, b := p.do(t, "GET", "/v1/models", "")
	if !strings.Contains(string(b), `"id":"moonshot/kimi-k3"`) || !strings.Contains(string(b), `"id":"kimi-k3"`) {
		t.Errorf("/v1/models before a refresh: %s", b)
	}
	if err := p.h.RefreshModels(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	_, b = p.do(t, "GET", "/v1/models", "")
	for _, want := range []string{`"id":"kimi-k2.6"`, `"id":"kimi-k2.5"`, `"id":"moonshot/moonshot-v1-8k"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/v1/models lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), `*`) {
		t.Errorf("/v1/models lists a pattern: %s", b)
	}
}

// TestServerWaitSetsTheCooldown: a 429 that asks for longer than cooldown_time keeps the
// deployment out for the wait it asked for, up to MaxServerCooldown, not for cooldown_time.
func TestServerWaitSetsTheCooldown(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	clock := newFakeClock()
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)}, NumRetries: 1}, Options{Now: clock.Now})
	send := func(n int) {
		t.Helper()
		for range n {
			if resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		}
	}
	// requestsToA counts the requests a gets while n are sent from now.
	requestsToA := func(n int) int {
		t.Helper()
		before := len(a.Requests())
		send(n)
		return len(a.Requests()) - before
	}
	for _, tc := range []struct {
		retryAfter int
		cooled     time.Duration
		log        string
	}{
		{120, 120 * time.Second, "cooldown=2m0s"},
		{3 * 3600, MaxServerCooldown, "cooldown=10m0s"},
	} {
		a.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: tc.retryAfter})
		if got := requestsToA(2); got != 1 { // one of the two goes to a, which refuses; b answers both
			t.Fatalf("Retry-After %d: a got %d requests", tc.retryAfter, got)
		}
		clock.Advance(tc.cooled - time.Second) // long past cooldown_time (5 s), not past the wait
		if got := requestsToA(4); got != 0 {
			t.Errorf("Retry-After %d: a got %d requests %v after its 429", tc.retryAfter, got, tc.cooled-time.Second)
		}
		clock.Advance(2 * time.Second)
		if got := requestsToA(4); got != 2 {
			t.Errorf("Retry-After %d: a got %d of 4 requests after its cooldown", tc.retryAfter, got)
		}
		if !strings.Contains(p.logs.String(), tc.log) {
			t.Errorf("the log does not say %s:\n%s", tc.log, p.logs.String())
		}
	}
}

// TestLongServerWaitSkipsOnlyThatDeployment: a deployment whose server asked for a longer wait
// than the proxy holds a client is not retried, but the others still are.
func TestLongServerWaitSkipsOnlyThatDeployment(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2.6", a), deploy("kimi", "kimi-k2.6", b)}, NumRetries: 2}, Options{})
	a.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: 60}) // the first request goes to a
	b.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 503})
	resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	if na, nb := len(a.Requests()), len(b.Requests()); resp.StatusCode != 200 || na != 1 || nb != 2 {
		t.Fatalf("%d %s; a got %d requests (want 1), b %d (want 2: its 503 is retried)", resp.StatusCode, body, na, nb)
	}
}
