package converse_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// callingModel plays a model that calls the function name with args until a tool message
// is in the conversation, then answers with what the tool said.
func callingModel(name, args string) func(*emulator.ChatRequest) emulator.Reply {
	return func(req *emulator.ChatRequest) emulator.Reply {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == "tool" {
			return emulator.Reply{Content: "The tool said: " + last.Content}
		}
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: name, Arguments: args}}}
	}
}

func newClient(t *testing.T, cfg emulator.Config) (*moonshot.Client, *emulator.Emulator) {
	t.Helper()
	e := emulator.NewHandler(cfg)
	client, err := moonshot.NewClient(moonshot.Options{APIKey: "sk-test", BaseURL: emulator.OfflineBaseURL, HTTPClient: e.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return client, e
}

// recorder keeps the tool events it sees.
type recorder struct {
	converse.Discard
	events  []string
	content strings.Builder
}

func (r *recorder) ToolCall(c moonshot.ToolCall) {
	r.events = append(r.events, "call "+c.Function.Name)
}
func (r *recorder) ToolResult(s converse.ToolStep) {
	r.events = append(r.events, "result "+s.Call.Function.Name)
}
func (r *recorder) Content(_ int, text string) { r.content.WriteString(text) }

func formulaTurn(t *testing.T, client *moonshot.Client, uri, question string) *converse.Turn {
	t.Helper()
	f, err := moonshot.ParseFormula(uri)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := client.FormulaTools(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	set := &moonshot.FormulaSet{}
	if err := set.Add(f, tools); err != nil {
		t.Fatal(err)
	}
	return &converse.Turn{
		Request: &moonshot.ChatRequest{Model: "kimi-k2-turbo-preview", Tools: set.Tools(),
			Messages: []moonshot.Message{moonshot.TextMessage("user", question)}},
		Tools: &converse.Formulas{Client: client, Set: set},
	}
}

func TestFormulaToolLoop(t *testing.T) {
	client, _ := newClient(t, emulator.Config{Reply: callingModel("base64_encode", `{"text":"moon"}`)})
	turn := formulaTurn(t, client, "moonshot/base64:latest", "encode moon")
	rec := &recorder{}
	res := (&converse.Engine{Client: client}).Run(context.Background(), turn, rec)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := res.Completion.Choices[0].Message.Content; got != "The tool said: bW9vbg==" || rec.content.String() != got {
		t.Fatalf("answer %q, streamed %q", got, rec.content.String())
	}
	if strings.Join(rec.events, ",") != "call base64_encode,result base64_encode" {
		t.Fatalf("events %v", rec.events)
	}
	if len(res.ToolSteps) != 1 || res.ToolSteps[0].Result.Failed || res.ToolSteps[0].Result.Content != "bW9vbg==" {
		t.Fatalf("steps %+v", res.ToolSteps)
	}
	// The transcript: the assistant turn with its call, then the tool message answering it.
	tt := res.ToolTurns
	if len(tt) != 2 || tt[0].Role != "assistant" || len(tt[0].ToolCalls) != 1 || tt[1].Role != "tool" ||
		tt[1].ToolCallID != tt[0].ToolCalls[0].ID || tt[1].Content.String() != "bW9vbg==" {
		t.Fatalf("tool turns %+v", tt)
	}
	// Usage is summed over both requests.
	if res.Completion.Usage == nil || res.Completion.Usage.PromptTokens == 0 {
		t.Fatalf("usage %+v", res.Completion.Usage)
	}
}

func TestFormulaErrorResultGoesBackToTheModel(t *testing.T) {
	// base64_decode of something that is not base64: the fiber fails, the model reads why.
	client, _ := newClient(t, emulator.Config{Reply: callingModel("base64_decode", `{"text":"%%%"}`)})
	turn := formulaTurn(t, client, "moonshot/base64:latest", "decode")
	res := (&converse.Engine{Client: client}).Run(context.Background(), turn, converse.Discard{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.ToolSteps) != 1 || !res.ToolSteps[0].Result.Failed ||
		!strings.HasPrefix(res.Completion.Choices[0].Message.Content, "The tool said: error: ") {
		t.Fatalf("steps %+v, answer %q", res.ToolSteps, res.Completion.Choices[0].Message.Content)
	}
}

// loopingModel calls the tool whatever the conversation holds.
type echoTools struct {
	result string
	bytes  int // the size the tools report for a result they cut themselves
	block  bool
}

func (echoTools) Runs(name string) bool { return name == "echo" }
func (e echoTools) Run(ctx context.Context, call moonshot.ToolCall) (converse.ToolResult, error) {
	if e.block {
		<-ctx.Done()
		return converse.ToolResult{}, ctx.Err()
	}
	return converse.ToolResult{Content: e.result, Bytes: e.bytes}, nil
}

// A result the tools cut themselves (pkg/mcphost does) is reported with its size before the cut.
func TestToolResultCutByTheToolsKeepsItsSize(t *testing.T) {
	cut, _ := converse.CapToolResult(strings.Repeat("x", 200_000), converse.MaxToolResultBytes)
	client, _ := newClient(t, emulator.Config{Reply: callingModel("echo", "{}")})
	res := (&converse.Engine{Client: client}).Run(context.Background(), echoTurn(echoTools{result: cut, bytes: 200_000}), converse.Discard{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if s := res.ToolSteps[0]; s.Bytes != 200_000 || s.Result.Content != cut {
		t.Fatalf("step bytes %d, content %d bytes (want %d)", s.Bytes, len(s.Result.Content), len(cut))
	}
}

func echoTurn(tools converse.Tools) *converse.Turn {
	return &converse.Turn{
		Request: &moonshot.ChatRequest{Model: "kimi-k2-turbo-preview",
			Tools:    []moonshot.Tool{{Type: "function", Function: &moonshot.FunctionDef{Name: "echo", Parameters: []byte(`{"type":"object"}`)}}},
			Messages: []moonshot.Message{moonshot.TextMessage("user", "go")}},
		Tools: tools,
	}
}

func TestMaxStepsStopsTheLoop(t *testing.T) {
	client, e := newClient(t, emulator.Config{Reply: func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: "echo", Arguments: "{}"}}}
	}})
	turn := echoTurn(echoTools{result: "again"})
	turn.MaxSteps = 3
	res := (&converse.Engine{Client: client}).Run(context.Background(), turn, converse.Discard{})
	var max *converse.ErrMaxSteps
	if !errors.As(res.Err, &max) || max.Steps != 3 {
		t.Fatalf("err %v", res.Err)
	}
	if n := len(e.Requests()); n != 4 || len(res.ToolSteps) != 3 {
		t.Fatalf("%d requests, %d steps; want 4 and 3", n, len(res.ToolSteps))
	}
	// What happened is kept: three assistant turns and three results.
	if len(res.ToolTurns) != 6 {
		t.Fatalf("tool turns %d", len(res.ToolTurns))
	}
}

func TestToolResultIsCapped(t *testing.T) {
	big := strings.Repeat("界", converse.MaxToolResultBytes) // 3 bytes each: three times the cap
	client, _ := newClient(t, emulator.Config{Reply: callingModel("echo", "{}")})
	res := (&converse.Engine{Client: client}).Run(context.Background(), echoTurn(echoTools{result: big}), converse.Discard{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	s := res.ToolSteps[0]
	kept, _, _ := strings.Cut(s.Result.Content, "\n[truncated by moonchat: ")
	marker := fmt.Sprintf("\n[truncated by moonchat: %d of %d bytes shown]", len(kept), len(big))
	if len(s.Result.Content) > converse.MaxToolResultBytes || s.Result.Content != kept+marker ||
		s.Bytes != len(big) || !strings.HasPrefix(big, kept) {
		t.Fatalf("cut to %d bytes (from %d), tail %q", len(s.Result.Content), s.Bytes, s.Result.Content[len(kept):])
	}
}

func TestCapToolResult(t *testing.T) {
	for _, tc := range []struct {
		in  string
		max int
	}{
		{strings.Repeat("a", 100), 100},
		{strings.Repeat("a", 101), 100},
		{strings.Repeat("日本", 1000), 64 << 10},
		{strings.Repeat("日本", 30000), 64 << 10},
		{strings.Repeat("x", 10), 5},
	} {
		out, cut := converse.CapToolResult(tc.in, tc.max)
		if cut != (len(tc.in) > tc.max) {
			t.Errorf("len %d max %d: cut = %v", len(tc.in), tc.max, cut)
		}
		if cut && (len(out) > max(tc.max, 60) || !strings.HasSuffix(out, fmt.Sprintf(" of %d bytes shown]", len(tc.in))) ||
			strings.ContainsRune(out, '\uFFFD')) {
			t.Errorf("len %d max %d: %d bytes, tail %q", len(tc.in), tc.max, len(out), out[max(0, len(out)-50):])
		}
		if !cut && out != tc.in {
			t.Error("an uncut text changed")
		}
	}
}

func TestToolTimeoutIsAResult(t *testing.T) {
	client, _ := newClient(t, emulator.Config{Reply: callingModel("echo", "{}")})
	turn := echoTurn(echoTools{block: true})
	turn.ToolTimeout = time.Millisecond // the tool never answers: the timeout is what ends it
	res := (&converse.Engine{Client: client}).Run(context.Background(), turn, converse.Discard{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if s := res.ToolSteps[0]; !s.Result.Failed || !strings.Contains(s.Result.Content, "did not answer within") {
		t.Fatalf("step %+v", s)
	}
}

func TestCancelStopsTheLoop(t *testing.T) {
	client, _ := newClient(t, emulator.Config{Reply: callingModel("echo", "{}")})
	ctx, cancel := context.WithCancel(context.Background())
	obs := &cancelOnCall{cancel: cancel}
	res := (&converse.Engine{Client: client}).Run(ctx, echoTurn(echoTools{block: true}), obs)
	if !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("err %v", res.Err)
	}
	// The call that was asked for is kept, for the history to show what happened, with a
	// result saying it was stopped: a continued conversation must answer every call.
	tt := res.ToolTurns
	if len(tt) != 2 || len(tt[0].ToolCalls) != 1 || tt[1].Role != "tool" || tt[1].ToolCallID != tt[0].ToolCalls[0].ID ||
		!strings.Contains(tt[1].Content.String(), "stopped") {
		t.Fatalf("tool turns %+v", tt)
	}
}

type cancelOnCall struct {
	converse.Discard
	cancel func()
}

func (c *cancelOnCall) ToolCall(moonshot.ToolCall) { c.cancel() }

func TestCallsOfOtherToolsAreTheAnswer(t *testing.T) {
	client, e := newClient(t, emulator.Config{Reply: callingModel("other", "{}")})
	turn := echoTurn(echoTools{})
	turn.Request.Tools = append(turn.Request.Tools, moonshot.Tool{Type: "function", Function: &moonshot.FunctionDef{Name: "other", Parameters: []byte(`{"type":"object"}`)}})
	res := (&converse.Engine{Client: client}).Run(context.Background(), turn, converse.Discard{})
	if res.Err != nil || len(e.Requests()) != 1 || res.Completion.Choices[0].FinishReason != "tool_calls" || len(res.ToolSteps) != 0 {
		t.Fatalf("err %v, %d requests, %+v", res.Err, len(e.Requests()), res.Completion.Choices[0])
	}
}
