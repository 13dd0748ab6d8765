package moonshot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func chunkJSON(content string) string {
	b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "m",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": content}, "finish_reason": nil}}})
	return string(b)
}

const finalChunk = `{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"cached_tokens":1}}]}`

func readAll(t *testing.T, body string) (*Accumulator, error) {
	t.Helper()
	s := NewStream(io.NopCloser(strings.NewReader(body)))
	defer s.Close()
	var acc Accumulator
	for s.Next() {
		acc.Add(s.Current())
	}
	return &acc, s.Err()
}

// readEvents reads a well-formed stream of the given events' data, which must succeed.
func readEvents(t *testing.T, data ...string) *Accumulator {
	t.Helper()
	acc, err := readAll(t, "data: "+strings.Join(data, "\n\ndata: ")+"\n\n")
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestSSETolerance(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"plain", "data: " + chunkJSON("Hel") + "\n\ndata: " + chunkJSON("lo") + "\n\ndata: [DONE]\n\n", "Hello"},
		{"CRLF", "data: " + chunkJSON("Hel") + "\r\n\r\ndata: " + chunkJSON("lo") + "\r\n\r\ndata: [DONE]\r\n\r\n", "Hello"},
		{"comments and blank lines", ": keep-alive\n\n\n\ndata: " + chunkJSON("a") + "\n\n: ping\ndata: " + chunkJSON("b") + "\n\n\ndata: [DONE]\n", "ab"},
		{"no space after colon", "data:" + chunkJSON("x") + "\n\ndata:[DONE]\n\n", "x"},
		{"event and id fields ignored", "event: message\nid: 1\ndata: " + chunkJSON("x") + "\n\ndata: [DONE]\n\n", "x"},
		{"no blank lines between events", "data: " + chunkJSON("a") + "\ndata: " + chunkJSON("b") + "\ndata: [DONE]\n", "ab"},
		{"DONE without trailing newline", "data: " + chunkJSON("z") + "\n\ndata: [DONE]", "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc, err := readAll(t, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Content() != tt.want {
				t.Fatalf("content = %q, want %q", acc.Content(), tt.want)
			}
		})
	}
}

func TestSSEHugeLine(t *testing.T) {
	big := strings.Repeat("界", 5<<20/3) // a 5 MB line
	acc, err := readAll(t, "data: "+chunkJSON(big)+"\n\ndata: [DONE]\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if acc.Content() != big {
		t.Fatalf("content length %d, want %d", len(acc.Content()), len(big))
	}
}

func TestSSEMissingDoneIsIncomplete(t *testing.T) {
	acc, err := readAll(t, "data: "+chunkJSON("partial ")+"\n\ndata: "+finalChunk+"\n\n")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Type != ErrTypeIncompleteStream {
		t.Fatalf("err = %v, want incomplete stream", err)
	}
	if !IsTemporary(err) {
		t.Fatal("an incomplete stream must be temporary (exit 75)")
	}
	if acc.Content() != "partial " {
		t.Fatalf("partial answer lost: %q", acc.Content())
	}
}

func TestSSEInStreamError(t *testing.T) {
	body := "data: " + chunkJSON("a") + "\n\ndata: {\"error\":{\"type\":\"engine_overloaded_error\",\"message\":\"busy\"}}\n\n"
	acc, err := readAll(t, body)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Type != ErrTypeEngineOverloaded || apiErr.Message != "busy" {
		t.Fatalf("err = %#v", err)
	}
	if acc.Content() != "a" {
		t.Fatalf("content = %q", acc.Content())
	}
}

func TestSSEUsageLocations(t *testing.T) {
	// Usage inside choices[0] only (Moonshot's default).
	acc, err := readAll(t, "data: "+chunkJSON("a")+"\n\ndata: "+finalChunk+"\n\ndata: [DONE]\n\n")
	if err != nil {
		t.Fatal(err)
	}
	u := acc.Usage()
	if u == nil || u.PromptTokens != 3 || u.CompletionTokens != 2 || u.Cached() != 1 {
		t.Fatalf("usage = %+v", u)
	}
	if r := acc.Result(); r.Choices[0].FinishReason != "stop" {
		t.Fatalf("finish = %q", r.Choices[0].FinishReason)
	}
	// A top-level usage chunk wins (include_usage).
	top := `{"id":"c1","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":20,"total_tokens":50,"prompt_tokens_details":{"cached_tokens":9}}}`
	acc, err = readAll(t, "data: "+chunkJSON("a")+"\n\ndata: "+finalChunk+"\n\ndata: "+top+"\n\ndata: [DONE]\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if u := acc.Usage(); u.PromptTokens != 30 || u.Cached() != 9 {
		t.Fatalf("top-level usage ignored: %+v", u)
	}
}

func TestAccumulatorToolCallsAndReasoning(t *testing.T) {
	acc := readEvents(t,
		`{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
		`{"choices":[{"index":0,"delta":{"reasoning_content":"think "}}]}`,
		`{"choices":[{"index":0,"delta":{"reasoning_content":"more"}}]}`,
		`{"choices":[{"index":0,"delta":{"content":"ok"}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"get_weather_0","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"t_1","type":"function","function":{"name":"b","arguments":"{}"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`[DONE]`,
	)
	r := acc.Result()
	m := r.Choices[0].Message
	if m.ReasoningContent != "think more" || m.Content != "ok" || r.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("message = %+v", m)
	}
	if len(m.ToolCalls) != 2 || m.ToolCalls[0].Function.Arguments != `{"city": "Paris"}` ||
		m.ToolCalls[0].ID != "get_weather_0" || m.ToolCalls[1].Function.Name != "b" {
		t.Fatalf("tool calls = %+v", m.ToolCalls)
	}
}

func TestAccumulatorSeveralChoices(t *testing.T) {
	acc := readEvents(t,
		`{"choices":[{"index":0,"delta":{"content":"A"}},{"index":1,"delta":{"content":"B"}}]}`,
		`{"choices":[{"index":1,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}]}`,
		`[DONE]`,
	)
	r := acc.Result()
	if len(r.Choices) != 2 || r.Choices[0].Message.Content != "A" || r.Choices[1].Message.Content != "B" {
		t.Fatalf("choices = %+v", r.Choices)
	}
	if u := acc.Usage(); u.PromptTokens != 5 || u.CompletionTokens != 3 || u.TotalTokens != 8 {
		t.Fatalf("usage = %+v", u)
	}
}

// FuzzSSE feeds arbitrary bytes: the parser must never panic, and a well-formed stream it
// produces must round-trip.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("data: " + chunkJSON("hi") + "\n\ndata: [DONE]\n\n"))
	f.Add([]byte(": c\r\n\r\ndata:{\"choices\":[]}\r\n\r\ndata: [DONE]"))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: \ndata: \n\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := NewStream(io.NopCloser(bytes.NewReader(body)))
		var acc Accumulator
		for s.Next() {
			acc.Add(s.Current())
		}
		_ = acc.Result()
		if s.Err() == nil && !bytes.Contains(body, []byte("[DONE]")) {
			t.Fatalf("stream without [DONE] reported success: %q", body)
		}
	})
}

// recordedAnswer builds a Moonshot stream of size bytes in 4-byte deltas.
func recordedAnswer(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.6","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n")
	text := answerText(size)
	for i := 0; i < len(text); {
		j := min(i+4, len(text))
		for j < len(text) && !utf8.RuneStart(text[j]) {
			j++ // deltas end on rune boundaries, as the server's do
		}
		piece, _ := json.Marshal(text[i:j])
		i = j
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.6","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`+"\n\n", piece)
	}
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.6","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":10,"completion_tokens":131072,"total_tokens":131082}}]}` + "\n\ndata: [DONE]\n\n")
	return b.Bytes()
}

func answerText(size int) string {
	return strings.Repeat("The quick brown fox jumps over the lazy dog. 中文字符 ", size/50+1)[:size]
}

// BenchmarkStreamAccumulate: ChatStream's decoder + Accumulator over a 512 KB answer in 4-byte
// deltas (about 131,000 events).
func BenchmarkStreamAccumulate(b *testing.B) {
	body := recordedAnswer(512 << 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewStream(io.NopCloser(bytes.NewReader(body)))
		var acc Accumulator
		for s.Next() {
			acc.Add(s.Current())
		}
		if s.Err() != nil || len(acc.Content()) != len(answerText(512<<10)) {
			b.Fatal(s.Err(), len(acc.Content()))
		}
	}
}

// BenchmarkMinimalReader is the floor: bufio + one encoding/json decode per event.
func BenchmarkMinimalReader(b *testing.B) {
	body := recordedAnswer(512 << 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var sb strings.Builder
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
			if !ok || bytes.Equal(data, doneMarker) {
				continue
			}
			var c ChatCompletionChunk
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
			if len(c.Choices) > 0 {
				sb.WriteString(c.Choices[0].Delta.Content)
			}
		}
		if sb.Len() != len(answerText(512<<10)) {
			b.Fatal(sb.Len())
		}
	}
}
