package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Typed views of the wire format, as a client would decode it.
type (
	wireUsage struct {
		PromptTokens     int  `json:"prompt_tokens"`
		CompletionTokens int  `json:"completion_tokens"`
		TotalTokens      int  `json:"total_tokens"`
		CachedTokens     *int `json:"cached_tokens"`
		Details          struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	}
	wireToolCall struct {
		Index    *int   `json:"index"`
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string  `json:"name"`
			Arguments *string `json:"arguments"`
		} `json:"function"`
	}
	wireChunk struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index int `json:"index"`
			Delta struct {
				Role             string         `json:"role"`
				Content          *string        `json:"content"`
				ReasoningContent *string        `json:"reasoning_content"`
				ToolCalls        []wireToolCall `json:"tool_calls"`
			} `json:"delta"`
			FinishReason *string    `json:"finish_reason"`
			Usage        *wireUsage `json:"usage"`
		} `json:"choices"`
		Usage *wireUsage `json:"usage"`
	}
	wireCompletion struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role             string         `json:"role"`
				Content          *string        `json:"content"`
				ReasoningContent string         `json:"reasoning_content"`
				ToolCalls        []wireToolCall `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage wireUsage `json:"usage"`
	}
)

// collected is a stream put back together.
type collected struct {
	chunks                []wireChunk
	reasoning, content    []string // per choice
	finish                []string
	usage                 []*wireUsage
	topUsage              *wireUsage
	calls                 map[int]*wireToolCall // choice 0's calls by index
	done                  bool
	reasoningAfterContent bool
}

func stream(t *testing.T, s *Server, body string) (*http.Response, collected) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ev, err := events(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, collect(t, ev)
}

func collect(t *testing.T, ev []string) collected {
	t.Helper()
	c := collected{calls: map[int]*wireToolCall{}}
	sawContent := map[int]bool{}
	for i, e := range ev {
		if e == "[DONE]" {
			if i != len(ev)-1 {
				t.Errorf("[DONE] is event %d of %d", i, len(ev))
			}
			c.done = true
			continue
		}
		var ch wireChunk
		if err := json.Unmarshal([]byte(e), &ch); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, e)
		}
		c.chunks = append(c.chunks, ch)
		if ch.Usage != nil {
			c.topUsage = ch.Usage
		}
		for _, choice := range ch.Choices {
			n := choice.Index
			for len(c.content) <= n {
				c.content, c.reasoning = append(c.content, ""), append(c.reasoning, "")
				c.finish, c.usage = append(c.finish, ""), append(c.usage, nil)
			}
			d := choice.Delta
			if d.ReasoningContent != nil {
				c.reasoning[n] += *d.ReasoningContent
				if sawContent[n] {
					c.reasoningAfterContent = true
				}
			}
			if d.Content != nil && *d.Content != "" {
				c.content[n] += *d.Content
				sawContent[n] = true
			}
			if choice.FinishReason != nil {
				c.finish[n] = *choice.FinishReason
				c.usage[n] = choice.Usage
			}
			for _, tc := range d.ToolCalls {
				if n != 0 {
					continue
				}
				if prev, ok := c.calls[*tc.Index]; ok {
					*prev.Function.Arguments += *tc.Function.Arguments
				} else {
					// Copy the arguments: the fragments stay as received in c.chunks.
					args := *tc.Function.Arguments
					tc.Function.Arguments = &args
					c.calls[*tc.Index] = &tc
				}
			}
		}
	}
	return c
}

func TestStreamShape(t *testing.T) {
	reply := Reply{Reasoning: "Think: 1+1 is 2.", Content: "Hello, Li Lei! 1+1 equals 2. 你好。"}
	s := start(t, Config{ChunkSize: 5, Reply: func(*ChatRequest) Reply { return reply }})
	msgs := `[{"role":"system","content":"You are Kimi."},{"role":"user","content":"Hello, my name is Li Lei. What is 1+1?"}]`
	resp, c := stream(t, s, chatBody("kimi-k2-thinking", msgs, `,"stream":true,"stream_options":{"include_usage":true}`))

	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.Header.Get("Msh-Request-Id") == "" {
		t.Error("no Msh-Request-Id")
	}
	if !c.done {
		t.Fatal("no [DONE]")
	}
	first := c.chunks[0].Choices[0]
	if first.Delta.Role != "assistant" || first.Delta.Content == nil || *first.Delta.Content != "" || first.FinishReason != nil {
		t.Errorf("first chunk must be the role with empty content: %+v", first)
	}
	for i, ch := range c.chunks {
		if ch.ID != "chatcmpl-emu-000001" || ch.Object != "chat.completion.chunk" || ch.Model != "kimi-k2-thinking" || ch.Created != createdBase+1 {
			t.Errorf("chunk %d envelope: %+v", i, ch)
		}
		if i > 0 && len(ch.Choices) > 0 && ch.Choices[0].Delta.Role != "" {
			t.Errorf("role repeated in chunk %d", i)
		}
	}
	if c.reasoning[0] != reply.Reasoning || c.content[0] != reply.Content {
		t.Errorf("reasoning %q content %q", c.reasoning[0], c.content[0])
	}
	if c.reasoningAfterContent {
		t.Error("reasoning_content arrived after content")
	}
	// 5-byte deltas cut on rune boundaries, never splitting a character.
	for _, ch := range c.chunks {
		for _, choice := range ch.Choices {
			if d := choice.Delta.Content; d != nil && (len(*d) > 5+utf8.UTFMax-1 || !utf8.ValidString(*d)) {
				t.Errorf("bad delta %q", *d)
			}
		}
	}

	// The final chunk: delta {}, finish_reason, usage inside the choice.
	final := c.chunks[len(c.chunks)-2]
	if len(final.Choices) != 1 || final.Usage != nil {
		t.Fatalf("final chunk %+v", final)
	}
	prompt := CountTokens([]Message{{Role: "system", Content: "You are Kimi."}, {Role: "user", Content: "Hello, my name is Li Lei. What is 1+1?"}})
	want := wireUsage{PromptTokens: prompt, CompletionTokens: CountText(reply.Reasoning) + CountText(reply.Content)}
	want.TotalTokens = want.PromptTokens + want.CompletionTokens
	want.Details.ReasoningTokens = CountText(reply.Reasoning)
	got := *c.usage[0]
	if got.CachedTokens == nil || *got.CachedTokens != 0 {
		t.Errorf("cached_tokens must be present: %+v", got)
	}
	got.CachedTokens = nil
	if c.finish[0] != "stop" || got != want {
		t.Errorf("finish %q usage %+v, want stop %+v", c.finish[0], got, want)
	}
	// include_usage: an extra chunk with no choices and top-level usage.
	extra := c.chunks[len(c.chunks)-1]
	if extra.Choices == nil || len(extra.Choices) != 0 || extra.Usage == nil {
		t.Fatalf("include_usage chunk %+v", extra)
	}
	top := *extra.Usage
	top.CachedTokens = nil
	if top != want {
		t.Errorf("top-level usage %+v, want %+v", top, want)
	}
}

func TestStreamWireBytes(t *testing.T) {
	s := start(t, Config{Reply: func(*ChatRequest) Reply { return Reply{Content: "OK"} }})
	_, buf := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", `,"stream":true`))
	head := `{"id":"chatcmpl-emu-000001","object":"chat.completion.chunk","created":1767225601,"model":"kimi-k2-turbo-preview","choices":`
	want := "data: " + head + `[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n" +
		"data: " + head + `[{"index":0,"delta":{"content":"OK"},"finish_reason":null}]}` + "\n\n" +
		"data: " + head + `[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6,"cached_tokens":0,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}]}` + "\n\n" +
		"data: [DONE]\n\n"
	if string(buf) != want {
		t.Errorf("wire bytes\n got %s\nwant %s", buf, want)
	}
}

func TestNonStreamShape(t *testing.T) {
	reply := Reply{Reasoning: "thinking", Content: "Hello!"}
	s := start(t, Config{Reply: func(*ChatRequest) Reply { return reply }})
	for _, tc := range []struct {
		model         string
		wantReasoning string
	}{
		{"kimi-k2.6", "thinking"},
		{"kimi-k2-turbo-preview", ""}, // a model that does not think drops the reasoning
	} {
		resp, b := do(t, s, "POST", "/chat/completions", chatBody(tc.model, "", ""))
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
		}
		c := decode[wireCompletion](t, b)
		if !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion" || c.Model != tc.model || c.Created == 0 || len(c.Choices) != 1 {
			t.Fatalf("%s: %s", tc.model, b)
		}
		m := c.Choices[0].Message
		if m.Role != "assistant" || m.Content == nil || *m.Content != "Hello!" || m.ReasoningContent != tc.wantReasoning || c.Choices[0].FinishReason != "stop" {
			t.Errorf("%s: message %s", tc.model, b)
		}
		wantCompletion := CountText("Hello!") + CountText(tc.wantReasoning)
		if c.Usage.PromptTokens != 5 || c.Usage.CompletionTokens != wantCompletion || c.Usage.TotalTokens != 5+wantCompletion ||
			c.Usage.Details.ReasoningTokens != CountText(tc.wantReasoning) {
			t.Errorf("%s: usage %+v", tc.model, c.Usage)
		}
	}
}

func TestToolCalls(t *testing.T) {
	reply := Reply{Content: "Let me check.", ToolCalls: []ToolCall{
		{Name: "get_weather", Arguments: `{"city": "Paris", "unit": "celsius"}`},
		{ID: "custom-id", Name: "get_time", Arguments: `{}`},
	}}
	s := start(t, Config{ChunkSize: 7, Reply: func(*ChatRequest) Reply { return reply }})
	body := chatBody("kimi-k2-turbo-preview", "", weatherTool)

	_, c := stream(t, s, strings.TrimSuffix(body, "}")+`,"stream":true}`)
	if c.finish[0] != "tool_calls" || c.content[0] != "Let me check." || len(c.calls) != 2 {
		t.Fatalf("finish %q content %q calls %d", c.finish[0], c.content[0], len(c.calls))
	}
	if got := c.calls[0]; got.ID != "get_weather_0" || got.Type != "function" || got.Function.Name != "get_weather" || *got.Function.Arguments != reply.ToolCalls[0].Arguments {
		t.Errorf("call 0 %+v args %q", got, *got.Function.Arguments)
	}
	if got := c.calls[1]; got.ID != "custom-id" || *got.Function.Arguments != "{}" {
		t.Errorf("call 1 %+v", got)
	}
	// Content first, then tool calls; the first fragment of a call carries
	// index, id, type, name and empty arguments, the others only pieces.
	seenCall := map[int]bool{}
	for _, ch := range c.chunks {
		for _, choice := range ch.Choices {
			if choice.Delta.Content != nil && *choice.Delta.Content != "" && len(seenCall) > 0 {
				t.Error("content after tool calls")
			}
			for _, tc := range choice.Delta.ToolCalls {
				if !seenCall[*tc.Index] {
					seenCall[*tc.Index] = true
					if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || tc.Function.Arguments == nil || *tc.Function.Arguments != "" {
						t.Errorf("first fragment %+v", tc)
					}
				} else if tc.ID != "" || tc.Type != "" || tc.Function.Name != "" {
					t.Errorf("later fragment repeats the header: %+v", tc)
				}
			}
		}
	}

	_, b := do(t, s, "POST", "/chat/completions", body)
	nc := decode[wireCompletion](t, b)
	calls := nc.Choices[0].Message.ToolCalls
	if nc.Choices[0].FinishReason != "tool_calls" || len(calls) != 2 || *calls[1].Index != 1 || calls[0].ID != "get_weather_0" ||
		*calls[0].Function.Arguments != reply.ToolCalls[0].Arguments {
		t.Errorf("non-stream tool calls: %s", b)
	}
}

func TestMultipleChoices(t *testing.T) {
	s := start(t, Config{ChunkSize: 4, Reply: func(*ChatRequest) Reply { return Reply{Content: "same answer"} }})
	_, c := stream(t, s, chatBody("kimi-k2-turbo-preview", "", `,"n":3,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true}`))
	if len(c.content) != 3 {
		t.Fatalf("%d choices", len(c.content))
	}
	per := CountText("same answer")
	for i := range 3 {
		if c.content[i] != "same answer" || c.finish[i] != "stop" || c.usage[i] == nil || c.usage[i].CompletionTokens != per || c.usage[i].PromptTokens != 5 {
			t.Errorf("choice %d: %q %q %+v", i, c.content[i], c.finish[i], c.usage[i])
		}
	}
	if c.topUsage.CompletionTokens != 3*per || c.topUsage.PromptTokens != 5 {
		t.Errorf("top usage %+v", c.topUsage)
	}
	roles := 0
	for _, ch := range c.chunks {
		for _, choice := range ch.Choices {
			if choice.Delta.Role == "assistant" {
				roles++
			}
		}
	}
	if roles != 3 {
		t.Errorf("%d role chunks, want one per choice", roles)
	}

	_, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", `,"n":2,"temperature":0.7`))
	nc := decode[wireCompletion](t, b)
	if len(nc.Choices) != 2 || nc.Choices[1].Index != 1 || nc.Usage.CompletionTokens != 2*per {
		t.Errorf("non-stream n=2: %s", b)
	}
}

func TestMaxTokensTruncates(t *testing.T) {
	content := "日本語のテキストです。This answer is long enough to be cut."
	reasoning := "short thought"
	s := start(t, Config{ChunkSize: 3, Reply: func(*ChatRequest) Reply { return Reply{Reasoning: reasoning, Content: content} }})
	for _, limit := range []int{1, 2, 5, 8, 13, 40} {
		for _, field := range []string{"max_tokens", "max_completion_tokens"} {
			_, c := stream(t, s, chatBody("kimi-k2.6", "", fmt.Sprintf(`,"stream":true,%q:%d`, field, limit)))
			u := c.usage[0]
			if u.CompletionTokens > limit {
				t.Errorf("%s %d: %d completion tokens", field, limit, u.CompletionTokens)
			}
			if !strings.HasPrefix(reasoning, c.reasoning[0]) || !strings.HasPrefix(content, c.content[0]) || !utf8.ValidString(c.content[0]) {
				t.Errorf("%s %d: not a prefix: %q %q", field, limit, c.reasoning[0], c.content[0])
			}
			if CountText(c.reasoning[0])+CountText(c.content[0]) != u.CompletionTokens {
				t.Errorf("%s %d: usage %d does not count what was sent", field, limit, u.CompletionTokens)
			}
			full := CountText(reasoning)+CountText(content) <= limit
			if wantFinish := map[bool]string{true: "stop", false: "length"}[full]; c.finish[0] != wantFinish {
				t.Errorf("%s %d: finish %q, want %q", field, limit, c.finish[0], wantFinish)
			}
		}
	}
}

func TestPartialMode(t *testing.T) {
	s := start(t, Config{Reply: func(*ChatRequest) Reply { return Reply{Reasoning: "hmm", Content: `{"name": "Kimi"}`} }})
	for _, tc := range []struct{ prefix, want string }{
		{`{`, `"name": "Kimi"}`},
		{`{"name": `, `"Kimi"}`},
		{`[`, `{"name": "Kimi"}`}, // not a prefix of the reply: the reply is the continuation
	} {
		msgs := fmt.Sprintf(`[{"role":"user","content":"json please"},{"role":"assistant","content":%q,"partial":true}]`, tc.prefix)
		_, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2.6", msgs, ""))
		m := decode[wireCompletion](t, b).Choices[0].Message
		if *m.Content != tc.want || m.ReasoningContent != "" {
			t.Errorf("prefix %q: content %q reasoning %q, want %q and no reasoning", tc.prefix, *m.Content, m.ReasoningContent, tc.want)
		}
	}
}

// TestAutoContinueStitches shows what the client's auto-continue relies on:
// re-asking with the answer so far as a partial assistant message, under
// any max_tokens, rebuilds exactly the whole answer.
func TestAutoContinueStitches(t *testing.T) {
	s := start(t, Config{})
	user := "Tell me about 月 and the Moon, at length, please."
	whole := DefaultReply(&ChatRequest{Messages: []Message{{Role: "user", Content: user}}}).Content
	for _, limit := range []int{1, 3, 7, 20} {
		var got string
		for round := 0; ; round++ {
			if round > 200 {
				t.Fatalf("max_tokens %d: no end after %d rounds", limit, round)
			}
			msgs := []map[string]any{{"role": "user", "content": user}}
			if got != "" {
				msgs = append(msgs, map[string]any{"role": "assistant", "content": got, "partial": true})
			}
			mb, _ := json.Marshal(msgs)
			_, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", string(mb), fmt.Sprintf(`,"max_tokens":%d`, limit)))
			c := decode[wireCompletion](t, b)
			got += *c.Choices[0].Message.Content
			if c.Choices[0].FinishReason == "stop" {
				break
			}
		}
		if got != whole {
			t.Errorf("max_tokens %d: stitched %q, want %q", limit, got, whole)
		}
	}
}

func TestStopStrings(t *testing.T) {
	s := start(t, Config{Reply: func(*ChatRequest) Reply { return Reply{Content: "one, two, three. END four"} }})
	_, b := do(t, s, "POST", "/chat/completions", chatBody("kimi-k2-turbo-preview", "", `,"stop":["END","three"]`))
	c := decode[wireCompletion](t, b)
	if *c.Choices[0].Message.Content != "one, two, " || c.Choices[0].FinishReason != "stop" {
		t.Errorf("stop: %s", b)
	}
}

func TestReplySeesParsedRequest(t *testing.T) {
	var got *ChatRequest
	s := start(t, Config{Reply: func(r *ChatRequest) Reply { got = r; return Reply{Content: "x"} }})
	msgs := `[{"role":"system","content":"sys"},{"role":"user","content":[{"type":"text","text":"look: "},{"type":"image_url","image_url":{"url":"` + pngURL + `"}},{"type":"text","text":"what?"}]}]`
	do(t, s, "POST", "/chat/completions", chatBody("kimi-k2.6", msgs, weatherTool+`,"max_tokens":100,"stream":false,"thinking":{"type":"disabled"},"temperature":0.6,"stop":"zz"`))
	if got == nil {
		t.Fatal("Reply not called")
	}
	if got.Model != "kimi-k2.6" || got.ModelInfo.ContextLength != 262144 || got.MaxTokens != 100 || got.Thinking || got.N != 1 ||
		got.Temperature == nil || *got.Temperature != 0.6 || got.Raw["max_tokens"] != 100.0 || !reflect.DeepEqual(got.Stop, []string{"zz"}) {
		t.Errorf("request %+v", got)
	}
	if len(got.Tools) != 1 || got.Tools[0].Name != "get_weather" || got.Tools[0].Parameters["type"] != "object" {
		t.Errorf("tools %+v", got.Tools)
	}
	u := got.Messages[1]
	if u.Content != "look: what?" || len(u.Parts) != 3 || u.Parts[1] != (Part{Type: "image_url", URL: pngURL}) || got.LastUserText() != "look: what?" {
		t.Errorf("user message %+v", u)
	}
}
