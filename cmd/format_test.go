package cmd

import (
	"bufio"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moonchat/moonchat/internal/errfixture"
	"github.com/moonchat/moonchat/pkg/emulator"
)

func decodeObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, s)
	}
	return m
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, decodeObject(t, sc.Text()))
	}
	return out
}

func TestJSONSuccess(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "Paris.", Reasoning: "Capital of France."}
	})
	r := h.run("chat", "--format", "json", "-m", "kimi-k2.6", "--temperature", "0.5", "capital?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m := decodeObject(t, r.stdout)
	for _, k := range []string{"id", "model", "conversation_id", "content", "reasoning_content", "finish_reason", "tool_calls", "usage", "adjustments", "cost", "elapsed_ms"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %s", k, r.stdout)
		}
	}
	if m["content"] != "Paris." || m["reasoning_content"] != "Capital of France." || m["finish_reason"] != "stop" || m["model"] != "kimi-k2.6" {
		t.Fatalf("object %v", m)
	}
	u := m["usage"].(map[string]any)
	for _, k := range []string{"prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens"} {
		if _, ok := u[k]; !ok {
			t.Errorf("usage lacks %s", k)
		}
	}
	adj := m["adjustments"].([]any)
	if len(adj) != 1 || adj[0].(map[string]any)["param"] != "temperature" || adj[0].(map[string]any)["from"] != 0.5 {
		t.Fatalf("adjustments %v", adj)
	}
	cost := m["cost"].(map[string]any)
	if cost["currency"] != "USD" || cost["amount"].(float64) <= 0 {
		t.Fatalf("cost %v", cost)
	}
	if _, ok := m["error"]; ok {
		t.Fatal("error field on success")
	}
}

func TestJSONSeveralChoices(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "--format", "json", "-m", "moonshot-v1-8k", "-n", "3", "--temperature", "0.5", "hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	choices := decodeObject(t, r.stdout)["choices"].([]any)
	if len(choices) != 3 {
		t.Fatalf("%d choices", len(choices))
	}
	for i, c := range choices {
		c := c.(map[string]any)
		if int(c["index"].(float64)) != i || c["content"] == "" || c["finish_reason"] != "stop" {
			t.Fatalf("choice %d: %v", i, c)
		}
	}
}

func TestJSONToolCall(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{ID: "get_weather_0", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
	})
	r := h.run("chat", "--format", "json", "-m", "kimi-k2-turbo-preview", "weather?")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m := decodeObject(t, r.stdout)
	calls := m["tool_calls"].([]any)
	if m["finish_reason"] != "tool_calls" || len(calls) != 1 {
		t.Fatalf("object %v", m)
	}
	fn := calls[0].(map[string]any)["function"].(map[string]any)
	if fn["name"] != "get_weather" || fn["arguments"] != `{"city":"Paris"}` {
		t.Fatalf("call %v", calls[0])
	}

	r = h.run("chat", "--format", "jsonl", "-m", "kimi-k2-turbo-preview", "weather?")
	events := decodeLines(t, r.stdout)
	var sawCall bool
	for _, e := range events {
		if e["type"] == "tool_call" && e["name"] == "get_weather" && e["arguments"] == `{"city":"Paris"}` {
			sawCall = true
		}
	}
	if !sawCall {
		t.Fatalf("no tool_call event: %s", r.stdout)
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name  string
		fault *emulator.Fault
		env   map[string]string
		args  []string
		code  int
		kind  string
	}{
		{"auth", nil, map[string]string{"MOONSHOT_API_KEY": "sk-bad"}, nil, 3, "auth"},
		{"quota", &emulator.Fault{Kind: emulator.Quota}, nil, nil, 4, "quota"},
		{"rejected", nil, nil, []string{"-m", "no-such-model"}, 5, "rejected"},
		{"temporary", &emulator.Fault{Kind: emulator.Overload, Times: 9}, nil, nil, 75, "temporary"},
		{"incomplete", &emulator.Fault{Kind: emulator.CutStream, AfterChunks: 1}, nil, nil, 75, "temporary"},
		{"usage", nil, nil, []string{"--stop", strings.Repeat("x", 40)}, 2, "usage"},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "jsonl"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				h := failingHarness(t, tt.fault, tt.env)
				args := append([]string{"chat", "--format", format, "-m", "kimi-k2-turbo-preview"}, tt.args...)
				r := h.run(append(args, "hi")...)
				if r.code != tt.code {
					t.Fatalf("exit %d, want %d: %s", r.code, tt.code, r.stderr)
				}
				var errObj map[string]any
				if format == "json" {
					errObj, _ = decodeObject(t, r.stdout)["error"].(map[string]any)
				} else {
					events := decodeLines(t, r.stdout)
					last := events[len(events)-1]
					if last["type"] != "error" || int(last["exit_code"].(float64)) != tt.code {
						t.Fatalf("last event %v", last)
					}
					errObj, _ = last["error"].(map[string]any)
				}
				if errObj == nil || errObj["kind"] != tt.kind || int(errObj["exit_code"].(float64)) != tt.code || errObj["message"] == "" || errObj["type"] == "" {
					t.Fatalf("error object %v", errObj)
				}
			})
		}
	}
}

func TestJSONLStreamsEvents(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: strings.Repeat("word ", 20), Reasoning: "hmm"}
	})
	r := h.run("chat", "--format", "jsonl", "-m", "kimi-k2.6", "hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	events := decodeLines(t, r.stdout)
	var types []string
	var text strings.Builder
	for _, e := range events {
		types = append(types, e["type"].(string))
		if e["type"] == "delta" {
			text.WriteString(e["text"].(string))
		}
	}
	if types[0] != "start" || types[1] != "reasoning" || types[len(types)-1] != "done" || types[len(types)-2] != "usage" {
		t.Fatalf("event order %v", types)
	}
	if text.String() != strings.Repeat("word ", 20) {
		t.Fatalf("deltas joined = %q", text.String())
	}
}

func TestUsageLine(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "-u", "-m", "kimi-k2.6", "hi")
	if r.code != 0 || !strings.Contains(r.stderr, "prompt") || !strings.Contains(r.stderr, "cached") || !strings.Contains(r.stderr, "USD") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if strings.Contains(r.stdout, "prompt +") {
		t.Fatal("usage on stdout")
	}
}

// TestJSONErrorRetryAfter: a temporary failure whose answer said how long to wait carries that
// wait in error.retry_after (whole seconds, rounded up), whether moonchat gave up at once
// because the wait is longer than it retries after or honoured it until the retries ran out;
// other failures carry none. The fields scripts already read stay as they were.
func TestJSONErrorRetryAfter(t *testing.T) {
	withHeader := func(name, key, value string) func(*testing.T) errfixture.Answer {
		return func(t *testing.T) errfixture.Answer {
			a := errfixture.Named(t, name)
			a.Headers[key] = value
			return a
		}
	}
	tests := []struct {
		name     string
		fault    *emulator.Fault                    // injected in the emulator, or
		answer   func(*testing.T) errfixture.Answer // answered to every chat request
		args     []string
		requests int32 // chat requests that reached the answer (0: not counted)
		exit     int
		status   int
		wait     float64 // 0: no retry_after
	}{
		// The harness retries after at most 5 ms: 20 s is longer, so moonchat gives up at once.
		{"wait too long for a retry", &emulator.Fault{Kind: emulator.RateLimit, RetryAfter: 20, Times: 9}, nil, nil, 0, 75, 429, 20},
		{"X-RateLimit-Reset, no retries left", nil, func(t *testing.T) errfixture.Answer { return errfixture.Named(t, "429-rate_limit-x-ratelimit-reset") },
			[]string{"--max-retries", "0"}, 1, 75, 429, 6},
		{"waited until the retries ran out, rounded up", nil, withHeader("429-rate_limit-x-ratelimit-reset", "X-RateLimit-Reset", "2ms"),
			[]string{"--max-retries", "2"}, 3, 75, 429, 1},
		{"5xx with Retry-After", nil, withHeader("500-server_error", "Retry-After", "3"), []string{"--max-retries", "0"}, 1, 75, 500, 3},
		{"overload says no wait", &emulator.Fault{Kind: emulator.Overload, Times: 9}, nil, nil, 0, 75, 429, 0},
		{"quota is not cleared by waiting", nil, withHeader("429-exceeded_current_quota_error", "Retry-After", "30"), nil, 1, 4, 429, 0},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "jsonl"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				h := failingHarness(t, tt.fault, nil)
				var chats *atomic.Int32
				if tt.answer != nil {
					chats = h.failFirstWith(tt.answer(t), 1000)
				}
				args := append([]string{"chat", "--format", format, "-m", "kimi-k2-turbo-preview"}, tt.args...)
				r := h.run(append(args, "hi")...)
				if chats != nil && tt.requests != 0 && chats.Load() != tt.requests {
					t.Errorf("%d chat requests, want %d", chats.Load(), tt.requests)
				}
				var errObj map[string]any
				if format == "json" {
					errObj, _ = decodeObject(t, r.stdout)["error"].(map[string]any)
				} else {
					events := decodeLines(t, r.stdout)
					errObj, _ = events[len(events)-1]["error"].(map[string]any)
				}
				if errObj == nil {
					t.Fatalf("exit %d, no error object: %s", r.code, r.stdout)
				}
				if r.code != tt.exit || errObj["exit_code"] != float64(tt.exit) || errObj["status"] != float64(tt.status) || errObj["type"] == "" || errObj["message"] == "" {
					t.Fatalf("error object %v", errObj)
				}
				got, present := errObj["retry_after"]
				switch {
				case tt.wait == 0 && present:
					t.Fatalf("retry_after %v where the server asked for no wait: %v", got, errObj)
				case tt.wait != 0 && got != tt.wait:
					t.Fatalf("retry_after %v (present %v), want %v: %v", got, present, tt.wait, errObj)
				}
			})
		}
	}
}
