package moonshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// liteLLMVectors are the request cases of LiteLLM's Moonshot tests,
// tests/test_litellm/llms/moonshot/test_moonshot_chat_transformation.py in BerriAI/litellm at
// commit a65476edaf0ce96f127c51525078c5222ed6ba78, one row per case (a loop over values there is
// one row per value here). Each body is what LiteLLM's test hands to its Moonshot config; check
// holds the test's assertions on the body LiteLLM sends (where moonchat does better, the row
// says so). Every fixed body must then be accepted by the emulator.
var liteLLMVectors = []struct {
	test  string
	body  string
	check func(t *testing.T, fixed map[string]any)
}{
	{"test_default_api_base", `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}]}`,
		func(t *testing.T, b map[string]any) { wantMessages(t, b, "Hey") }},
	// LiteLLM excludes functions (they are not in its supported params); moonchat translates
	// them to tools, which Moonshot accepts. Either way no functions key is sent.
	{"test_get_supported_openai_params / test_map_openai_params_excludes_functions",
		`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}],"functions":[{"name":"test_function","description":"Test function"}],"temperature":0.7,"max_tokens":1000}`,
		func(t *testing.T, b map[string]any) {
			want(t, b, "functions", nil)
			want(t, b, "temperature", 0.7)
			want(t, b, "max_tokens", 1000.0)
		}},
	{"test_map_openai_params_allows_other_tool_choice_values (auto)", toolChoiceBody(`"auto"`, "test"),
		func(t *testing.T, b map[string]any) { want(t, b, "tool_choice", "auto") }},
	{"test_map_openai_params_allows_other_tool_choice_values (none)", toolChoiceBody(`"none"`, "test"),
		func(t *testing.T, b map[string]any) { want(t, b, "tool_choice", "none") }},
	{"test_map_openai_params_allows_other_tool_choice_values (function)", toolChoiceBody(`{"type":"function","function":{"name":"test"}}`, "test"),
		func(t *testing.T, b map[string]any) {
			want(t, b, "tool_choice", map[string]any{"type": "function", "function": map[string]any{"name": "test"}})
		}},
	{"test_map_openai_params_max_completion_tokens_mapping",
		`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}],"max_completion_tokens":1000,"temperature":0.7}`,
		func(t *testing.T, b map[string]any) {
			want(t, b, "max_tokens", 1000.0)
			want(t, b, "max_completion_tokens", nil)
			want(t, b, "temperature", 0.7)
		}},
	{"test_temperature_handling_clamps_to_max_1", `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}],"temperature":1.5}`,
		func(t *testing.T, b map[string]any) { want(t, b, "temperature", 1.0) }},
	{"test_temperature_handling_low_temp_with_multiple_n", `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}],"temperature":0.1,"n":3}`,
		func(t *testing.T, b map[string]any) { want(t, b, "temperature", 0.3); want(t, b, "n", 3.0) }},
	{"test_temperature_handling_low_temp_single_n", `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}],"temperature":0.1,"n":1}`,
		func(t *testing.T, b map[string]any) { want(t, b, "temperature", 0.1); want(t, b, "n", 1.0) }},
	{"test_temperature_handling_valid_range (0.3)", validRangeBody(0.3), func(t *testing.T, b map[string]any) { want(t, b, "temperature", 0.3) }},
	{"test_temperature_handling_valid_range (0.5)", validRangeBody(0.5), func(t *testing.T, b map[string]any) { want(t, b, "temperature", 0.5) }},
	{"test_temperature_handling_valid_range (0.7)", validRangeBody(0.7), func(t *testing.T, b map[string]any) { want(t, b, "temperature", 0.7) }},
	{"test_temperature_handling_valid_range (1.0)", validRangeBody(1.0), func(t *testing.T, b map[string]any) { want(t, b, "temperature", 1.0) }},
	{"test_tool_choice_required_adds_message",
		`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"What's the weather like?"}],"tool_choice":"required","tools":[{"type":"function","function":{"name":"get_weather"}}]}`,
		func(t *testing.T, b map[string]any) {
			wantMessages(t, b, "What's the weather like?", moonshot.RequiredToolMessage)
			want(t, b, "tool_choice", nil)
			if tools, _ := b["tools"].([]any); len(tools) != 1 {
				t.Errorf("tools = %v", b["tools"])
			}
		}},
	{"test_tool_choice_required_preserves_other_params",
		`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Calculate 2+2"}],"tool_choice":"required","tools":[{"type":"function","function":{"name":"calculator"}}],"temperature":0.7,"max_tokens":1000}`,
		func(t *testing.T, b map[string]any) {
			want(t, b, "temperature", 0.7)
			want(t, b, "max_tokens", 1000.0)
			want(t, b, "tool_choice", nil)
			wantMessages(t, b, "Calculate 2+2", moonshot.RequiredToolMessage)
		}},
	{"test_tool_choice_non_required_preserved (auto)", toolChoiceBody(`"auto"`, "get_weather"),
		func(t *testing.T, b map[string]any) {
			want(t, b, "tool_choice", "auto")
			wantMessages(t, b, "What's the weather?")
		}},
	{"test_tool_choice_non_required_preserved (none)", toolChoiceBody(`"none"`, "get_weather"),
		func(t *testing.T, b map[string]any) {
			want(t, b, "tool_choice", "none")
			wantMessages(t, b, "What's the weather?")
		}},
	{"test_tool_choice_non_required_preserved (function)", toolChoiceBody(`{"type":"function","function":{"name":"get_weather"}}`, "get_weather"),
		func(t *testing.T, b map[string]any) {
			want(t, b, "tool_choice", map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}})
			wantMessages(t, b, "What's the weather?")
		}},
}

func toolChoiceBody(choice, tool string) string {
	return fmt.Sprintf(`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"What's the weather?"}],"tool_choice":%s,"tools":[{"type":"function","function":{"name":%q}}]}`, choice, tool)
}

func validRangeBody(temp float64) string {
	return fmt.Sprintf(`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Hey"}],"temperature":%v,"n":2}`, temp)
}

func want(t *testing.T, body map[string]any, key string, value any) {
	t.Helper()
	got, ok := body[key]
	if value == nil {
		if ok {
			t.Errorf("%s = %v, want it absent", key, got)
		}
		return
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(value)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", key, g, w)
	}
}

func wantMessages(t *testing.T, body map[string]any, contents ...string) {
	t.Helper()
	msgs, _ := body["messages"].([]any)
	var got []string
	for _, m := range msgs {
		c, _ := m.(map[string]any)["content"].(string)
		got = append(got, c)
	}
	if strings.Join(got, "|") != strings.Join(contents, "|") {
		t.Errorf("messages %q, want %q", got, contents)
	}
}

// fixAndSend fixes body and sends it to the emulator; it returns the fixed body as sent.
func fixAndSend(t *testing.T, c *moonshot.Client, body string) (map[string]any, error) {
	t.Helper()
	var r moonshot.ChatRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	fixed, _, err := moonshot.Fix(&r, moonshot.FixOptions{})
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(fixed)
	var sent map[string]any
	_ = json.Unmarshal(raw, &sent)
	_, err = c.CompletePrepared(context.Background(), fixed, nil)
	return sent, err
}

func TestLiteLLMVectorsThroughFixAndEmulator(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv)
	for _, v := range liteLLMVectors {
		t.Run(v.test, func(t *testing.T) {
			sent, err := fixAndSend(t, c, v.body)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			v.check(t, sent)
		})
	}
	// test_default_api_base: no base given, no MOONSHOT_API_BASE: the global platform.
	t.Setenv(moonshot.EnvAPIBase, "")
	if d, err := moonshot.NewClient(moonshot.Options{APIKey: "k"}); err != nil || d.BaseURL() != "https://api.moonshot.ai/v1" {
		t.Errorf("default base %v %v", d, err)
	}
}

// TestEveryFamilyAndFlagIsAccepted runs every family's models through every combination of
// the request options moonchat and LiteLLM clients send: whatever Fix lets through, the
// emulator (which refuses what the real API refuses) must accept. The only requests Fix may
// refuse are those no fix can make valid, listed in refused.
func TestEveryFamilyAndFlagIsAccepted(t *testing.T) {
	srv := start(t)
	c := newClient(t, srv, func(o *moonshot.Options) { o.MaxRetries = intp(0) })
	models := []string{"moonshot-v1-8k", "kimi-latest", "kimi-k2-turbo-preview", "kimi-k2-thinking",
		"kimi-k2.5", "kimi-k2.6", "kimi-k2.7-code", "kimi-k3", "kimi-k3.1-pro", "moonshot/kimi-k2.6"}
	temps := []string{"", `"temperature":0.1`, `"temperature":0.7`, `"temperature":1.5`}
	ns := []string{"", `"n":3`}
	choices := []string{"", `"tool_choice":"auto"`, `"tool_choice":"none"`, `"tool_choice":"required"`,
		`"tool_choice":{"type":"function","function":{"name":"get_weather"}}`}
	thinking := []string{"", `"thinking":{"type":"enabled"}`, `"thinking":{"type":"disabled"}`}
	extras := []string{"",
		`"top_p":0.9,"presence_penalty":0.5,"frequency_penalty":0.2,"reasoning_effort":"low","max_completion_tokens":800`,
		`"max_tokens":600,"stop":["END"],"history":true`,
		`"web_search":true`,
	}
	// refused: the requests no fix can make valid.
	refused := func(model, extra string) bool {
		return strings.HasPrefix(model, "kimi-k2.7-code") && strings.Contains(extra, "web_search")
	}
	const weather = `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}`
	count := 0
	for _, model := range models {
		for _, temp := range temps {
			for _, n := range ns {
				for _, choice := range choices {
					for _, th := range thinking {
						for _, extra := range extras {
							messages := `[{"role":"user","content":"Weather in Paris?"}]`
							tools := weather
							fields := []string{}
							for _, f := range []string{temp, n, choice, th} {
								if f != "" {
									fields = append(fields, f)
								}
							}
							x := extra
							if strings.Contains(x, `"history":true`) {
								// An earlier tool-call turn, its reasoning lost (as from an OpenAI client).
								x = strings.Replace(x, `,"history":true`, "", 1)
								messages = `[{"role":"user","content":"Weather in Paris?"},` +
									`{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
									`{"role":"tool","tool_call_id":"call_1","content":"sunny"},{"role":"user","content":"And Lyon?"}]`
							}
							if x == `"web_search":true` {
								x = ""
								tools += `,{"type":"builtin_function","function":{"name":"$web_search"}}`
							}
							if x != "" {
								fields = append(fields, x)
							}
							body := fmt.Sprintf(`{"model":%q,"messages":%s,"tools":[%s]`, model, messages, tools)
							if len(fields) > 0 {
								body += "," + strings.Join(fields, ",")
							}
							body += "}"
							count++
							_, err := fixAndSend(t, c, body)
							var inv *moonshot.InvalidRequestError
							switch {
							case refused(model, extra):
								if !errors.As(err, &inv) {
									t.Errorf("%s: want a local refusal, got %v", body, err)
								}
							case err != nil:
								t.Errorf("%s: %v", body, err)
							}
						}
					}
				}
			}
		}
	}
	if count != len(models)*len(temps)*len(ns)*len(choices)*len(thinking)*len(extras) {
		t.Fatalf("%d combinations", count)
	}
}
