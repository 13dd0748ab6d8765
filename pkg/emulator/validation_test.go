package emulator

import (
	"fmt"
	"strings"
	"testing"
)

// toolCallHistory is a tool loop: the assistant called get_weather, the tool
// answered. reasoning is inserted verbatim into the assistant message.
func toolCallHistory(reasoning string) string {
	return `[{"role":"user","content":"weather?"},
	{"role":"assistant","content":"",` + reasoning + `"tool_calls":[{"id":"get_weather_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
	{"role":"tool","tool_call_id":"get_weather_0","name":"get_weather","content":"sunny"}]`
}

const weatherTool = `,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`

func tools(n int) string {
	var b strings.Builder
	b.WriteString(`,"tools":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"function","function":{"name":"tool_%d"}}`, i)
	}
	b.WriteString("]")
	return b.String()
}

const (
	pngURL = `data:image/png;base64,iVBORw0KGgo=`
	ok     = 200
	bad    = 400
)

// TestValidation proves each rule of the real API, both ways: what it
// rejects (status, error type, message) and the nearest thing it accepts.
func TestValidation(t *testing.T) {
	s := start(t, Config{})
	long := strings.Repeat("word ", 8200) // about 8200 tokens: more than moonshot-v1-8k holds
	for _, tc := range []struct {
		name     string
		body     string
		status   int
		errType  string // default invalid_request_error for 400
		contains string
	}{
		// Envelope.
		{"malformed JSON", `{"model":`, bad, "", "not a valid JSON object"},
		{"JSON array body", `[]`, bad, "", "not a valid JSON object"},
		{"missing model", `{"messages":[{"role":"user","content":"hi"}]}`, bad, "", "model is required"},
		{"unknown model", chatBody("kimi-k9", "", ""), 404, "resource_not_found_error", "Not found the model kimi-k9 or Permission denied"},
		{"missing messages", `{"model":"kimi-k2.6"}`, bad, "", "messages is required"},
		{"empty messages", chatBody("kimi-k2.6", `[]`, ""), bad, "", "messages must not be empty"},
		{"unknown role", chatBody("kimi-k2.6", `[{"role":"robot","content":"x"}]`, ""), bad, "", `unknown role "robot"`},
		{"empty user content", chatBody("kimi-k2.6", `[{"role":"user","content":""}]`, ""), bad, "", "must not be empty"},
		{"missing user content", chatBody("kimi-k2.6", `[{"role":"user"}]`, ""), bad, "", "must not be empty"},
		{"empty system content", chatBody("kimi-k2.6", `[{"role":"system","content":""},{"role":"user","content":"x"}]`, ""), bad, "", "system message at index 0"},
		{"empty parts array", chatBody("kimi-k2.6", `[{"role":"user","content":[]}]`, ""), bad, "", "must not be empty"},
		{"text parts accepted", chatBody("kimi-k2.6", `[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]`, ""), ok, "", ""},
		{"empty assistant", chatBody("kimi-k2.6", `[{"role":"user","content":"x"},{"role":"assistant","content":""},{"role":"user","content":"y"}]`, ""), bad, "", "content or tool_calls"},
		{"tool without content", chatBody("kimi-k2-turbo-preview", `[{"role":"user","content":"weather?"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1"}]`, weatherTool), bad, "", "must have content"},
		{"stream not a bool", chatBody("kimi-k2.6", "", `,"stream":"yes"`), bad, "", "stream must be a boolean"},

		// functions / function_call.
		{"functions", chatBody("kimi-k2-turbo-preview", "", `,"functions":[{"name":"f"}]`), bad, "", "functions is not supported"},
		{"function_call", chatBody("kimi-k2-turbo-preview", "", `,"function_call":"auto"`), bad, "", "function_call is not supported"},

		// Partial Mode.
		{"partial on last assistant", chatBody("kimi-k2.6", `[{"role":"user","content":"x"},{"role":"assistant","content":"{","partial":true}]`, ""), ok, "", ""},
		{"partial not last", chatBody("kimi-k2.6", `[{"role":"user","content":"x"},{"role":"assistant","content":"{","partial":true},{"role":"user","content":"y"}]`, ""), bad, "", "partial is only allowed on the last message"},
		{"partial on user", chatBody("kimi-k2.6", `[{"role":"user","content":"x","partial":true}]`, ""), bad, "", "partial is only allowed"},
		{"partial with json_object", chatBody("kimi-k2.6", `[{"role":"user","content":"x"},{"role":"assistant","content":"{","partial":true}]`, `,"response_format":{"type":"json_object"}`), bad, "", "json_object"},
		{"bad response_format", chatBody("kimi-k2.6", "", `,"response_format":{"type":"yaml"}`), bad, "", "response_format"},

		// Temperature range, legacy and thinking.
		{"legacy temperature 1", chatBody("kimi-k2-turbo-preview", "", `,"temperature":1`), ok, "", ""},
		{"legacy temperature 0", chatBody("moonshot-v1-8k", "", `,"temperature":0`), ok, "", ""},
		{"legacy temperature 1.5", chatBody("kimi-k2-turbo-preview", "", `,"temperature":1.5`), bad, "", "temperature must be in [0, 1]"},
		{"legacy temperature negative", chatBody("moonshot-v1-8k", "", `,"temperature":-0.1`), bad, "", "temperature must be in [0, 1]"},
		{"thinking temperature 1.5", chatBody("kimi-k2-thinking", "", `,"temperature":1.5`), bad, "", "temperature must be in [0, 1]"},
		{"thinking temperature 1", chatBody("kimi-k2-thinking", "", `,"temperature":1`), ok, "", ""},
		{"temperature not a number", chatBody("kimi-k2-turbo-preview", "", `,"temperature":"hot"`), bad, "", "temperature must be a number"},
		{"legacy top_p 1.2", chatBody("kimi-k2-turbo-preview", "", `,"top_p":1.2`), bad, "", "top_p must be in [0, 1]"},
		{"legacy presence_penalty 2", chatBody("kimi-k2-turbo-preview", "", `,"presence_penalty":2`), ok, "", ""},
		{"legacy presence_penalty 3", chatBody("kimi-k2-turbo-preview", "", `,"presence_penalty":3`), bad, "", "presence_penalty must be in [-2, 2]"},

		// n.
		{"n 2 temperature 0.3 legacy", chatBody("kimi-k2-turbo-preview", "", `,"n":2,"temperature":0.3`), ok, "", ""},
		{"n 2 temperature 0.1 legacy", chatBody("kimi-k2-turbo-preview", "", `,"n":2,"temperature":0.1`), bad, "", "n > 1 needs a temperature"},
		{"n 2 default temperature moonshot-v1 (0)", chatBody("moonshot-v1-8k", "", `,"n":2`), bad, "", "n > 1 needs a temperature"},
		{"n 2 default temperature kimi-latest (0.6)", chatBody("kimi-latest", "", `,"n":2`), ok, "", ""},
		{"n 2 default temperature thinking (1.0)", chatBody("kimi-k2-thinking", "", `,"n":2`), ok, "", ""},
		{"n 5", chatBody("kimi-k2-turbo-preview", "", `,"n":5`), ok, "", ""},
		{"n 6", chatBody("kimi-k2-turbo-preview", "", `,"n":6`), bad, "", "n must be between 1 and 5"},
		{"n 0", chatBody("kimi-k2-turbo-preview", "", `,"n":0`), bad, "", "n must be between 1 and 5"},
		{"n fractional", chatBody("kimi-k2-turbo-preview", "", `,"n":1.5`), bad, "", "n must be an integer"},

		// Fixed family sampling.
		{"k2.6 no temperature", chatBody("kimi-k2.6", "", ""), ok, "", ""},
		{"k2.6 temperature 1", chatBody("kimi-k2.6", "", `,"temperature":1`), ok, "", ""},
		{"k2.6 temperature 0.6 thinking on", chatBody("kimi-k2.6", "", `,"temperature":0.6`), bad, "", "invalid temperature: only 1 is allowed for this model"},
		{"k2.6 temperature 0.6 thinking off", chatBody("kimi-k2.6", "", `,"temperature":0.6,"thinking":{"type":"disabled"}`), ok, "", ""},
		{"k2.6 temperature 1 thinking off", chatBody("kimi-k2.6", "", `,"temperature":1,"thinking":{"type":"disabled"}`), bad, "", "invalid temperature: only 0.6 is allowed for this model"},
		{"k2.5 temperature 0.7", chatBody("kimi-k2.5", "", `,"temperature":0.7`), bad, "", "invalid temperature: only 1 is allowed"},
		{"k2.7-code temperature 0.6", chatBody("kimi-k2.7-code", "", `,"temperature":0.6`), bad, "", "invalid temperature: only 1 is allowed"},
		{"k2.6 top_p 0.95", chatBody("kimi-k2.6", "", `,"top_p":0.95`), ok, "", ""},
		{"k2.6 top_p 0.9", chatBody("kimi-k2.6", "", `,"top_p":0.9`), bad, "", "invalid top_p: only 0.95 is allowed for this model"},
		{"k2.6 presence_penalty 0", chatBody("kimi-k2.6", "", `,"presence_penalty":0`), ok, "", ""},
		{"k2.6 presence_penalty 0.5", chatBody("kimi-k2.6", "", `,"presence_penalty":0.5`), bad, "", "invalid presence_penalty: only 0 is allowed for this model"},
		{"k2.6 frequency_penalty 0.5", chatBody("kimi-k2.6", "", `,"frequency_penalty":0.5`), bad, "", "invalid frequency_penalty: only 0 is allowed for this model"},
		{"k2.6 n 1", chatBody("kimi-k2.6", "", `,"n":1`), ok, "", ""},
		{"k2.6 n 2", chatBody("kimi-k2.6", "", `,"n":2`), bad, "", "invalid n: only 1 is allowed for this model"},
		{"k2.6 n 2 stream", chatBody("kimi-k2.6", "", `,"n":2,"stream":true`), bad, "", "invalid n: only 1 is allowed for this model"},
		{"k3 temperature 1", chatBody("kimi-k3", "", `,"temperature":1`), ok, "", ""},
		{"k3 temperature 0.6", chatBody("kimi-k3", "", `,"temperature":0.6`), bad, "", "invalid temperature: only 1 is allowed for this model"},
		{"k3 top_p 1", chatBody("kimi-k3", "", `,"top_p":1`), bad, "", "invalid top_p"},
		{"k3 n 3", chatBody("kimi-k3", "", `,"n":3`), bad, "", "invalid n"},

		// thinking field.
		{"k2.6 thinking enabled", chatBody("kimi-k2.6", "", `,"thinking":{"type":"enabled"}`), ok, "", ""},
		{"k2.6 thinking keep all", chatBody("kimi-k2.6", "", `,"thinking":{"type":"enabled","keep":"all"}`), ok, "", ""},
		{"k2.6 thinking bogus", chatBody("kimi-k2.6", "", `,"thinking":{"type":"sometimes"}`), bad, "", "thinking must be"},
		{"k2.7-code thinking disabled", chatBody("kimi-k2.7-code", "", `,"thinking":{"type":"disabled"}`), bad, "", "invalid thinking: only type=enabled is allowed for this model"},
		{"k2.7-code-highspeed thinking disabled", chatBody("kimi-k2.7-code-highspeed", "", `,"thinking":{"type":"disabled"}`), bad, "", "invalid thinking: only type=enabled"},
		{"legacy thinking", chatBody("kimi-k2-turbo-preview", "", `,"thinking":{"type":"enabled"}`), bad, "", "thinking is not supported"},
		{"thinking family thinking", chatBody("kimi-k2-thinking", "", `,"thinking":{"type":"enabled"}`), bad, "", "thinking is not supported"},
		{"k3 thinking", chatBody("kimi-k3", "", `,"thinking":{"type":"enabled"}`), bad, "", "thinking is not supported"},

		// reasoning_effort.
		{"k3 reasoning_effort high", chatBody("kimi-k3", "", `,"reasoning_effort":"high"`), ok, "", ""},
		{"k3 reasoning_effort medium", chatBody("kimi-k3", "", `,"reasoning_effort":"medium"`), bad, "", "reasoning_effort must be one of low, high, max"},
		{"k2.6 reasoning_effort", chatBody("kimi-k2.6", "", `,"reasoning_effort":"low"`), bad, "", "reasoning_effort is not supported"},

		// tool_choice.
		{"legacy auto", chatBody("kimi-k2-turbo-preview", "", weatherTool+`,"tool_choice":"auto"`), ok, "", ""},
		{"legacy none", chatBody("moonshot-v1-8k", "", weatherTool+`,"tool_choice":"none"`), ok, "", ""},
		{"legacy named", chatBody("kimi-k2-turbo-preview", "", weatherTool+`,"tool_choice":{"type":"function","function":{"name":"get_weather"}}`), ok, "", ""},
		{"legacy required", chatBody("kimi-k2-turbo-preview", "", weatherTool+`,"tool_choice":"required"`), bad, "", "tool_choice 'required' is not supported"},
		{"thinking required", chatBody("kimi-k2-thinking", "", weatherTool+`,"tool_choice":"required"`), bad, "", "tool_choice 'required' is incompatible with thinking enabled"},
		{"thinking named", chatBody("kimi-k2-thinking", "", weatherTool+`,"tool_choice":{"type":"function","function":{"name":"get_weather"}}`), bad, "", "tool_choice 'specified' is incompatible with thinking enabled"},
		{"k2.6 required", chatBody("kimi-k2.6", "", weatherTool+`,"tool_choice":"required"`), bad, "", "tool_choice 'required' is incompatible with thinking enabled"},
		{"k2.6 named", chatBody("kimi-k2.6", "", weatherTool+`,"tool_choice":{"type":"function","function":{"name":"get_weather"}}`), bad, "", "tool_choice 'specified' is incompatible"},
		{"k2.6 auto", chatBody("kimi-k2.6", "", weatherTool+`,"tool_choice":"auto"`), ok, "", ""},
		{"k2.6 thinking off required", chatBody("kimi-k2.6", "", weatherTool+`,"tool_choice":"required","thinking":{"type":"disabled"}`), bad, "", "tool_choice 'required' is not supported"},
		{"k2.6 thinking off named", chatBody("kimi-k2.6", "", weatherTool+`,"tool_choice":{"type":"function","function":{"name":"get_weather"}},"thinking":{"type":"disabled"}`), ok, "", ""},
		{"k3 required", chatBody("kimi-k3", "", weatherTool+`,"tool_choice":"required"`), ok, "", ""},
		{"k3 named", chatBody("kimi-k3", "", weatherTool+`,"tool_choice":{"type":"function","function":{"name":"get_weather"}}`), ok, "", ""},
		{"unknown tool_choice", chatBody("kimi-k3", "", weatherTool+`,"tool_choice":"always"`), bad, "", "unknown tool_choice"},

		// reasoning_content on tool-call turns while thinking.
		{"thinking with reasoning", chatBody("kimi-k2-thinking", toolCallHistory(`"reasoning_content":"need weather",`), weatherTool), ok, "", ""},
		{"thinking with empty reasoning", chatBody("kimi-k2-thinking", toolCallHistory(`"reasoning_content":"",`), weatherTool), ok, "", ""},
		{"thinking without reasoning", chatBody("kimi-k2-thinking", toolCallHistory(""), weatherTool), bad, "", "thinking is enabled but reasoning_content is missing in assistant tool call message at index 1"},
		{"thinking with null reasoning", chatBody("kimi-k2-thinking", toolCallHistory(`"reasoning_content":null,`), weatherTool), bad, "", "reasoning_content is missing in assistant tool call message at index 1"},
		{"k2.6 without reasoning", chatBody("kimi-k2.6", toolCallHistory(""), weatherTool), bad, "", "reasoning_content is missing"},
		{"k3 without reasoning", chatBody("kimi-k3", toolCallHistory(""), weatherTool), bad, "", "reasoning_content is missing"},
		{"k2.6 thinking off without reasoning", chatBody("kimi-k2.6", toolCallHistory(""), weatherTool+`,"thinking":{"type":"disabled"}`), ok, "", ""},
		{"legacy without reasoning", chatBody("kimi-k2-turbo-preview", toolCallHistory(""), weatherTool), ok, "", ""},
		{"tool_call_id not found", chatBody("kimi-k2-turbo-preview", `[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"r"}]`, weatherTool), bad, "", "tool_call_id not found"},
		{"tool_calls on a user message", chatBody("kimi-k2-turbo-preview", `[{"role":"user","content":"x","tool_calls":[{"id":"a","type":"function","function":{"name":"get_weather","arguments":"{}"}}]}]`, weatherTool), bad, "", "only assistant messages"},

		// tools.
		{"128 tools", chatBody("kimi-k2-turbo-preview", "", tools(128)), ok, "", ""},
		{"129 tools", chatBody("kimi-k2-turbo-preview", "", tools(129)), bad, "", "too many tools: 129"},
		{"short name", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"ab"}}]`), bad, "", `function name "ab" is invalid`},
		{"dollar name", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"$web_search"}}]`), bad, "", "is invalid"},
		{"hyphen name", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"get-weather_2"}}]`), ok, "", ""},
		{"unknown builtin", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"builtin_function","function":{"name":"$calculator"}}]`), bad, "", "unknown builtin function"},
		{"unknown tool type", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"retrieval","function":{"name":"abc"}}]`), bad, "", "unknown type"},
		{"parameters array", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"abc","parameters":[]}}]`), bad, "", "must be a JSON Schema object"},
		{"parameters root string", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"abc","parameters":{"type":"string"}}}]`), bad, "", "type object at the root"},
		{"nested property without type", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"abc","parameters":{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"description":"x"}}}}}}}]`), bad, "", `missing 'type' or 'anyOf' key in property "a.b"`},
		{"items without type", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"abc","parameters":{"type":"object","properties":{"a":{"type":"array","items":{"description":"x"}}}}}}]`), bad, "", "missing 'type' or 'anyOf' key"},
		{"anyOf property", chatBody("kimi-k2-turbo-preview", "", `,"tools":[{"type":"function","function":{"name":"abc","parameters":{"type":"object","properties":{"a":{"anyOf":[{"type":"string"},{"type":"null"}]}}}}}]`), ok, "", ""},

		// stop.
		{"5 stops", chatBody("kimi-k2-turbo-preview", "", `,"stop":["a","b","c","d","e"]`), ok, "", ""},
		{"6 stops", chatBody("kimi-k2-turbo-preview", "", `,"stop":["a","b","c","d","e","f"]`), bad, "", "at most 5 strings"},
		{"32-byte stop", chatBody("kimi-k2-turbo-preview", "", `,"stop":"`+strings.Repeat("x", 32)+`"`), ok, "", ""},
		{"33-byte stop", chatBody("kimi-k2-turbo-preview", "", `,"stop":"`+strings.Repeat("x", 33)+`"`), bad, "", "at most 32 bytes"},

		// Images and video.
		{"image to vision model", chatBody("moonshot-v1-8k-vision-preview", `[{"role":"user","content":[{"type":"image_url","image_url":{"url":"`+pngURL+`"}},{"type":"text","text":"what is it?"}]}]`, ""), ok, "", ""},
		{"image as bare string url", chatBody("kimi-k2.6", `[{"role":"user","content":[{"type":"image_url","image_url":"ms://file-1"}]}]`, ""), ok, "", ""},
		{"image to text model", chatBody("kimi-k2-turbo-preview", `[{"role":"user","content":[{"type":"image_url","image_url":{"url":"`+pngURL+`"}}]}]`, ""), bad, "", "does not support image input"},
		{"http image url", chatBody("kimi-k2.6", `[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]`, ""), bad, "", "unsupported image url"},
		{"bmp image", chatBody("kimi-k2.6", `[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA=="}}]}]`, ""), bad, "", "unsupported image format: bmp"},
		{"video to k2.6", chatBody("kimi-k2.6", `[{"role":"user","content":[{"type":"video_url","video_url":{"url":"ms://file-2"}}]}]`, ""), ok, "", ""},
		{"video to kimi-latest", chatBody("kimi-latest", `[{"role":"user","content":[{"type":"video_url","video_url":{"url":"ms://file-2"}}]}]`, ""), bad, "", "does not support video input"},
		{"unknown part type", chatBody("kimi-k2.6", `[{"role":"user","content":[{"type":"audio","audio":"x"}]}]`, ""), bad, "", "unknown content part type"},

		// Context window.
		{"max_tokens within context", chatBody("moonshot-v1-8k", "", `,"max_tokens":8000`), ok, "", ""},
		{"max_tokens over context", chatBody("moonshot-v1-8k", "", `,"max_tokens":8190`), bad, "", "Your request exceeded model token limit: 8192 (requested: 8195)"},
		{"max_completion_tokens over context", chatBody("moonshot-v1-8k", "", `,"max_completion_tokens":9000`), bad, "", "exceeded model token limit: 8192"},
		{"max_tokens 0", chatBody("moonshot-v1-8k", "", `,"max_tokens":0`), bad, "", "max_tokens must be at least 1"},
		{"prompt over context", chatBody("moonshot-v1-8k", `[{"role":"user","content":"`+long+`"}]`, ""), bad, "", "Input token length too long"},
		{"long prompt fits 32k", chatBody("moonshot-v1-32k", `[{"role":"user","content":"`+long+`"}]`, ""), ok, "", ""},

		// $web_search and thinking.
		{"web search on k2.6 thinking", chatBody("kimi-k2.6", "", `,"tools":[{"type":"builtin_function","function":{"name":"$web_search"}}]`), bad, "", "$web_search is incompatible with thinking enabled"},
		{"web search on k2.6 thinking off", chatBody("kimi-k2.6", "", `,"tools":[{"type":"builtin_function","function":{"name":"$web_search"}}],"thinking":{"type":"disabled"}`), ok, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, s, "POST", "/chat/completions", tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.status == ok {
				return
			}
			e := decode[errorResp](t, b)
			wantType := tc.errType
			if wantType == "" {
				wantType = "invalid_request_error"
			}
			if e.Error.Type != wantType || !strings.Contains(e.Error.Message, tc.contains) {
				t.Errorf("got %s %q, want %s containing %q", e.Error.Type, e.Error.Message, wantType, tc.contains)
			}
		})
	}
}

// TestFamilies checks that ids outside the table get the family their name
// implies, and unknown ones the legacy rules (as on the client).
func TestFamilies(t *testing.T) {
	for id, want := range map[string]string{
		"kimi-k2.9":              FamilyFixed,
		"kimi-k2.5-preview":      FamilyFixed,
		"kimi-k2-thinking-x":     FamilyThinking,
		"kimi-k3-mini":           FamilyK3,
		"kimi-k2-0905-preview":   FamilyLegacy,
		"moonshot-v1-8k":         FamilyLegacy,
		"someone-elses-model":    FamilyLegacy,
		"kimi-k2.":               FamilyLegacy,
		"kimi-latest-2026-01-01": FamilyLegacy,
	} {
		if got := familyOf(Model{ID: id}); got != want {
			t.Errorf("familyOf(%s) = %s, want %s", id, got, want)
		}
	}
	if got := familyOf(Model{ID: "kimi-k2.6", Family: FamilyLegacy}); got != FamilyLegacy {
		t.Errorf("an explicit Family must win, got %s", got)
	}
	for _, m := range DefaultModels() {
		if m.Family != familyOf(Model{ID: m.ID}) {
			t.Errorf("%s: table says %s, the id implies %s", m.ID, m.Family, familyOf(Model{ID: m.ID}))
		}
		if m.Reasoning != (m.Family != FamilyLegacy) {
			t.Errorf("%s: Reasoning %v does not match family %s", m.ID, m.Reasoning, m.Family)
		}
	}
}
