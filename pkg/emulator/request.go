package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"
)

// ToolCall is one function call of an assistant message or of a Reply.
type ToolCall struct{ ID, Name, Arguments string }

// Part is one element of an array content: Type is "text", "image_url" or
// "video_url"; Text is set for text parts, URL for the others.
type Part struct{ Type, Text, URL string }

// Message is one parsed chat message.
type Message struct {
	Role    string
	Content string // the string content, or the text parts of an array content concatenated
	Partial bool
	Name    string
	// ReasoningContent is the message's reasoning_content; HasReasoningContent
	// tells a missing (or null) key from an empty string, which thinking
	// models treat differently.
	ReasoningContent    string
	HasReasoningContent bool
	ToolCallID          string
	ToolCalls           []ToolCall
	Parts               []Part // set when content was an array
}

// Tool is one entry of the request's tools: Type is "function" or
// "builtin_function" ($web_search).
type Tool struct {
	Type        string
	Name        string
	Description string
	Parameters  map[string]any
}

// ChatRequest is a validated chat completion request, as handed to Reply.
type ChatRequest struct {
	Raw          map[string]any // the body as decoded JSON
	Model        string
	ModelInfo    Model
	Messages     []Message
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	MaxTokens    int  // max_completion_tokens, else max_tokens; 0 = not given
	N            int  // 1 when not given
	Temperature  *float64
	TopP         *float64
	// Thinking reports whether the model thinks for this request (thinking
	// family, k3, fixed family unless thinking is disabled). Reasoning of a
	// Reply is only sent when it is true.
	Thinking        bool
	ReasoningEffort string
	Tools           []Tool
	ToolChoice      any // as sent: nil, a string or an object
	Stop            []string
	ResponseFormat  string // "" (not given), "text", "json_object" or "json_schema"
}

// LastUserText is the text of the last user message ("" if there is none).
func (r *ChatRequest) LastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// apiError is an error answer in Moonshot's shape.
type apiError struct {
	status int
	typ    string
	msg    string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func invalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: fmt.Sprintf(format, args...)}
}

func modelNotFound(id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "resource_not_found_error",
		msg: fmt.Sprintf("Not found the model %s or Permission denied", id)}
}

const (
	maxTools       = 128
	maxStopStrings = 5
	maxStopBytes   = 32
	maxN           = 5
	// minTemperatureForN is LiteLLM's bound for n>1. The real server only
	// says temperature must not be 0 or "very close to 0 (e.g. 0.001)"; its
	// exact threshold is not published, so the emulator uses the bound the
	// client fixes aim at.
	minTemperatureForN = 0.3
	webSearchName      = "$web_search"
)

// functionNameRE is compiled on first use: the counted repetition makes a program of about
// 60 KB, built at every start of moonchat otherwise, though only tool requests need it.
var functionNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`) })

var imageFormats = []string{"png", "jpeg", "jpg", "webp", "gif"}

// parseChat validates a chat completion body as strictly as the real API
// (docs/moonshot-api.md §1, §5) and returns the parsed request.
func parseChat(raw map[string]any, lookup func(string) (Model, bool)) (*ChatRequest, *apiError) {
	id, ok := raw["model"].(string)
	if !ok || id == "" {
		return nil, invalid("Invalid request: model is required")
	}
	model, ok := lookup(id)
	if !ok {
		return nil, modelNotFound(id)
	}
	req := &ChatRequest{Raw: raw, Model: id, ModelInfo: model, N: 1}
	family := familyOf(model)

	for _, k := range []string{"functions", "function_call"} {
		if _, ok := raw[k]; ok {
			return nil, invalid("Invalid request: %s is not supported, use tools and tool_choice", k)
		}
	}

	msgs, err := parseMessages(raw["messages"], raw["messages"] != nil)
	if err != nil {
		return nil, err
	}
	req.Messages = msgs

	if v, ok := raw["stream"]; ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			return nil, invalid("Invalid request: stream must be a boolean")
		}
		req.Stream = b
	}
	if v, ok := raw["stream_options"]; ok && v != nil {
		so, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("Invalid request: stream_options must be an object")
		}
		if iu, ok := so["include_usage"]; ok && iu != nil {
			b, ok := iu.(bool)
			if !ok {
				return nil, invalid("Invalid request: stream_options.include_usage must be a boolean")
			}
			req.IncludeUsage = b
		}
	}

	// Which one wins when both are set is not documented; the newer name is
	// the one the 2026 API reference describes, so it wins here.
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		n, present, err := intField(raw, k)
		if err != nil {
			return nil, err
		}
		if present {
			if n < 1 {
				return nil, invalid("Invalid request: %s must be at least 1", k)
			}
			req.MaxTokens = n
		}
	}

	n, nGiven, err := intField(raw, "n")
	if err != nil {
		return nil, err
	}
	if nGiven {
		req.N = n
	}
	temp, err := numField(raw, "temperature")
	if err != nil {
		return nil, err
	}
	req.Temperature = temp
	topP, err := numField(raw, "top_p")
	if err != nil {
		return nil, err
	}
	req.TopP = topP
	presence, err := numField(raw, "presence_penalty")
	if err != nil {
		return nil, err
	}
	frequency, err := numField(raw, "frequency_penalty")
	if err != nil {
		return nil, err
	}

	// thinking: only the fixed family takes the field.
	req.Thinking = family != FamilyLegacy
	if v, ok := raw["thinking"]; ok && v != nil {
		if family != FamilyFixed {
			return nil, invalid("Invalid request: thinking is not supported for model %s", id)
		}
		obj, _ := v.(map[string]any)
		typ, _ := obj["type"].(string)
		switch typ {
		case "enabled":
		case "disabled":
			if thinkingAlwaysOn(model) {
				return nil, invalid("invalid thinking: only type=enabled is allowed for this model")
			}
			req.Thinking = false
		default:
			return nil, invalid(`Invalid request: thinking must be {"type":"enabled"} or {"type":"disabled"}`)
		}
	}

	if v, ok := raw["reasoning_effort"]; ok && v != nil {
		if family != FamilyK3 {
			return nil, invalid("Invalid request: reasoning_effort is not supported for model %s", id)
		}
		s, _ := v.(string)
		switch s {
		case "low", "high", "max":
			req.ReasoningEffort = s
		default:
			return nil, invalid("Invalid request: reasoning_effort must be one of low, high, max")
		}
	}

	switch family {
	case FamilyFixed, FamilyK3:
		want := 1.0
		if !req.Thinking {
			want = 0.6
		}
		if temp != nil && *temp != want {
			return nil, invalid("invalid temperature: only %s is allowed for this model", formatNum(want))
		}
		if topP != nil && *topP != 0.95 {
			return nil, invalid("invalid top_p: only 0.95 is allowed for this model")
		}
		if presence != nil && *presence != 0 {
			return nil, invalid("invalid presence_penalty: only 0 is allowed for this model")
		}
		if frequency != nil && *frequency != 0 {
			return nil, invalid("invalid frequency_penalty: only 0 is allowed for this model")
		}
		if nGiven && n != 1 {
			return nil, invalid("invalid n: only 1 is allowed for this model")
		}
	default:
		if temp != nil && (*temp < 0 || *temp > 1) {
			return nil, invalid("Invalid request: temperature must be in [0, 1], got %s", formatNum(*temp))
		}
		if topP != nil && (*topP < 0 || *topP > 1) {
			return nil, invalid("Invalid request: top_p must be in [0, 1], got %s", formatNum(*topP))
		}
		if presence != nil && (*presence < -2 || *presence > 2) {
			return nil, invalid("Invalid request: presence_penalty must be in [-2, 2], got %s", formatNum(*presence))
		}
		if frequency != nil && (*frequency < -2 || *frequency > 2) {
			return nil, invalid("Invalid request: frequency_penalty must be in [-2, 2], got %s", formatNum(*frequency))
		}
		if req.N < 1 || req.N > maxN {
			return nil, invalid("Invalid request: n must be between 1 and %d, got %d", maxN, req.N)
		}
		if req.N > 1 {
			t := defaultTemperature(model)
			if temp != nil {
				t = *temp
			}
			if t < minTemperatureForN {
				return nil, invalid("Invalid request: n > 1 needs a temperature of at least %s (got %s): with a temperature close to 0 all choices would be the same",
					formatNum(minTemperatureForN), formatNum(t))
			}
		}
	}

	if err := parseTools(raw, req); err != nil {
		return nil, err
	}
	if err := checkToolChoice(raw, req, family); err != nil {
		return nil, err
	}
	if err := parseStop(raw, req); err != nil {
		return nil, err
	}
	if v, ok := raw["response_format"]; ok && v != nil {
		obj, _ := v.(map[string]any)
		typ, _ := obj["type"].(string)
		switch typ {
		case "text", "json_object", "json_schema":
			req.ResponseFormat = typ
		default:
			return nil, invalid("Invalid request: response_format.type must be text, json_object or json_schema")
		}
	}

	if err := checkConversation(req); err != nil {
		return nil, err
	}

	if hasWebSearch(req.Tools) && family == FamilyFixed && req.Thinking {
		return nil, invalid("Invalid request: $web_search is incompatible with thinking enabled, disable thinking to use it")
	}

	prompt := CountTokens(req.Messages)
	if prompt > model.ContextLength {
		return nil, invalid("Input token length too long")
	}
	if req.MaxTokens > 0 && prompt+req.MaxTokens > model.ContextLength {
		return nil, invalid("Your request exceeded model token limit: %d (requested: %d)", model.ContextLength, prompt+req.MaxTokens)
	}
	return req, nil
}
