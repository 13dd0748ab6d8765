package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-test-key"

// start serves an emulator on loopback for one test, with testKey unless cfg names a key.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	return StartTB(t, cfg)
}

// do sends one request with the test key and returns the response and its body.
func do(t *testing.T, s *Server, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	return doWith(t, http.DefaultClient, s.URL, method, path, body, testKey)
}

func doWith(t *testing.T, c *http.Client, base, method, path, body, key string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// chatBody builds a chat request; messages defaults to one user message.
func chatBody(model, messages, extra string) string {
	if messages == "" {
		messages = `[{"role":"user","content":"hi"}]`
	}
	return fmt.Sprintf(`{"model":%q,"messages":%s%s}`, model, messages, extra)
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type errorResp struct {
	Error struct{ Type, Message string }
}

// events reads a server-sent event stream: the data payloads in order,
// and the error that ended it (nil at a clean EOF).
func events(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			return out, fmt.Errorf("not an SSE data line: %q", line)
		}
		out = append(out, data)
	}
	return out, sc.Err()
}

func TestAuthentication(t *testing.T) {
	s := start(t, Config{})
	for _, key := range []string{"", "sk-wrong"} {
		resp, b := doWith(t, http.DefaultClient, s.URL, "GET", "/models", "", key)
		e := decode[errorResp](t, b)
		if resp.StatusCode != 401 || e.Error.Type != "invalid_authentication_error" || e.Error.Message != "Invalid Authentication" {
			t.Errorf("key %q: %d %s", key, resp.StatusCode, b)
		}
		if resp.Header.Get("Msh-Request-Id") == "" {
			t.Errorf("key %q: no Msh-Request-Id on the error", key)
		}
	}
	if resp, b := do(t, s, "GET", "/models", ""); resp.StatusCode != 200 {
		t.Errorf("right key: %d %s", resp.StatusCode, b)
	}

	anyKey := StartTB(t, Config{})
	if resp, _ := doWith(t, http.DefaultClient, anyKey.URL, "GET", "/models", "", "whatever"); resp.StatusCode != 200 {
		t.Errorf("any key accepted when APIKey is empty: got %d", resp.StatusCode)
	}
	if resp, _ := doWith(t, http.DefaultClient, anyKey.URL, "GET", "/models", "", ""); resp.StatusCode != 401 {
		t.Errorf("no bearer at all must still be refused: got %d", resp.StatusCode)
	}
}

func TestRequestIDsAreDeterministic(t *testing.T) {
	s := start(t, Config{})
	var ids []string
	for range 3 {
		resp, _ := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", ""))
		ids = append(ids, resp.Header.Get("Msh-Request-Id"))
	}
	want := []string{"emu-req-000001", "emu-req-000002", "emu-req-000003"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("request ids %v, want %v", ids, want)
	}
}

func TestModels(t *testing.T) {
	s := start(t, Config{})
	resp, b := do(t, s, "GET", "/models", "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	type item struct {
		ID, Object        string
		Owned             string `json:"owned_by"`
		ContextLength     int    `json:"context_length"`
		SupportsImageIn   bool   `json:"supports_image_in"`
		SupportsVideoIn   bool   `json:"supports_video_in"`
		SupportsReasoning bool   `json:"supports_reasoning"`
	}
	got := decode[struct {
		Object string
		Data   []item
	}](t, b)
	if got.Object != "list" || len(got.Data) != len(DefaultModels()) {
		t.Fatalf("got %s", b)
	}
	byID := map[string]item{}
	for _, m := range got.Data {
		byID[m.ID] = m
		if m.Object != "model" || m.Owned != "moonshot" {
			t.Errorf("%s: object %q owned_by %q", m.ID, m.Object, m.Owned)
		}
	}
	for id, want := range map[string]item{
		"moonshot-v1-8k":                 {ContextLength: 8192},
		"moonshot-v1-32k-vision-preview": {ContextLength: 32768, SupportsImageIn: true},
		"kimi-k2-0711-preview":           {ContextLength: 131072},
		"kimi-k2-thinking":               {ContextLength: 262144, SupportsReasoning: true},
		"kimi-k2.6":                      {ContextLength: 262144, SupportsImageIn: true, SupportsVideoIn: true, SupportsReasoning: true},
		"kimi-k3":                        {ContextLength: 1048576, SupportsImageIn: true, SupportsVideoIn: true, SupportsReasoning: true},
		"kimi-k3.1-pro":                  {ContextLength: 1048576, SupportsImageIn: true, SupportsVideoIn: true, SupportsReasoning: true},
	} {
		m := byID[id]
		if m.ContextLength != want.ContextLength || m.SupportsImageIn != want.SupportsImageIn ||
			m.SupportsVideoIn != want.SupportsVideoIn || m.SupportsReasoning != want.SupportsReasoning {
			t.Errorf("%s: got %+v", id, m)
		}
	}

	custom := start(t, Config{Models: []Model{{ID: "my-model", ContextLength: 100}}})
	_, b = do(t, custom, "GET", "/models", "")
	if !strings.Contains(string(b), `"id":"my-model"`) || strings.Contains(string(b), "kimi") {
		t.Errorf("custom model table not served: %s", b)
	}
	if resp, b := do(t, custom, "POST", "/chat/completions", chatBody("my-model", "", "")); resp.StatusCode != 200 {
		t.Errorf("custom model refused: %s", b)
	}
}

func TestBalance(t *testing.T) {
	s := start(t, Config{})
	_, b := do(t, s, "GET", "/users/me/balance", "")
	want := `{"code":0,"data":{"available_balance":49.58894,"voucher_balance":46.58893,"cash_balance":3.00001},"scode":"0x0","status":true}`
	if string(b) != want {
		t.Errorf("default balance\n got %s\nwant %s", b, want)
	}
	s = start(t, Config{Balance: Balance{Available: -1.5, Cash: -1.5}})
	_, b = do(t, s, "GET", "/users/me/balance", "")
	if !strings.Contains(string(b), `"available_balance":-1.5`) {
		t.Errorf("configured balance not served: %s", b)
	}
}

func TestEstimateTokenCount(t *testing.T) {
	s := start(t, Config{})
	msgs := `[{"role":"system","content":"You are Kimi."},{"role":"user","content":"Hello, 世界! How are you?"}]`
	resp, b := do(t, s, "POST", "/tokenizers/estimate-token-count", fmt.Sprintf(`{"model":"kimi-k2.6","messages":%s}`, msgs))
	var parsed []Message
	for _, m := range decode[[]map[string]any](t, []byte(msgs)) {
		pm, err := parseMessage(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, pm)
	}
	want := fmt.Sprintf(`{"code":0,"data":{"total_tokens":%d},"scode":"0x0","status":true}`, CountTokens(parsed))
	if resp.StatusCode != 200 || string(b) != want {
		t.Errorf("got %d %s, want %s", resp.StatusCode, b, want)
	}

	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"model":"nope","messages":[{"role":"user","content":"x"}]}`, 404},
		{`{"model":"kimi-k2.6"`, 400},
		{`{"model":"kimi-k2.6"}`, 400},
		{`{"messages":[{"role":"user","content":"x"}]}`, 400},
		{`{"model":"kimi-k2.6","messages":[{"role":"robot","content":"x"}]}`, 400},
	} {
		if resp, b := do(t, s, "POST", "/tokenizers/estimate-token-count", tc.body); resp.StatusCode != tc.status {
			t.Errorf("%s: got %d %s, want %d", tc.body, resp.StatusCode, b, tc.status)
		}
	}
}

func TestRoutingErrors(t *testing.T) {
	s := start(t, Config{})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/chat/completions", 405},
		{"POST", "/models", 405},
		{"GET", "/nothing-here", 404},
		{"PUT", "/files", 405},
	} {
		resp, b := do(t, s, tc.method, tc.path, "")
		if resp.StatusCode != tc.status || decode[errorResp](t, b).Error.Type == "" {
			t.Errorf("%s %s: got %d %s, want %d with a JSON error", tc.method, tc.path, resp.StatusCode, b, tc.status)
		}
	}
}

func TestRecordingAndReset(t *testing.T) {
	s := start(t, Config{})
	body := chatBody("kimi-k2-turbo-preview", "", `,"temperature":0.5`)
	do(t, s, "POST", "/chat/completions", body)
	do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", `,"temperature":5`))
	do(t, s, "GET", "/models", "")

	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("recorded %d requests, want 3", len(reqs))
	}
	if r := reqs[0]; r.Method != "POST" || r.Path != "/v1/chat/completions" || string(r.Body) != body ||
		r.Status != 200 || r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("first record: %+v", r)
	}
	if got := reqs[0].JSON()["temperature"]; got != 0.5 {
		t.Errorf("JSON()[temperature] = %v", got)
	}
	if reqs[1].Status != 400 || reqs[2].Status != 200 || reqs[2].JSON() != nil || (Recorded{Body: []byte("[1]")}).JSON() != nil {
		t.Errorf("statuses %d %d, JSON of an empty body %v", reqs[1].Status, reqs[2].Status, reqs[2].JSON())
	}
	// Requests returns copies.
	reqs[0].Body[0] = 'X'
	if s.Requests()[0].Body[0] == 'X' {
		t.Error("Requests exposes the emulator's own buffers")
	}

	s.Inject(Fault{Kind: Overload})
	s.Reset()
	if len(s.Requests()) != 0 {
		t.Error("Reset kept the records")
	}
	if resp, b := do(t, s, "POST", "/chat/completions", body); resp.StatusCode != 200 {
		t.Errorf("Reset kept the fault: %d %s", resp.StatusCode, b)
	}
}

func TestChatBodies(t *testing.T) {
	s := start(t, Config{})
	do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", `,"temperature":0.5`))
	do(t, s, "GET", "/models", "")
	do(t, s, "POST", "/tokenizers/estimate-token-count", chatBody("kimi-k2-turbo-preview", "", ""))
	do(t, s, "POST", "/chat/completions", "not json")
	do(t, s, "GET", "/chat/completions", "")
	got := s.ChatBodies()
	if len(got) != 3 || got[0]["temperature"] != 0.5 || got[1] != nil || got[2] != nil {
		t.Errorf("ChatBodies() = %v, want the two POSTs and the GET to /chat/completions, the first decoded", got)
	}
	s.Reset()
	if got := s.ChatBodies(); got != nil {
		t.Errorf("ChatBodies() after Reset = %v", got)
	}
}

// fakeTB records what StartTB asks of a test.
type fakeTB struct {
	cleanups []func()
	fatal    []any
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Fatal(args ...any) { f.fatal = append(f.fatal, args...) }
func (f *fakeTB) Cleanup(c func())  { f.cleanups = append(f.cleanups, c) }

func TestStartTBClosesAtCleanup(t *testing.T) {
	tb := &fakeTB{}
	s := StartTB(tb, Config{APIKey: testKey})
	if len(tb.fatal) != 0 || len(tb.cleanups) != 1 {
		t.Fatalf("StartTB: Fatal(%v), %d cleanups, want none and one", tb.fatal, len(tb.cleanups))
	}
	t.Cleanup(s.Close) // should the check below fail
	if resp, b := do(t, s, "GET", "/models", ""); resp.StatusCode != 200 {
		t.Fatalf("before cleanup: %d %s", resp.StatusCode, b)
	}
	tb.cleanups[0]()
	req, err := http.NewRequest("GET", s.URL+"/models", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	// A fresh transport: a kept-alive connection of the default client must not hide the close.
	if resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after cleanup: %d", resp.StatusCode)
	}
}

func TestNoRecordKeepsNothingButCounts(t *testing.T) {
	s := start(t, Config{NoRecord: true})
	if resp, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", "")); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	do(t, s, "GET", "/models", "")
	if n := len(s.Requests()); n != 0 {
		t.Fatalf("NoRecord kept %d requests", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitRequests(ctx, 2); err != nil {
		t.Fatalf("WaitRequests does not count unrecorded requests: %v", err)
	}
	s.Reset()
	short, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	if err := s.WaitRequests(short, 1); err == nil {
		t.Fatal("Reset kept the count")
	}
}

func TestSetReply(t *testing.T) {
	s := start(t, Config{})
	s.SetReply(func(req *ChatRequest) Reply { return Reply{Content: "custom for " + req.Model} })
	_, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", ""))
	if !strings.Contains(string(b), `"content":"custom for kimi-k2-turbo-preview"`) {
		t.Errorf("SetReply not used: %s", b)
	}
	s.SetReply(nil)
	_, b = do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", ""))
	if !strings.Contains(string(b), "offline emulator") {
		t.Errorf("SetReply(nil) did not restore DefaultReply: %s", b)
	}
}

func TestDefaultReply(t *testing.T) {
	long := strings.Repeat("é", 250)
	for _, tc := range []struct {
		req  ChatRequest
		want Reply
	}{
		{ChatRequest{Messages: []Message{{Role: "user", Content: "first"}, {Role: "assistant", Content: "a"}, {Role: "user", Content: "last one"}}},
			Reply{Content: offlineBanner + "\n\nYou said: last one\n"}},
		{ChatRequest{Messages: []Message{{Role: "user", Content: long}}, Thinking: true},
			Reply{Content: offlineBanner + "\n\nYou said: " + strings.Repeat("é", 200) + "\n", Reasoning: "The user wants an offline answer."}},
	} {
		got := DefaultReply(&tc.req)
		if got.Content != tc.want.Content || got.Reasoning != tc.want.Reasoning || got.ToolCalls != nil || got.FinishReason != "" {
			t.Errorf("DefaultReply = %+v, want %+v", got, tc.want)
		}
	}
	// An echo function with one required string is called with the user's words, until its
	// result is there; any other shape of echo is not.
	echo := func(schema map[string]any) []Tool {
		return []Tool{{Type: "function", Name: "echo", Parameters: schema}}
	}
	textSchema := map[string]any{"type": "object", "required": []any{"text"},
		"properties": map[string]any{"text": map[string]any{"type": "string"}}}
	got := DefaultReply(&ChatRequest{Messages: []Message{{Role: "user", Content: "say moon"}}, Tools: echo(textSchema)})
	if len(got.ToolCalls) != 1 || got.ToolCalls[0].Name != "echo" || got.ToolCalls[0].Arguments != `{"text":"say moon"}` {
		t.Errorf("DefaultReply with echo = %+v", got)
	}
	got = DefaultReply(&ChatRequest{Messages: []Message{{Role: "user", Content: "say moon"},
		{Role: "assistant", ToolCalls: []ToolCall{{ID: "echo_0", Name: "echo", Arguments: `{"text":"say moon"}`}}},
		{Role: "tool", ToolCallID: "echo_0", Content: "say moon"}}, Tools: echo(textSchema)})
	if got.ToolCalls != nil || !strings.HasSuffix(got.Content, "The tool said: say moon\n") {
		t.Errorf("DefaultReply after echo's result = %+v", got)
	}
	numberSchema := map[string]any{"type": "object", "required": []any{"n"},
		"properties": map[string]any{"n": map[string]any{"type": "number"}}}
	if got := DefaultReply(&ChatRequest{Messages: []Message{{Role: "user", Content: "x"}}, Tools: echo(numberSchema)}); got.ToolCalls != nil {
		t.Errorf("DefaultReply called an echo that takes a number: %+v", got)
	}
	if !strings.HasPrefix(offlineBanner, "This is moonchat's offline emulator: no request left this machine.") {
		t.Error("the offline banner must say no request left the machine")
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := start(t, Config{ChunkSize: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := chatBody("kimi-k2.6", fmt.Sprintf(`[{"role":"user","content":"question %d"}]`, i), `,"stream":true`)
			req, _ := http.NewRequest("POST", s.URL+"/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			ev, err := events(resp.Body)
			if err != nil || len(ev) == 0 || ev[len(ev)-1] != "[DONE]" {
				errs <- fmt.Errorf("request %d: %v, %d events", i, err, len(ev))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(s.Requests()); n != 20 {
		t.Errorf("recorded %d requests", n)
	}
}

func TestCloseEndsHangingRequests(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Inject(Fault{Kind: Hang})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.URL+"/chat/completions", strings.NewReader(chatBody("kimi-k2.6", "", "")))
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			done <- errors.New("a hanging request got an answer")
			return
		}
		done <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitRequests(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.Close() // returns only when the hanging handler has returned
	if s.Canceled() != 1 {
		t.Errorf("Canceled() = %d after Close ended a hanging request", s.Canceled())
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
	s.Close() // idempotent
}
