package emulator

import (
	"encoding/json"
	"strings"
	"testing"
)

const webSearchTools = `,"tools":[{"type":"builtin_function","function":{"name":"$web_search"}}]`

// searchRound asks the first question of a web-search round trip and returns
// the assistant message to send back, the call and the response.
func searchRound(t *testing.T, s *Server, model, extra string) (map[string]any, wireToolCall, wireCompletion) {
	t.Helper()
	resp, b := do(t, s, "POST", "/chat/completions", chatBody(model, `[{"role":"user","content":"Moonshot news today?"}]`, webSearchTools+extra))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	c := decode[wireCompletion](t, b)
	ch := c.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("first answer %s", b)
	}
	call := ch.Message.ToolCalls[0]
	assistant := map[string]any{"role": "assistant", "content": *ch.Message.Content,
		"tool_calls": []any{map[string]any{"id": call.ID, "type": "function",
			"function": map[string]any{"name": call.Function.Name, "arguments": *call.Function.Arguments}}}}
	if ch.Message.ReasoningContent != "" {
		assistant["reasoning_content"] = ch.Message.ReasoningContent
	}
	return assistant, call, c
}

func TestWebSearchRoundTrip(t *testing.T) {
	s := start(t, Config{})
	assistant, call, _ := searchRound(t, s, "kimi-k2-turbo-preview", "")
	if call.ID != "web_search_0" || call.Type != "function" || call.Function.Name != "$web_search" {
		t.Errorf("call %+v", call)
	}
	var args struct {
		SearchResult struct {
			SearchID string `json:"search_id"`
		} `json:"search_result"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(*call.Function.Arguments), &args); err != nil || args.SearchResult.SearchID == "" || args.Usage.TotalTokens != 1200 {
		t.Fatalf("arguments %s: %v", *call.Function.Arguments, err)
	}
	// Deterministic: the same question gets the same call.
	if _, again, _ := searchRound(t, s, "kimi-k2-turbo-preview", ""); *again.Function.Arguments != *call.Function.Arguments {
		t.Errorf("arguments differ between identical requests: %s vs %s", *again.Function.Arguments, *call.Function.Arguments)
	}

	// The client echoes the arguments back, re-encoded as Moonshot's sample
	// does (json.loads then json.dumps: other spacing, same JSON).
	var decoded any
	json.Unmarshal([]byte(*call.Function.Arguments), &decoded)
	reencoded, _ := json.MarshalIndent(decoded, "", " ")
	msgs := []any{
		map[string]any{"role": "user", "content": "Moonshot news today?"},
		assistant,
		map[string]any{"role": "tool", "tool_call_id": call.ID, "name": "$web_search", "content": string(reencoded)},
	}
	mb, _ := json.Marshal(msgs)
	resp, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", string(mb), webSearchTools))
	if resp.StatusCode != 200 {
		t.Fatalf("second round: %d %s", resp.StatusCode, b)
	}
	c := decode[wireCompletion](t, b)
	var parsed []Message
	for _, m := range msgs {
		pm, _ := parseMessage(m.(map[string]any), 0)
		parsed = append(parsed, pm)
	}
	if c.Choices[0].FinishReason != "stop" || !strings.Contains(*c.Choices[0].Message.Content, "You said: Moonshot news today?") {
		t.Errorf("final answer %s", b)
	}
	if want := CountTokens(parsed) + 1200; c.Usage.PromptTokens != want {
		t.Errorf("prompt_tokens %d, want %d (messages + search tokens)", c.Usage.PromptTokens, want)
	}

	// A tool message that does not echo the arguments is refused.
	msgs[2] = map[string]any{"role": "tool", "tool_call_id": call.ID, "name": "$web_search", "content": `{"search_result":{"search_id":"forged"}}`}
	mb, _ = json.Marshal(msgs)
	resp, b = do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", string(mb), webSearchTools))
	if e := decode[errorResp](t, b); resp.StatusCode != 400 || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, "unchanged") {
		t.Errorf("forged echo: %d %s", resp.StatusCode, b)
	}
}

// TestWebSearchWhileThinking: a thinking model reasons before the call, and
// the round trip only works when the client sends that reasoning back.
func TestWebSearchWhileThinking(t *testing.T) {
	s := start(t, Config{})
	for _, model := range []string{"kimi-k2-thinking", "kimi-k3"} {
		assistant, call, first := searchRound(t, s, model, "")
		if first.Choices[0].Message.ReasoningContent == "" {
			t.Fatalf("%s: no reasoning before the search call", model)
		}
		tool := map[string]any{"role": "tool", "tool_call_id": call.ID, "name": "$web_search", "content": *call.Function.Arguments}
		user := map[string]any{"role": "user", "content": "Moonshot news today?"}
		mb, _ := json.Marshal([]any{user, assistant, tool})
		if resp, b := do(t, s, "POST", "/chat/completions", chatBody(model, string(mb), webSearchTools)); resp.StatusCode != 200 {
			t.Errorf("%s with reasoning: %d %s", model, resp.StatusCode, b)
		}
		delete(assistant, "reasoning_content")
		mb, _ = json.Marshal([]any{user, assistant, tool})
		if resp, b := do(t, s, "POST", "/chat/completions", chatBody(model, string(mb), webSearchTools)); resp.StatusCode != 400 ||
			!strings.Contains(string(b), "reasoning_content is missing") {
			t.Errorf("%s without reasoning: %d %s", model, resp.StatusCode, b)
		}
	}
	// k2.6 needs thinking off for $web_search, and then it works.
	if _, call, _ := searchRound(t, s, "kimi-k2.6", `,"thinking":{"type":"disabled"}`); call.Function.Name != "$web_search" {
		t.Errorf("k2.6 with thinking off: call %+v", call)
	}
}

// TestWebSearchInAToolLoop: once the turn holds a search result, later tool
// results in the same turn go to the model, not to another search; a new
// user message searches again; tool_choice "none" never searches.
func TestWebSearchInAToolLoop(t *testing.T) {
	s := start(t, Config{})
	s.SetReply(func(req *ChatRequest) Reply {
		if last := req.Messages[len(req.Messages)-1]; last.Role == "tool" && last.Name == "get_weather" {
			return Reply{Content: "It is sunny."}
		}
		return Reply{ToolCalls: []ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
	})
	mixed := `,"tools":[{"type":"builtin_function","function":{"name":"$web_search"}},` + strings.TrimPrefix(weatherTool, `,"tools":[`)
	assistant, call, _ := searchRound(t, s, "kimi-k2-turbo-preview", "")
	msgs := []any{
		map[string]any{"role": "user", "content": "Moonshot news today?"},
		assistant,
		map[string]any{"role": "tool", "tool_call_id": call.ID, "name": "$web_search", "content": *call.Function.Arguments},
	}
	ask := func() wireCompletion {
		t.Helper()
		mb, _ := json.Marshal(msgs)
		resp, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", string(mb), mixed))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		return decode[wireCompletion](t, b)
	}
	c := ask()
	if calls := c.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Function.Name != "get_weather" {
		t.Fatalf("after the search the model must answer (here: call get_weather): %+v", c.Choices[0].Message)
	}
	msgs = append(msgs,
		map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"id": "get_weather_0", "type": "function",
			"function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}},
		map[string]any{"role": "tool", "tool_call_id": "get_weather_0", "name": "get_weather", "content": "sunny"})
	if c := ask(); *c.Choices[0].Message.Content != "It is sunny." {
		t.Errorf("a second search instead of the answer: %+v", c.Choices[0].Message)
	}
	msgs = append(msgs, map[string]any{"role": "assistant", "content": "It is sunny."}, map[string]any{"role": "user", "content": "And tomorrow?"})
	if calls := ask().Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Function.Name != "$web_search" {
		t.Errorf("a new question must search again: %+v", calls)
	}

	_, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", webSearchTools+`,"tool_choice":"none"`))
	if strings.Contains(string(b), "$web_search") {
		t.Errorf(`tool_choice "none" searched: %s`, b)
	}
}
