package moonshot

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }
func strp(v string) *string  { return &v }

func userReq(model string) *ChatRequest {
	return &ChatRequest{Model: model, Messages: []Message{TextMessage("user", "hi")}}
}

var weatherTool = Tool{Type: "function", Function: &FunctionDef{Name: "get_weather",
	Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}

// TestLiteLLMRules is LiteLLM's three rules (docs/moonshot-api.md §2) with their edge cases, on a legacy model (where LiteLLM's
// rules are the whole story).
func TestLiteLLMRules(t *testing.T) {
	const model = "kimi-k2-turbo-preview" // legacy, default temperature 0.6
	tests := []struct {
		name     string
		temp     *float64
		n        *int
		wantTemp *float64
		wantAdj  int
	}{
		{"1.5 without n", f64(1.5), nil, f64(1), 1},
		{"1.5 with n 3: rule 2 does not fire", f64(1.5), intp(3), f64(1), 1},
		{"exactly 1 unchanged", f64(1), nil, f64(1), 0},
		{"exactly 0.3 with n 2 unchanged", f64(0.3), intp(2), f64(0.3), 0},
		{"0.1 with n 1 unchanged", f64(0.1), intp(1), f64(0.1), 0},
		{"0 with n 2", f64(0), intp(2), f64(0.3), 1},
		{"0.1 with n 2", f64(0.1), intp(2), f64(0.3), 1},
		{"0.7 with n 2 unchanged", f64(0.7), intp(2), f64(0.7), 0},
		{"absent stays absent", nil, nil, nil, 0},
		{"absent with n 2 on a 0.6-default model stays absent", nil, intp(2), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := userReq(model)
			req.Temperature, req.N = tt.temp, tt.n
			got, adj, err := Fix(req, FixOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Temperature, tt.wantTemp) {
				t.Fatalf("temperature = %v, want %v", deref(got.Temperature), deref(tt.wantTemp))
			}
			if len(adj) != tt.wantAdj {
				t.Fatalf("adjustments = %v, want %d", adj, tt.wantAdj)
			}
			if !reflect.DeepEqual(got.N, tt.n) {
				t.Fatalf("n changed: %v", got.N)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestToolChoiceRequiredRule3(t *testing.T) {
	req := userReq("moonshot-v1-8k")
	req.Tools = []Tool{weatherTool}
	req.ToolChoice = &ToolChoice{Mode: "required"}
	req.Temperature = f64(0.7)
	req.MaxTokens = intp(1000)
	got, adj, err := Fix(req, FixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ToolChoice != nil {
		t.Fatalf("tool_choice kept: %v", got.ToolChoice)
	}
	if len(got.Messages) != 2 || got.Messages[0].Content.Text != "hi" ||
		got.Messages[1].Role != "user" || got.Messages[1].Content.Text != RequiredToolMessage {
		t.Fatalf("messages = %+v", got.Messages)
	}
	if len(got.Tools) != 1 || got.Tools[0].Function.Name != "get_weather" {
		t.Fatalf("tools not kept: %+v", got.Tools)
	}
	if *got.Temperature != 0.7 || *got.MaxTokens != 1000 {
		t.Fatalf("other params changed: %v %v", *got.Temperature, *got.MaxTokens)
	}
	if len(adj) != 1 || adj[0].Param != "tool_choice" || adj[0].From != "required" || adj[0].To != nil {
		t.Fatalf("adjustments = %+v", adj)
	}
	// The caller's request is untouched.
	if req.ToolChoice == nil || len(req.Messages) != 1 {
		t.Fatal("Fix mutated its input")
	}
}

func TestToolChoiceOtherValuesUnchanged(t *testing.T) {
	for _, tc := range []*ToolChoice{{Mode: "auto"}, {Mode: "none"}, {Function: "get_weather"}} {
		req := userReq("moonshot-v1-8k")
		req.Tools = []Tool{weatherTool}
		req.ToolChoice = tc
		got, adj, err := Fix(req, FixOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.ToolChoice, tc) || len(got.Messages) != 1 || len(adj) != 0 {
			t.Fatalf("%v: changed to %v, %d messages, %v", tc, got.ToolChoice, len(got.Messages), adj)
		}
	}
}

// TestFamilies covers part 2: one row per family rule.
func TestFamilies(t *testing.T) {
	type check func(t *testing.T, got *ChatRequest, adj []Adjustment)
	hasAdj := func(param string) check {
		return func(t *testing.T, _ *ChatRequest, adj []Adjustment) {
			for _, a := range adj {
				if a.Param == param {
					return
				}
			}
			t.Fatalf("no adjustment of %s in %v", param, adj)
		}
	}
	tests := []struct {
		name   string
		model  string
		mutate func(r *ChatRequest)
		checks []check
	}{
		{"legacy: moonshot-v1 n>1 without temperature gets 0.3", "moonshot-v1-32k",
			func(r *ChatRequest) { r.N = intp(2) },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Temperature == nil || *got.Temperature != 0.3 {
					t.Fatalf("temperature = %v", deref(got.Temperature))
				}
			}, hasAdj("temperature")}},
		{"legacy: thinking switch never sent", "moonshot-v1-8k",
			func(r *ChatRequest) { r.Thinking = &Thinking{Type: "enabled"} },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Thinking != nil {
					t.Fatal("thinking sent to a legacy model")
				}
			}, hasAdj("thinking")}},
		{"legacy: max_completion_tokens becomes max_tokens", "kimi-k2-0905-preview",
			func(r *ChatRequest) { r.MaxCompletionTokens = intp(500) },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.MaxCompletionTokens != nil || got.MaxTokens == nil || *got.MaxTokens != 500 {
					t.Fatalf("max tokens = %v / %v", got.MaxTokens, got.MaxCompletionTokens)
				}
			}, hasAdj("max_completion_tokens")}},
		{"thinking: rules 1-2 apply", "kimi-k2-thinking",
			func(r *ChatRequest) { r.Temperature = f64(1.4) },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if *got.Temperature != 1 {
					t.Fatalf("temperature = %v", *got.Temperature)
				}
			}}},
		{"thinking: named tool_choice becomes rule 3", "kimi-k2-thinking",
			func(r *ChatRequest) {
				r.Tools = []Tool{weatherTool}
				r.ToolChoice = &ToolChoice{Function: "get_weather"}
			},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.ToolChoice != nil || got.Messages[len(got.Messages)-1].Content.Text != RequiredToolMessage {
					t.Fatalf("named choice kept: %+v", got.ToolChoice)
				}
			}, hasAdj("tool_choice")}},
		{"thinking: lost reasoning_content on tool turns gets a space", "kimi-k2-thinking",
			func(r *ChatRequest) {
				r.Messages = append(r.Messages,
					Message{Role: "assistant", ToolCalls: []ToolCall{{ID: "c1", Type: "function", Function: FunctionCall{Name: "get_weather", Arguments: "{}"}}}},
					Message{Role: "tool", ToolCallID: "c1", Content: Text("sunny")})
			},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if rc := got.Messages[1].ReasoningContent; rc == nil || *rc != " " {
					t.Fatalf("reasoning_content = %v", rc)
				}
			}, hasAdj("messages[1].reasoning_content")}},
		{"thinking: real reasoning_content kept", "kimi-k2-thinking",
			func(r *ChatRequest) {
				r.Messages = append(r.Messages,
					Message{Role: "assistant", ReasoningContent: strp("I need weather"), ToolCalls: []ToolCall{{ID: "c1", Type: "function", Function: FunctionCall{Name: "get_weather", Arguments: "{}"}}}},
					Message{Role: "tool", ToolCallID: "c1", Content: Text("sunny")})
			},
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if *got.Messages[1].ReasoningContent != "I need weather" || len(adj) != 0 {
					t.Fatalf("reasoning changed: %q %v", *got.Messages[1].ReasoningContent, adj)
				}
			}}},
		{"fixed: sampling dropped", "kimi-k2.6",
			func(r *ChatRequest) {
				r.Temperature, r.TopP, r.PresencePenalty, r.FrequencyPenalty = f64(0.7), f64(0.9), f64(0.5), f64(0.1)
			},
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if got.Temperature != nil || got.TopP != nil || got.PresencePenalty != nil || got.FrequencyPenalty != nil {
					t.Fatal("sampling sent to a fixed model")
				}
				if len(adj) != 4 {
					t.Fatalf("want 4 adjustments, got %v", adj)
				}
			}}},
		{"fixed: n dropped", "kimi-k2.5",
			func(r *ChatRequest) { r.N = intp(3) },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.N != nil {
					t.Fatal("n sent")
				}
			}, hasAdj("n")}},
		{"fixed: required with thinking on becomes rule 3", "kimi-k2.6",
			func(r *ChatRequest) { r.Tools = []Tool{weatherTool}; r.ToolChoice = &ToolChoice{Mode: "required"} },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.ToolChoice != nil || len(got.Messages) != 2 {
					t.Fatal("rule 3 not applied")
				}
			}}},
		// --no-thinking on k2.5/k2.6 (or a proxy alias with thinking disabled): Moonshot still
		// refuses "required", so rule 3 applies as on every model not known to accept it.
		{"fixed: required with thinking disabled becomes rule 3", "kimi-k2.6",
			func(r *ChatRequest) {
				r.Thinking = &Thinking{Type: "disabled"}
				r.Tools = []Tool{weatherTool}
				r.ToolChoice = &ToolChoice{Mode: "required"}
			},
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if got.ToolChoice != nil || len(got.Messages) != 2 || got.Messages[1].Content.String() != RequiredToolMessage || len(got.Tools) != 1 {
					t.Fatalf("rule 3 not applied: %v %v", got.ToolChoice, got.Messages)
				}
				if got.Thinking == nil || got.Thinking.Type != "disabled" {
					t.Fatalf("thinking changed: %v", got.Thinking)
				}
			}, hasAdj("tool_choice")}},
		{"k3: required passes", "kimi-k3",
			func(r *ChatRequest) { r.Tools = []Tool{weatherTool}; r.ToolChoice = &ToolChoice{Mode: "required"} },
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if got.ToolChoice == nil || got.ToolChoice.Mode != "required" || len(got.Messages) != 1 || len(adj) != 0 {
					t.Fatalf("changed: %v %v", got.ToolChoice, adj)
				}
			}}},
		{"fixed: named with thinking on dropped + message", "kimi-k2.6",
			func(r *ChatRequest) {
				r.Tools = []Tool{weatherTool}
				r.ToolChoice = &ToolChoice{Function: "get_weather"}
			},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.ToolChoice != nil || got.Messages[1].Content.Text != RequiredToolMessage {
					t.Fatal("named kept")
				}
			}}},
		{"fixed: k2.7-code cannot disable thinking", "kimi-k2.7-code",
			func(r *ChatRequest) { r.Thinking = &Thinking{Type: "disabled"} },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Thinking.Type != "enabled" {
					t.Fatal("disabled kept")
				}
			}, hasAdj("thinking")}},
		{"fixed: web search disables thinking", "kimi-k2.6",
			func(r *ChatRequest) { r.Tools = []Tool{WebSearchTool()} },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Thinking == nil || got.Thinking.Type != "disabled" {
					t.Fatal("thinking not disabled")
				}
			}, hasAdj("thinking")}},
		{"fixed: later kimi-k2.N recognised", "kimi-k2.9",
			func(r *ChatRequest) { r.Temperature = f64(0.2) },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Temperature != nil {
					t.Fatal("temperature sent to kimi-k2.9")
				}
			}}},
		{"k3: sampling and n dropped, thinking never sent", "kimi-k3",
			func(r *ChatRequest) { r.Temperature = f64(0.5); r.N = intp(2); r.Thinking = &Thinking{Type: "enabled"} },
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if got.Temperature != nil || got.N != nil || got.Thinking != nil || len(adj) != 3 {
					t.Fatalf("k3: %+v %v", got, adj)
				}
			}}},
		{"k3: required and named pass", "kimi-k3",
			func(r *ChatRequest) { r.Tools = []Tool{weatherTool}; r.ToolChoice = &ToolChoice{Mode: "required"} },
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if got.ToolChoice == nil || got.ToolChoice.Mode != "required" || len(adj) != 0 {
					t.Fatal("required changed on k3")
				}
			}}},
		{"k3: reasoning_effort kept", "kimi-k3",
			func(r *ChatRequest) { r.ReasoningEffort = "low" },
			[]check{func(t *testing.T, got *ChatRequest, adj []Adjustment) {
				if got.ReasoningEffort != "low" || len(adj) != 0 {
					t.Fatal("effort changed")
				}
			}}},
		{"non-k3: reasoning_effort dropped", "kimi-k2.6",
			func(r *ChatRequest) { r.ReasoningEffort = "high" },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.ReasoningEffort != "" {
					t.Fatal("effort sent")
				}
			}, hasAdj("reasoning_effort")}},
		{"provider prefix stripped", "moonshot/kimi-k2.6",
			func(r *ChatRequest) {},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Model != "kimi-k2.6" {
					t.Fatalf("model = %q", got.Model)
				}
			}}},
		{"unknown model gets legacy rules", "some-new-model",
			func(r *ChatRequest) { r.Temperature = f64(1.5) },
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if *got.Temperature != 1 {
					t.Fatal("legacy rule 1 not applied")
				}
			}}},
		{"functions translated to tools", "moonshot-v1-8k",
			func(r *ChatRequest) {
				r.Functions = json.RawMessage(`[{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]`)
				r.FunctionCall = json.RawMessage(`{"name":"get_weather"}`)
			},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Functions != nil || got.FunctionCall != nil || len(got.Tools) != 1 || got.ToolChoice.Function != "get_weather" {
					t.Fatalf("not translated: %+v", got)
				}
			}, hasAdj("functions"), hasAdj("function_call")}},
		{"text-only parts joined", "kimi-k2.6",
			func(r *ChatRequest) {
				r.Messages[0].Content = Parts(ContentPart{Type: "text", Text: "a"}, ContentPart{Type: "text", Text: "b"})
			},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if got.Messages[0].Content.IsParts() || got.Messages[0].Content.Text != "ab" {
					t.Fatalf("content = %+v", got.Messages[0].Content)
				}
			}}},
		{"image parts untouched", "kimi-k2.6",
			func(r *ChatRequest) {
				r.Messages[0].Content = Parts(ContentPart{Type: "text", Text: "a"}, ContentPart{Type: "image_url", ImageURL: &MediaURL{URL: "data:image/png;base64,AA=="}})
			},
			[]check{func(t *testing.T, got *ChatRequest, _ []Adjustment) {
				if !got.Messages[0].Content.IsParts() || len(got.Messages[0].Content.Parts) != 2 {
					t.Fatal("image parts changed")
				}
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := userReq(tt.model)
			tt.mutate(req)
			before, _ := json.Marshal(req)
			got, adj, err := Fix(req, FixOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				c(t, got, adj)
			}
			after, _ := json.Marshal(req)
			if string(before) != string(after) {
				t.Fatalf("Fix mutated its input:\n%s\n%s", before, after)
			}
		})
	}
}

func TestFixRejectsWhatCannotBeFixed(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *ChatRequest)
		want   string
	}{
		{"unknown role", func(r *ChatRequest) { r.Messages[0].Role = "robot" }, "unknown role"},
		{"empty message", func(r *ChatRequest) { r.Messages[0].Content = Text("") }, "empty"},
		{"no messages", func(r *ChatRequest) { r.Messages = nil }, "no messages"},
		{"six stops", func(r *ChatRequest) { r.Stop = StopList{"a", "b", "c", "d", "e", "f"} }, "at most 5"},
		{"long stop", func(r *ChatRequest) { r.Stop = StopList{strings.Repeat("x", 33)} }, "32"},
		{"bad tool name", func(r *ChatRequest) {
			r.Tools = []Tool{{Type: "function", Function: &FunctionDef{Name: "$bad"}}}
		}, "not allowed"},
		{"untyped property", func(r *ChatRequest) {
			r.Tools = []Tool{{Type: "function", Function: &FunctionDef{Name: "get_x",
				Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"description":"x"}}}}}`)}}}
		}, "parameters.properties.a.properties.b has no type"},
		{"too many tools", func(r *ChatRequest) {
			for i := 0; i < 129; i++ {
				r.Tools = append(r.Tools, weatherTool)
			}
		}, "at most 128"},
		{"n above 5", func(r *ChatRequest) { r.N = intp(6) }, "at most 5"},
		{"partial not last", func(r *ChatRequest) {
			r.Messages = []Message{{Role: "assistant", Content: Text("x"), Partial: true}, TextMessage("user", "y")}
		}, "partial"},
		{"image to a text model", func(r *ChatRequest) {
			r.Messages[0].Content = Parts(ContentPart{Type: "image_url", ImageURL: &MediaURL{URL: "data:image/png;base64,AA=="}})
		}, "kimi-k2.6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := userReq("moonshot-v1-8k")
			tt.mutate(req)
			_, _, err := Fix(req, FixOptions{})
			var inv *InvalidRequestError
			if !errors.As(err, &inv) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want InvalidRequestError containing %q", err, tt.want)
			}
			if !IsRejected(err) {
				t.Fatal("a local rejection must classify as rejected")
			}
		})
	}
}

func TestAdjustmentString(t *testing.T) {
	a := Adjustment{Param: "temperature", From: 1.5, To: 1.0, Reason: "Moonshot accepts 0–1"}
	if got := a.String(); got != "temperature 1.5 → 1 (Moonshot accepts 0–1)" {
		t.Fatalf("%q", got)
	}
	b := Adjustment{Param: "temperature", From: 0.7, Reason: "x"}
	if got := b.String(); got != "temperature 0.7 dropped (x)" {
		t.Fatalf("%q", got)
	}
}

// TestAdjustmentStringPrintsJSON: a dropped map or list is shown as JSON, never in Go syntax.
func TestAdjustmentStringPrintsJSON(t *testing.T) {
	for _, c := range []struct {
		from any
		want string
	}{
		{map[string]any{"tag": "x"}, `metadata {"tag":"x"} dropped (r)`},
		{[]any{"a", 1.0}, `metadata ["a",1] dropped (r)`},
		{true, `metadata true dropped (r)`},
		{3, `metadata 3 dropped (r)`},
	} {
		if got := (Adjustment{Param: "metadata", From: c.from, Reason: "r"}).String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestUnknownContentPartsSentVerbatim: parts of a type this package does not read
// (input_audio, file) reach the server exactly as the caller sent them.
func TestUnknownContentPartsSentVerbatim(t *testing.T) {
	in := `{"model":"kimi-k2.6","messages":[{"role":"user","content":[` +
		`{"type":"text","text":"what is said?"},` +
		`{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},` +
		`{"type":"file","file":{"file_id":"f-1","filename":"a.pdf"}}]}]}`
	var r ChatRequest
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	fixed, adj, err := Fix(&r, FixOptions{})
	if err != nil || len(adj) != 0 {
		t.Fatalf("err %v adj %v", err, adj)
	}
	body, _ := json.Marshal(fixed)
	for _, part := range []string{`{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}`,
		`{"type":"file","file":{"file_id":"f-1","filename":"a.pdf"}}`, `{"type":"text","text":"what is said?"}`} {
		if !strings.Contains(string(body), part) {
			t.Errorf("part %s not sent verbatim in %s", part, body)
		}
	}
}

// TestProviderReasoningPromoted: LiteLLM keeps a tool-call turn's reasoning in
// provider_specific_fields; it is sent as reasoning_content, not replaced by " ".
func TestProviderReasoningPromoted(t *testing.T) {
	in := `{"model":"kimi-k2.6","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"messages":[` +
		`{"role":"user","content":"weather?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}],"provider_specific_fields":{"reasoning_content":"I should call get_weather."}},` +
		`{"role":"tool","tool_call_id":"c1","content":"sunny"}]}`
	var r ChatRequest
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	fixed, adj, err := Fix(&r, FixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(adj) != 0 {
		t.Errorf("promotion is not a change of value: %v", adj)
	}
	if rc := fixed.Messages[1].ReasoningContent; rc == nil || *rc != "I should call get_weather." {
		t.Fatalf("reasoning_content = %v", rc)
	}
	if r.Messages[1].ReasoningContent != nil {
		t.Fatal("Fix mutated its input")
	}
	body, _ := json.Marshal(fixed)
	if strings.Contains(string(body), "provider_specific_fields") {
		t.Fatalf("provider_specific_fields sent upstream: %s", body)
	}
}

func TestRequestRoundTripKeepsUnknownFields(t *testing.T) {
	in := `{"model":"kimi-k2.6","messages":[{"role":"user","content":"hi"}],"stop":"x","seed":7,"metadata":{"a":1}}`
	var r ChatRequest
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Stop) != 1 || r.Stop[0] != "x" || len(r.Extra) != 2 {
		t.Fatalf("decoded %+v", r)
	}
	out, _ := json.Marshal(r)
	var back map[string]any
	_ = json.Unmarshal(out, &back)
	if back["seed"] != 7.0 || back["metadata"] == nil || back["model"] != "kimi-k2.6" {
		t.Fatalf("round trip lost fields: %s", out)
	}
}
