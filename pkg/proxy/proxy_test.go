package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

func TestExampleConfigServes(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	cfg, err := LoadConfig(filepath.Join("testdata", "litellm-moonshot.yaml"),
		LoadOptions{Getenv: envMap("MOONSHOT_API_KEY", upstreamKey, "MOONSHOT_API_BASE", up.URL)})
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, cfg, Options{})
	for _, model := range []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"} {
		resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON(model, ""))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, resp.StatusCode, b)
		}
		var out moonshot.ChatCompletion
		if err := json.Unmarshal(b, &out); err != nil || out.Model != model || !strings.Contains(out.Choices[0].Message.Content, "hello") {
			t.Fatalf("%s: %v %s", model, err, b)
		}
	}
	reqs := up.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	for i, r := range reqs {
		if r.Header.Get("Authorization") != "Bearer "+upstreamKey || r.JSON()["model"] != cfg.Deployments[i].Model {
			t.Errorf("upstream request %d: %v %v", i, r.Header.Get("Authorization"), r.JSON()["model"])
		}
	}
	// /models and /v1/models both list the three names.
	for _, path := range []string{"/models", "/v1/models"} {
		resp, b := p.do(t, "GET", path, "")
		var list struct {
			Object string        `json:"object"`
			Data   []modelObject `json:"data"`
		}
		if err := json.Unmarshal(b, &list); err != nil || resp.StatusCode != 200 || list.Object != "list" || len(list.Data) != 3 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		for i, m := range list.Data {
			if m.ID != cfg.Deployments[i].ModelName || m.Object != "model" || m.OwnedBy != "moonshot" || m.Created == 0 {
				t.Errorf("%s: %+v", path, m)
			}
		}
	}
}

func TestAuth(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi-k2.6", "kimi-k2.6", up)}, MasterKey: masterKey}, Options{})
	chat := chatJSON("kimi-k2.6", "")
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		message                  string
	}{
		{"no key", "POST", "/v1/chat/completions", chat, nil, 401, "Missing API key"},
		{"wrong key", "POST", "/v1/chat/completions", chat, []string{"Authorization", "Bearer sk-wrong"}, 401, "Incorrect API key"},
		{"key without Bearer", "POST", "/v1/chat/completions", chat, []string{"Authorization", masterKey}, 401, "Missing API key"},
		{"wrong x-api-key", "GET", "/v1/models", "", []string{"x-api-key", "sk-wrong"}, 401, "Incorrect API key"},
		{"models need the key", "GET", "/models", "", nil, 401, "Missing API key"},
		{"unknown routes need the key", "GET", "/v1/nothing", "", nil, 401, "Missing API key"},
		{"empty bearer", "POST", "/v1/chat/completions", chat, []string{"Authorization", "Bearer "}, 401, "Missing API key"},
		{"bearer", "POST", "/v1/chat/completions", chat, []string{"Authorization", "Bearer " + masterKey}, 200, ""},
		{"bearer in lower case", "GET", "/v1/models", "", []string{"Authorization", "bearer " + masterKey}, 200, ""},
		{"x-api-key", "POST", "/chat/completions", chat, []string{"x-api-key", masterKey}, 200, ""},
		{"models with key", "GET", "/v1/models", "", []string{"Authorization", "Bearer " + masterKey}, 200, ""},
		{"liveliness without key", "GET", "/health/liveliness", "", nil, 200, ""},
		{"readiness without key", "GET", "/health/readiness", "", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := p.do(t, tt.method, tt.path, tt.body, tt.headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.status == 401 {
				e := openAIError(t, b)
				if !strings.Contains(e.Error.Message, tt.message) || string(e.Error.Code) != `"invalid_api_key"` ||
					resp.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("401 body %s", b)
				}
				if bytes.Contains(b, []byte("sk-wrong")) || bytes.Contains(b, []byte(masterKey)) {
					t.Fatalf("a key is echoed: %s", b)
				}
			}
		})
	}
	if logs := p.logs.String(); strings.Contains(logs, masterKey) || strings.Contains(logs, upstreamKey) || strings.Contains(logs, "sk-wrong") {
		t.Fatalf("a key reached the log:\n%s", logs)
	}
	_, b := p.do(t, "GET", "/health/readiness", "")
	if !strings.Contains(string(b), `"deployments":1`) {
		t.Fatalf("readiness %s", b)
	}
}

func TestRoutesAndErrors(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{
		deploy("kimi-k2.6", "kimi-k2.6", up),
		deploy("retired", "moonshot-v1-retired", up), // the emulator does not know it
	}}, Options{MaxBodyBytes: 1 << 10})
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // in the error message
		code                     string // raw JSON of error.code
	}{
		{"unknown route", "GET", "/v1/embeddings", "", 404, "Invalid URL (GET /v1/embeddings)", "null"},
		{"unknown model", "POST", "/v1/chat/completions", chatJSON("gpt-4o", ""), 404, "The model `gpt-4o` does not exist", `"model_not_found"`},
		{"model get unknown", "GET", "/v1/models/gpt-4o", "", 404, "does not exist", `"model_not_found"`},
		{"no model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 400, "you must provide a model parameter", "null"},
		{"not JSON", "POST", "/v1/chat/completions", `{"model":`, 400, "could not parse the JSON body", "null"},
		{"GET on chat", "GET", "/v1/chat/completions", "", 405, "use POST", "null"},
		{"POST on models", "POST", "/v1/models", "{}", 405, "use GET", "null"},
		{"too large", "POST", "/v1/chat/completions", chatJSON("kimi-k2.6", `,"pad":"`+strings.Repeat("x", 2000)+`"`), 413, "larger than the proxy's limit", `"request_too_large"`},
		{"invalid for every fix", "POST", "/v1/chat/completions", chatJSON("kimi-k2.6", `,"stop":["a","b","c","d","e","f"]`), 400, "at most 5 stop strings", "null"},
		{"Moonshot's 404 passes through", "POST", "/v1/chat/completions", chatJSON("retired", ""), 404, "Not found the model moonshot-v1-retired", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.Reset()
			resp, b := p.do(t, tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			e := openAIError(t, b)
			if !strings.Contains(e.Error.Message, tt.want) || string(e.Error.Code) != tt.code {
				t.Fatalf("error %s", b)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
			if tt.name != "Moonshot's 404 passes through" {
				if n := len(up.ChatBodies()); n != 0 {
					t.Fatalf("%d upstream requests for a request refused locally", n)
				}
			}
		})
	}
	resp, b := p.do(t, "GET", "/models/kimi-k2.6", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"kimi-k2.6"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestClientCannotChooseUpstream(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi-k2.6", "kimi-k2.6", up)}}, Options{})
	for _, field := range []string{"api_base", "base_url", "api_key"} {
		resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-k2.6", `,"`+field+`":"http://attacker.example/v1"`))
		e := openAIError(t, b)
		if resp.StatusCode != 400 || string(e.Error.Param) != `"`+field+`"` || !strings.Contains(e.Error.Message, field) {
			t.Fatalf("%s: %d %s", field, resp.StatusCode, b)
		}
	}
	if len(up.Requests()) != 0 {
		t.Fatal("a refused request reached the upstream")
	}
}

func TestAdjustmentsHeaderAndLog(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi-k2-turbo-preview", "kimi-k2-turbo-preview", up)}}, Options{})
	tools := `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"required"`
	for _, stream := range []string{"", `,"stream":true`} {
		up.Reset()
		resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-k2-turbo-preview", `,"temperature":1.5`+tools+stream))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		hdr := resp.Header.Get("X-Moonchat-Adjustments")
		parts := strings.Split(hdr, "; ")
		if len(parts) != 2 {
			t.Fatalf("header %q", hdr)
		}
		if parts[0] != "temperature 1.5 -> 1 (Moonshot accepts 0-1)" {
			t.Errorf("first adjustment %q", parts[0])
		}
		second, err := url.PathUnescape(parts[1])
		if err != nil || !strings.HasPrefix(second, `tool_choice "required" dropped (Moonshot does not support tool_choice "required" on kimi-k2-turbo-preview; a user message`) {
			t.Errorf("second adjustment %q (%v)", second, err)
		}
		body := up.ChatBodies()[0]
		msgs := body["messages"].([]any)
		if body["temperature"] != 1.0 || body["tool_choice"] != nil || msgs[len(msgs)-1].(map[string]any)["content"] != moonshot.RequiredToolMessage {
			t.Errorf("upstream body %v", body)
		}
		if resp.Header.Get("Msh-Request-Id") == "" || resp.Header.Get("X-Moonchat-Upstream-Model") != "kimi-k2-turbo-preview" {
			t.Errorf("headers %v", resp.Header)
		}
	}
	if logs := p.logs.String(); strings.Count(logs, `adjustments="temperature 1.5 → 1 (Moonshot accepts 0–1); tool_choice`) != 2 {
		t.Fatalf("adjustments not logged:\n%s", logs)
	}
}

func TestAdjustmentsHeaderEncoding(t *testing.T) {
	got := AdjustmentsHeader([]moonshot.Adjustment{
		{Param: "temperature", From: 1.5, To: 1.0, Reason: "Moonshot accepts 0–1"},
		{Param: "x", From: "a;b%c\n界", Reason: "r"},
	})
	want := `temperature 1.5 -> 1 (Moonshot accepts 0-1); x "a%3Bb%25c\n%E7%95%8C" dropped (r)`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestDefaultsAndDropParams(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	temp, maxTok := 0.2, 100
	d := deploy("kimi-k2-turbo-preview", "kimi-k2-turbo-preview", up)
	d.Defaults = Defaults{Temperature: &temp, MaxTokens: &maxTok, Stop: []string{"END"}}
	fast := deploy("kimi-fast", "kimi-k2.6", up)
	fast.Defaults.Thinking = &moonshot.Thinking{Type: "disabled"}
	p := startProxy(t, &Config{Deployments: []Deployment{d, fast}, DropParams: true}, Options{})

	// Defaults fill what the client left out; unknown fields are dropped and reported.
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-k2-turbo-preview", `,"seed":7,"user":"u1"`))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	body := up.ChatBodies()[0]
	if body["temperature"] != 0.2 || body["max_tokens"] != 100.0 || body["stop"].([]any)[0] != "END" || body["seed"] != nil || body["user"] != nil {
		t.Fatalf("upstream body %v", body)
	}
	if hdr := resp.Header.Get("X-Moonchat-Adjustments"); hdr != `seed 7 dropped (not a Moonshot parameter (drop_params)); user "u1" dropped (not a Moonshot parameter (drop_params))` {
		t.Fatalf("header %q", hdr)
	}
	// The client's values win; max_completion_tokens counts as a budget too; drop_params per request.
	up.Reset()
	p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-k2-turbo-preview", `,"temperature":0.7,"max_completion_tokens":50,"seed":7,"drop_params":false`))
	body = up.ChatBodies()[0]
	if body["temperature"] != 0.7 || body["max_tokens"] != 50.0 || body["seed"] != 7.0 || body["drop_params"] != nil {
		t.Fatalf("upstream body %v", body)
	}
	// A thinking default makes an alias of the same model.
	up.Reset()
	resp, b = p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-fast", ""))
	if resp.StatusCode != 200 || up.ChatBodies()[0]["thinking"].(map[string]any)["type"] != "disabled" {
		t.Fatalf("%d %s %v", resp.StatusCode, b, up.ChatBodies())
	}
}

func TestAliasGetsItsOwnName(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("gpt-4o", "kimi-k2-turbo-preview", up)}}, Options{})
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("gpt-4o", ""))
	var out moonshot.ChatCompletion
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 || out.Model != "gpt-4o" || out.Choices[0].Message.Content == "" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Moonchat-Upstream-Model") != "kimi-k2-turbo-preview" || up.ChatBodies()[0]["model"] != "kimi-k2-turbo-preview" {
		t.Fatal("upstream model")
	}
	resp, b = p.do(t, "POST", "/v1/chat/completions", chatJSON("gpt-4o", `,"stream":true`))
	events := sse(t, b)
	if resp.StatusCode != 200 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	for _, e := range events[:len(events)-1] {
		var c moonshot.ChatCompletionChunk
		if err := json.Unmarshal([]byte(e), &c); err != nil || c.Model != "gpt-4o" {
			t.Fatalf("chunk %s", e)
		}
	}
}

func TestRewriteModel(t *testing.T) {
	g := &group{modelField: []byte(`"model":"alias"`)}
	for in, want := range map[string]string{
		`{"id":"1","model":"kimi-k2.6","choices":[]}`:                       `{"id":"1","model":"alias","choices":[]}`,
		`{"choices":[{"delta":{"content":"\"model\":\"x\""}}],"model":"k"}`: `{"choices":[{"delta":{"content":"\"model\":\"x\""}}],"model":"alias"}`,
		`{"id": "1", "model": "kimi-k2.6"}`:                                 `{"id":"1","model":"alias"}`,
		`{"id":"1"}`:                                                        `{"id":"1"}`,
		`not json`:                                                          `not json`,
	} {
		var scratch []byte
		if got := string(g.rewriteModel([]byte(in), &scratch)); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestStreamRelaysEveryEventUnchanged(t *testing.T) {
	// Two identical emulators answer identically (their ids follow the request count), so the
	// proxied stream must be byte for byte the direct one.
	reply := func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "Streaming relays every chunk, in order, as it arrives: 界 ✓.", Reasoning: "think first"}
	}
	direct := startUpstream(t, emulator.Config{Reply: reply, ChunkSize: 4})
	behind := startUpstream(t, emulator.Config{Reply: reply, ChunkSize: 4})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi-k2.6", "kimi-k2.6", behind)}}, Options{})
	body := chatJSON("kimi-k2.6", `,"stream":true,"stream_options":{"include_usage":true}`)

	req, _ := http.NewRequest("POST", direct.URL+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+upstreamKey)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(dresp.Body)
	dresp.Body.Close()

	resp, got := p.do(t, "POST", "/v1/chat/completions", body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("proxied stream differs:\n%s\ndirect:\n%s", got, want)
	}
	if n := len(sse(t, got)); n < 20 {
		t.Fatalf("only %d events", n)
	}
}

// stripStreamOptions plays an upstream that never sends the top-level usage chunk (Moonshot
// before it supported include_usage): it removes stream_options before the emulator sees them.
func stripStreamOptions(up *emulator.Server) http.Handler {
	target, _ := url.Parse(up.URL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		delete(body, "stream_options")
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.Scheme+"://"+target.Host+r.URL.Path, bytes.NewReader(b))
		req.Header = r.Header.Clone()
		req.ContentLength = int64(len(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			_, _ = w.Write(buf[:n])
			w.(http.Flusher).Flush()
			if err != nil {
				return
			}
		}
	})
}

func TestIncludeUsageChunk(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	old := newServer(t, stripStreamOptions(up))
	p := startProxy(t, &Config{Deployments: []Deployment{
		deploy("native", "kimi-k2.6", up),
		{ModelName: "old", Model: "kimi-k2.6", APIKey: upstreamKey, APIBase: old + "/v1"},
	}}, Options{})
	topLevel := func(events []string) (n int, last moonshot.ChatCompletionChunk) {
		for _, e := range events[:len(events)-1] {
			var c moonshot.ChatCompletionChunk
			if err := json.Unmarshal([]byte(e), &c); err != nil {
				t.Fatalf("%s: %v", e, err)
			}
			if c.Usage != nil {
				n++
				last = c
			}
		}
		return n, last
	}
	for _, model := range []string{"old", "native"} {
		_, b := p.do(t, "POST", "/v1/chat/completions", chatJSON(model, `,"stream":true,"stream_options":{"include_usage":true}`))
		events := sse(t, b)
		n, c := topLevel(events)
		if n != 1 || len(c.Choices) != 0 || c.Usage.PromptTokens == 0 || c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens ||
			events[len(events)-2] != mustJSON(t, events[len(events)-2]) || events[len(events)-1] != "[DONE]" {
			t.Fatalf("%s: %d top-level usage chunks, last %+v\n%s", model, n, c, b)
		}
		if c.Model != model && model == "old" {
			t.Fatalf("synthesized chunk names %q", c.Model)
		}
	}
	// Without include_usage nothing is added.
	_, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("old", `,"stream":true`))
	if n, _ := topLevel(sse(t, b)); n != 0 {
		t.Fatalf("usage chunk added without include_usage:\n%s", b)
	}
	if !strings.Contains(p.logs.String(), "prompt_tokens=") {
		t.Fatalf("tokens not logged:\n%s", p.logs.String())
	}
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	if !json.Valid([]byte(s)) {
		t.Fatalf("not JSON: %s", s)
	}
	return s
}

func TestInStreamFailureEndsWithErrorEvent(t *testing.T) {
	up := startUpstream(t, emulator.Config{Reply: func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: strings.Repeat("0123456789abcdef", 8)}
	}})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi-k2-turbo-preview", "kimi-k2-turbo-preview", up)}}, Options{})
	for _, tc := range []struct {
		fault     emulator.FaultKind
		typ, text string
	}{
		{emulator.StreamError, "server_error", "emulated fault"},
		{emulator.CutStream, "incomplete_stream", "the answer is incomplete"},
	} {
		up.Inject(emulator.Fault{Kind: tc.fault, AfterChunks: 3})
		resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi-k2-turbo-preview", `,"stream":true`))
		events := sse(t, b)
		if resp.StatusCode != 200 || len(events) != 5 { // role chunk, 3 chunks, the error
			t.Fatalf("%v: %d, %d events:\n%s", tc.fault, resp.StatusCode, len(events), b)
		}
		e := openAIError(t, []byte(events[4]))
		if e.Error.Type != tc.typ || !strings.Contains(e.Error.Message, tc.text) || slices.Contains(events, "[DONE]") {
			t.Fatalf("%v: last event %s", tc.fault, events[4])
		}
	}
	if logs := p.logs.String(); strings.Count(logs, "level=WARN msg=request") != 2 {
		t.Fatalf("failed streams not logged as warnings:\n%s", logs)
	}
}

func TestRoundRobinAndFailover(t *testing.T) {
	a := startUpstream(t, emulator.Config{})
	b := startUpstream(t, emulator.Config{})
	cfg := &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2-turbo-preview", a), deploy("kimi", "kimi-k2-turbo-preview", b)}, NumRetries: 2}
	clock := newFakeClock()
	p := startProxy(t, cfg, Options{Now: clock.Now})
	count := func() (int, int) { return len(a.ChatBodies()), len(b.ChatBodies()) }
	// Each case starts a minute later: the failure of the one before has no cooldown left.
	reset := func() { a.Reset(); b.Reset(); clock.Advance(time.Minute) }

	for i := 0; i < 4; i++ {
		if resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if na, nb := count(); na != 2 || nb != 2 {
		t.Fatalf("round robin: %d and %d requests", na, nb)
	}

	faults := []struct {
		name  string
		fault emulator.Fault
	}{
		{"429 rate limit", emulator.Fault{Kind: emulator.RateLimit}},
		{"overload", emulator.Fault{Kind: emulator.Overload}},
		{"quota", emulator.Fault{Kind: emulator.Quota}},
		{"503", emulator.Fault{Kind: emulator.ServerError, Status: 503}},
		// Only without streaming: a stream's first event (Moonshot's role chunk) comes before
		// the cut, so the client has it and the stream ends with an error event instead.
		{"connection dropped", emulator.Fault{Kind: emulator.CutStream}},
	}
	for _, f := range faults {
		for _, stream := range []bool{false, true} {
			if stream && f.fault.Kind == emulator.CutStream {
				continue
			}
			reset()
			// The next request goes to a (the rotation is back at the start): it fails there.
			a.Inject(f.fault)
			extra := ""
			if stream {
				extra = `,"stream":true`
			}
			resp, body := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", extra))
			if resp.StatusCode != 200 || (stream && !strings.HasSuffix(string(body), "data: [DONE]\n\n")) {
				t.Fatalf("%s (stream %v): %d %s", f.name, stream, resp.StatusCode, body)
			}
			if na, nb := count(); na != 1 || nb != 1 {
				t.Fatalf("%s (stream %v): %d and %d requests", f.name, stream, na, nb)
			}
			p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")) // keep a first
		}
	}
	if !strings.Contains(p.logs.String(), "upstream failed; trying again") {
		t.Fatalf("failover not logged:\n%s", p.logs.String())
	}
}

func TestFailoverToUnreachableAndBack(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	gone := startUpstream(t, emulator.Config{})
	gone.Close() // nothing listens there any more
	cfg := &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2-turbo-preview", gone), deploy("kimi", "kimi-k2-turbo-preview", up)}, NumRetries: 1}
	p := startProxy(t, cfg, Options{})
	for i := 0; i < 2; i++ {
		if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	}
	if n := len(up.ChatBodies()); n != 2 {
		t.Fatalf("%d requests reached the live upstream", n)
	}
}

func TestStreamFailingBeforeItsFirstEventFailsOver(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	// An upstream that accepts the stream and closes it without a single event.
	empty := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
	}))
	cfg := &Config{Deployments: []Deployment{
		{ModelName: "kimi", Model: "kimi-k2-turbo-preview", APIKey: upstreamKey, APIBase: empty + "/v1"},
		deploy("kimi", "kimi-k2-turbo-preview", up),
	}, NumRetries: 1}
	p := startProxy(t, cfg, Options{})
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"stream":true`))
	if events := sse(t, b); resp.StatusCode != 200 || events[len(events)-1] != "[DONE]" || len(up.ChatBodies()) != 1 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestRetriesOneDeploymentWithBackoff(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2-turbo-preview", up)}, NumRetries: 2}, Options{})

	up.Inject(emulator.Fault{Kind: emulator.Overload, Times: 2})
	if resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", "")); resp.StatusCode != 200 || len(up.ChatBodies()) != 3 {
		t.Fatalf("%d %s after %d requests", resp.StatusCode, b, len(up.ChatBodies()))
	}

	// Out of retries: the last error passes through with its status and type.
	up.Reset()
	up.Inject(emulator.Fault{Kind: emulator.ServerError, Status: 503, Times: 3})
	resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	if e := openAIError(t, b); resp.StatusCode != 503 || e.Error.Type != "server_error" || len(up.ChatBodies()) != 3 {
		t.Fatalf("%d %s after %d requests", resp.StatusCode, b, len(up.ChatBodies()))
	}

	// A server that asks for a longer wait than the proxy holds a client: answered at once.
	up.Reset()
	up.Inject(emulator.Fault{Kind: emulator.RateLimit, RetryAfter: 60})
	resp, b = p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
	if e := openAIError(t, b); resp.StatusCode != 429 || e.Error.Type != "rate_limit_reached_error" || resp.Header.Get("Retry-After") != "60" || len(up.ChatBodies()) != 1 {
		t.Fatalf("%d %v %s after %d requests", resp.StatusCode, resp.Header, b, len(up.ChatBodies()))
	}

	// Quota is never retried on the same deployment; a 400 is never retried at all.
	for _, f := range []emulator.Fault{{Kind: emulator.Quota}} {
		up.Reset()
		up.Inject(f)
		resp, b := p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", ""))
		if resp.StatusCode != 429 || len(up.ChatBodies()) != 1 {
			t.Fatalf("%d %s after %d requests", resp.StatusCode, b, len(up.ChatBodies()))
		}
	}
	up.Reset()
	resp, b = p.do(t, "POST", "/v1/chat/completions", chatJSON("kimi", `,"max_tokens":300000`))
	if resp.StatusCode != 400 || len(up.ChatBodies()) != 1 || !strings.Contains(string(b), "token limit") {
		t.Fatalf("%d %s after %d requests", resp.StatusCode, b, len(up.ChatBodies()))
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	up := startUpstream(t, emulator.Config{})
	p := startProxy(t, &Config{Deployments: []Deployment{deploy("kimi", "kimi-k2-turbo-preview", up)}}, Options{})

	t.Run("waiting for an answer", func(t *testing.T) {
		up.Reset()
		up.Inject(emulator.Fault{Kind: emulator.Hang})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", p.srv.URL+"/v1/chat/completions", strings.NewReader(chatJSON("kimi", "")))
			resp, err := p.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		if err := up.WaitRequests(waitCtx(t), 1); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("client: %v", err)
		}
		if err := up.WaitCanceled(waitCtx(t), 1); err != nil {
			t.Fatalf("the upstream request was not canceled: %v", err)
		}
	})

	t.Run("in the middle of a stream", func(t *testing.T) {
		up.Reset()
		up.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 1 << 40})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", p.srv.URL+"/v1/chat/completions", strings.NewReader(chatJSON("kimi", `,"stream":true`)))
		resp, err := p.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 6)
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "data: " {
			t.Fatalf("first event: %q %v", first, err)
		}
		cancel()
		resp.Body.Close()
		if err := up.WaitCanceled(waitCtx(t), 1); err != nil {
			t.Fatalf("the upstream stream was not canceled: %v", err)
		}
	})
}
