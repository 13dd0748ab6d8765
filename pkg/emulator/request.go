package emulator

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
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

var functionNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`)

var imageFormats = []string{"png", "jpeg", "jpg", "webp", "gif"}

// parseChat validates a chat completion body as strictly as the real API
// (moonshot-api.md §2, §5) and returns the parsed request.
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

// checkConversation holds the rules that look across messages.
func checkConversation(req *ChatRequest) *apiError {
	msgs := req.Messages
	last := len(msgs) - 1
	callIDs := map[string]bool{}
	for i, m := range msgs {
		if m.Partial {
			if i != last || m.Role != "assistant" {
				return invalid("Invalid request: partial is only allowed on the last message, and only with role assistant (message at index %d)", i)
			}
			if req.ResponseFormat == "json_object" {
				return invalid("Invalid request: partial mode cannot be used with response_format json_object")
			}
		}
		if m.Role == "assistant" && len(m.ToolCalls) > 0 {
			if req.Thinking && !m.HasReasoningContent {
				return invalid("thinking is enabled but reasoning_content is missing in assistant tool call message at index %d", i)
			}
			for _, c := range m.ToolCalls {
				callIDs[c.ID] = true
			}
		}
		if m.Role == "tool" && !callIDs[m.ToolCallID] {
			return invalid("Invalid request: tool_call_id not found: %q (message at index %d)", m.ToolCallID, i)
		}
		for _, p := range m.Parts {
			if err := checkMediaPart(p, req.ModelInfo); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkMediaPart(p Part, m Model) *apiError {
	switch p.Type {
	case "image_url":
		if !m.Vision {
			return invalid("Invalid request: model %s does not support image input", m.ID)
		}
		if strings.HasPrefix(p.URL, "ms://") {
			return nil
		}
		rest, ok := strings.CutPrefix(p.URL, "data:image/")
		if !ok {
			return invalid("Invalid request: unsupported image url: only data: URLs and ms://<file_id> are accepted")
		}
		format, _, _ := strings.Cut(rest, ";")
		if !slices.Contains(imageFormats, format) {
			return invalid("Invalid request: unsupported image format: %s", format)
		}
	case "video_url":
		if !m.Video {
			return invalid("Invalid request: model %s does not support video input", m.ID)
		}
		if !strings.HasPrefix(p.URL, "ms://") && !strings.HasPrefix(p.URL, "data:video/") {
			return invalid("Invalid request: unsupported video url: only data: URLs and ms://<file_id> are accepted")
		}
	}
	return nil
}

// parseMessages decodes and checks the messages array; it is shared with
// estimate-token-count, which has the same message rules.
func parseMessages(v any, present bool) ([]Message, *apiError) {
	if !present {
		return nil, invalid("Invalid request: messages is required")
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, invalid("Invalid request: messages must be an array")
	}
	if len(arr) == 0 {
		return nil, invalid("Invalid request: messages must not be empty")
	}
	msgs := make([]Message, 0, len(arr))
	for i, item := range arr {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, invalid("Invalid request: message at index %d must be an object", i)
		}
		m, err := parseMessage(obj, i)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func parseMessage(obj map[string]any, i int) (Message, *apiError) {
	var m Message
	role, _ := obj["role"].(string)
	switch role {
	case "system", "user", "assistant", "tool":
	default:
		return m, invalid("Invalid request: unknown role %q in message at index %d (want system, user, assistant or tool)", role, i)
	}
	m.Role = role

	var err *apiError
	if m.Name, err = optString(obj, "name", i); err != nil {
		return m, err
	}
	if m.ToolCallID, err = optString(obj, "tool_call_id", i); err != nil {
		return m, err
	}
	if rc, ok := obj["reasoning_content"]; ok && rc != nil {
		s, ok := rc.(string)
		if !ok {
			return m, invalid("Invalid request: reasoning_content of message at index %d must be a string", i)
		}
		m.ReasoningContent, m.HasReasoningContent = s, true
	}
	if p, ok := obj["partial"]; ok && p != nil {
		b, ok := p.(bool)
		if !ok {
			return m, invalid("Invalid request: partial of message at index %d must be a boolean", i)
		}
		m.Partial = b
	}

	contentPresent := false
	switch c := obj["content"].(type) {
	case nil:
	case string:
		m.Content, contentPresent = c, c != ""
	case []any:
		for j, pv := range c {
			part, err := parsePart(pv, i, j)
			if err != nil {
				return m, err
			}
			m.Parts = append(m.Parts, part)
			m.Content += part.Text
		}
		contentPresent = len(c) > 0
	default:
		return m, invalid("Invalid request: content of message at index %d must be a string or an array", i)
	}

	if tc, ok := obj["tool_calls"]; ok && tc != nil {
		if role != "assistant" {
			return m, invalid("Invalid request: only assistant messages may carry tool_calls (message at index %d)", i)
		}
		arr, ok := tc.([]any)
		if !ok {
			return m, invalid("Invalid request: tool_calls of message at index %d must be an array", i)
		}
		for j, cv := range arr {
			call, _ := cv.(map[string]any)
			fn, _ := call["function"].(map[string]any)
			id, _ := call["id"].(string)
			name, _ := fn["name"].(string)
			args, _ := fn["arguments"].(string)
			if call == nil || fn == nil || name == "" {
				return m, invalid("Invalid request: tool call %d of message at index %d needs a function with a name", j, i)
			}
			m.ToolCalls = append(m.ToolCalls, ToolCall{ID: id, Name: name, Arguments: args})
		}
	}

	switch role {
	case "system", "user":
		if !contentPresent {
			return m, invalid("Invalid request: the content of the %s message at index %d must not be empty", role, i)
		}
	case "assistant":
		if !contentPresent && len(m.ToolCalls) == 0 {
			return m, invalid("Invalid request: the assistant message at index %d must have content or tool_calls", i)
		}
	case "tool":
		if _, ok := obj["content"]; !ok || obj["content"] == nil {
			return m, invalid("Invalid request: the tool message at index %d must have content", i)
		}
	}
	return m, nil
}

func parsePart(v any, i, j int) (Part, *apiError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Part{}, invalid("Invalid request: content part %d of message at index %d must be an object", j, i)
	}
	typ, _ := obj["type"].(string)
	switch typ {
	case "text":
		text, ok := obj["text"].(string)
		if !ok {
			return Part{}, invalid("Invalid request: text part %d of message at index %d needs a text", j, i)
		}
		return Part{Type: typ, Text: text}, nil
	case "image_url", "video_url":
		// The url is an object {"url": ...} or, since 2026, a bare string.
		var url string
		switch u := obj[typ].(type) {
		case string:
			url = u
		case map[string]any:
			url, _ = u["url"].(string)
		}
		if url == "" {
			return Part{}, invalid("Invalid request: %s part %d of message at index %d needs a url", typ, j, i)
		}
		return Part{Type: typ, URL: url}, nil
	default:
		return Part{}, invalid("Invalid request: unknown content part type %q in message at index %d", typ, i)
	}
}

func parseTools(raw map[string]any, req *ChatRequest) *apiError {
	v, ok := raw["tools"]
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		return invalid("Invalid request: tools must be an array")
	}
	if len(arr) > maxTools {
		return invalid("Invalid request: too many tools: %d (at most %d)", len(arr), maxTools)
	}
	for i, tv := range arr {
		obj, _ := tv.(map[string]any)
		typ, _ := obj["type"].(string)
		fn, _ := obj["function"].(map[string]any)
		if fn == nil {
			return invalid("Invalid request: tool %d needs a function object", i)
		}
		name, _ := fn["name"].(string)
		desc, _ := fn["description"].(string)
		t := Tool{Type: typ, Name: name, Description: desc}
		switch typ {
		case "builtin_function":
			if name != webSearchName {
				return invalid("Invalid request: unknown builtin function %q", name)
			}
		case "function":
			if !functionNameRE.MatchString(name) {
				return invalid("Invalid request: function name %q is invalid: it must match ^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$", name)
			}
			if p, ok := fn["parameters"]; ok && p != nil {
				params, ok := p.(map[string]any)
				if !ok {
					return invalid("Invalid request: parameters of function %q must be a JSON Schema object", name)
				}
				if pt, ok := params["type"]; ok && pt != "object" {
					return invalid("Invalid request: parameters of function %q must have type object at the root", name)
				}
				if err := checkSchema(params, name, ""); err != nil {
					return err
				}
				t.Parameters = params
			}
		default:
			return invalid("Invalid request: tool %d has unknown type %q (want function or builtin_function)", i, typ)
		}
		req.Tools = append(req.Tools, t)
	}
	return nil
}

// checkSchema enforces what Moonshot's schema subset (MFJS) insists on: every
// property, array item and anyOf branch says what it is.
func checkSchema(s map[string]any, fn, path string) *apiError {
	if props, ok := s["properties"].(map[string]any); ok {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := joinPath(path, k)
			sub, ok := props[k].(map[string]any)
			if !ok || !typed(sub) {
				return invalid("Invalid request: missing 'type' or 'anyOf' key in property %q of function %q parameters", p, fn)
			}
			if err := checkSchema(sub, fn, p); err != nil {
				return err
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		p := joinPath(path, "items")
		if !typed(items) {
			return invalid("Invalid request: missing 'type' or 'anyOf' key in property %q of function %q parameters", p, fn)
		}
		if err := checkSchema(items, fn, p); err != nil {
			return err
		}
	}
	if branches, ok := s["anyOf"].([]any); ok {
		for i, b := range branches {
			if sub, ok := b.(map[string]any); ok {
				if err := checkSchema(sub, fn, joinPath(path, fmt.Sprintf("anyOf[%d]", i))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func typed(s map[string]any) bool {
	_, t := s["type"]
	_, a := s["anyOf"]
	return t || a
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func checkToolChoice(raw map[string]any, req *ChatRequest, family string) *apiError {
	v, ok := raw["tool_choice"]
	if !ok || v == nil {
		return nil
	}
	req.ToolChoice = v
	// k3 accepts every choice; the other families refuse forced choices
	// while thinking (moonshot-api.md §2.3).
	thinkingRefuses := req.Thinking && family != FamilyK3
	switch c := v.(type) {
	case string:
		switch c {
		case "auto", "none":
		case "required":
			switch {
			case family == FamilyLegacy:
				return invalid("Invalid request: tool_choice 'required' is not supported")
			case thinkingRefuses:
				return invalid("tool_choice 'required' is incompatible with thinking enabled")
			}
		default:
			return invalid("Invalid request: unknown tool_choice %q", c)
		}
	case map[string]any:
		fn, _ := c["function"].(map[string]any)
		name, _ := fn["name"].(string)
		if c["type"] != "function" || name == "" {
			return invalid(`Invalid request: tool_choice object must be {"type":"function","function":{"name":...}}`)
		}
		if thinkingRefuses {
			return invalid("tool_choice 'specified' is incompatible with thinking enabled")
		}
	default:
		return invalid("Invalid request: tool_choice must be a string or an object")
	}
	return nil
}

func parseStop(raw map[string]any, req *ChatRequest) *apiError {
	v, ok := raw["stop"]
	if !ok || v == nil {
		return nil
	}
	var stops []string
	switch s := v.(type) {
	case string:
		stops = []string{s}
	case []any:
		for _, x := range s {
			str, ok := x.(string)
			if !ok {
				return invalid("Invalid request: stop must be a string or an array of strings")
			}
			stops = append(stops, str)
		}
	default:
		return invalid("Invalid request: stop must be a string or an array of strings")
	}
	if len(stops) > maxStopStrings {
		return invalid("Invalid request: stop accepts at most %d strings, got %d", maxStopStrings, len(stops))
	}
	for _, s := range stops {
		if len(s) > maxStopBytes {
			return invalid("Invalid request: each stop string must be at most %d bytes, %q has %d", maxStopBytes, s, len(s))
		}
	}
	req.Stop = stops
	return nil
}

func optString(obj map[string]any, key string, i int) (string, *apiError) {
	v, ok := obj[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid("Invalid request: %s of message at index %d must be a string", key, i)
	}
	return s, nil
}

func numField(raw map[string]any, key string) (*float64, *apiError) {
	v, ok := raw[key]
	if !ok || v == nil {
		return nil, nil
	}
	f, ok := v.(float64)
	if !ok {
		return nil, invalid("Invalid request: %s must be a number", key)
	}
	return &f, nil
}

func intField(raw map[string]any, key string) (int, bool, *apiError) {
	f, err := numField(raw, key)
	if err != nil || f == nil {
		return 0, false, err
	}
	if *f != math.Trunc(*f) || math.Abs(*f) > 1<<31 {
		return 0, false, invalid("Invalid request: %s must be an integer", key)
	}
	return int(*f), true, nil
}

func formatNum(f float64) string { return fmt.Sprintf("%g", f) }

func hasWebSearch(tools []Tool) bool {
	for _, t := range tools {
		if t.Type == "builtin_function" && t.Name == webSearchName {
			return true
		}
	}
	return false
}
