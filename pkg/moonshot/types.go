package moonshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ChatRequest is the body of POST /chat/completions.
//
// Optional numbers are pointers so that an explicit 0 survives and "unset" stays unset. Fields
// that this package does not know are kept in Extra and sent back verbatim, so the proxy can
// relay what newer clients send.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	N                   *int            `json:"n,omitempty"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	Stop                StopList        `json:"stop,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking            *Thinking       `json:"thinking,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	PromptCacheKey      string          `json:"prompt_cache_key,omitempty"`
	SafetyIdentifier    string          `json:"safety_identifier,omitempty"`

	// Deprecated OpenAI fields that Moonshot refuses; Fix translates them to Tools/ToolChoice.
	Functions    json.RawMessage `json:"functions,omitempty"`
	FunctionCall json.RawMessage `json:"function_call,omitempty"`

	// Extra holds unknown top-level fields, marshalled after the known ones.
	Extra map[string]json.RawMessage `json:"-"`
}

type chatRequestAlias ChatRequest

// knownRequestFields are the JSON names of ChatRequest's fields; anything else goes to Extra.
var knownRequestFields = map[string]bool{
	"model": true, "messages": true, "temperature": true, "top_p": true, "n": true,
	"max_tokens": true, "max_completion_tokens": true, "presence_penalty": true,
	"frequency_penalty": true, "stop": true, "stream": true, "stream_options": true,
	"response_format": true, "tools": true, "tool_choice": true, "thinking": true,
	"reasoning_effort": true, "prompt_cache_key": true, "safety_identifier": true,
	"functions": true, "function_call": true,
}

// UnmarshalJSON decodes the known fields and keeps the rest in Extra.
func (r *ChatRequest) UnmarshalJSON(data []byte) error {
	var a chatRequestAlias
	if err := json.Unmarshal(data, &a); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for k := range all {
		if knownRequestFields[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		all = nil
	}
	a.Extra = all
	*r = ChatRequest(a)
	return nil
}

// MarshalJSON encodes the known fields followed by Extra (known fields win on a clash).
func (r ChatRequest) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(chatRequestAlias(r))
	if err != nil || len(r.Extra) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
		if knownRequestFields[k] {
			continue
		}
		kb, _ := json.Marshal(k)
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(r.Extra[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Clone returns a deep copy, so that Fix never mutates the caller's request.
func (r *ChatRequest) Clone() *ChatRequest {
	c := *r
	c.Temperature = clonePtr(r.Temperature)
	c.TopP = clonePtr(r.TopP)
	c.N = clonePtr(r.N)
	c.MaxTokens = clonePtr(r.MaxTokens)
	c.MaxCompletionTokens = clonePtr(r.MaxCompletionTokens)
	c.PresencePenalty = clonePtr(r.PresencePenalty)
	c.FrequencyPenalty = clonePtr(r.FrequencyPenalty)
	c.Stop = append(StopList(nil), r.Stop...)
	if r.Stop == nil {
		c.Stop = nil
	}
	c.StreamOptions = clonePtr(r.StreamOptions)
	c.ResponseFormat = clonePtr(r.ResponseFormat)
	if r.Tools != nil {
		c.Tools = make([]Tool, len(r.Tools))
		for i, t := range r.Tools {
			c.Tools[i] = t
			if t.Function != nil {
				f := *t.Function
				c.Tools[i].Function = &f
			}
		}
	}
	c.ToolChoice = clonePtr(r.ToolChoice)
	if r.Thinking != nil {
		th := *r.Thinking
		th.Keep = clonePtr(r.Thinking.Keep)
		c.Thinking = &th
	}
	if r.Messages != nil {
		c.Messages = make([]Message, len(r.Messages))
		for i, m := range r.Messages {
			c.Messages[i] = m.clone()
		}
	}
	c.Extra = maps.Clone(r.Extra)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// StopList is `stop`: a string or a list of strings on the wire, always a list here.
type StopList []string

// UnmarshalJSON accepts "x" as well as ["x","y"].
func (s *StopList) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*s = nil
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var one string
		if err := json.Unmarshal(data, &one); err != nil {
			return err
		}
		*s = StopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// StreamOptions is `stream_options`.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ResponseFormat is `response_format`: {"type":"text"|"json_object"|"json_schema", ...}.
type ResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// Thinking is Moonshot's `thinking` switch for kimi-k2.5 and later.
type Thinking struct {
	Type string  `json:"type"` // "enabled" or "disabled"
	Keep *string `json:"keep,omitempty"`
}

// Message is one chat message. Content is a string or a list of parts.
type Message struct {
	Role             string     `json:"role"`
	Content          Content    `json:"content"`
	Name             string     `json:"name,omitempty"`
	Partial          bool       `json:"partial,omitempty"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID       string     `json:"tool_call_id,omitempty"`

	// ProviderReasoning is provider_specific_fields.reasoning_content, where LiteLLM clients
	// keep a turn's reasoning. It is not sent; Fix promotes it to ReasoningContent where a
	// thinking model needs it.
	ProviderReasoning *string `json:"-"`
}

// UnmarshalJSON reads the message and LiteLLM's provider_specific_fields.reasoning_content.
func (m *Message) UnmarshalJSON(data []byte) error {
	type plain Message
	var w struct {
		plain
		Provider *struct {
			ReasoningContent *string `json:"reasoning_content"`
		} `json:"provider_specific_fields"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = Message(w.plain)
	if w.Provider != nil {
		m.ProviderReasoning = w.Provider.ReasoningContent
	}
	return nil
}

func (m Message) clone() Message {
	c := m
	c.Content = m.Content.clone()
	c.ReasoningContent = clonePtr(m.ReasoningContent)
	c.ProviderReasoning = clonePtr(m.ProviderReasoning)
	if m.ToolCalls != nil {
		c.ToolCalls = append([]ToolCall(nil), m.ToolCalls...)
		for i := range c.ToolCalls {
			c.ToolCalls[i].Index = clonePtr(m.ToolCalls[i].Index)
		}
	}
	return c
}

// TextMessage builds a message with string content.
func TextMessage(role, text string) Message { return Message{Role: role, Content: Text(text)} }

// Content is a message's content: either Text or Parts (when Parts is non-nil).
type Content struct {
	Text  string
	Parts []ContentPart
	// Null records a JSON null (OpenAI clients send it on tool-call turns); it is sent as "".
	Null bool
}

// Text is content made of one string.
func Text(s string) Content { return Content{Text: s} }

// Parts is content made of parts (text, image_url, video_url).
func Parts(p ...ContentPart) Content {
	if p == nil {
		p = []ContentPart{}
	}
	return Content{Parts: p}
}

// IsParts reports whether the content is a list of parts.
func (c Content) IsParts() bool { return c.Parts != nil }

// String returns the text of the content; for parts, the text parts joined.
func (c Content) String() string {
	if !c.IsParts() {
		return c.Text
	}
	var b strings.Builder
	for _, p := range c.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Empty reports whether the content carries nothing.
func (c Content) Empty() bool {
	if c.IsParts() {
		return len(c.Parts) == 0
	}
	return c.Text == ""
}

func (c Content) clone() Content {
	if c.Parts != nil {
		c.Parts = append([]ContentPart{}, c.Parts...)
	}
	return c
}

// MarshalJSON writes a string or the parts list.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.IsParts() {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// UnmarshalJSON reads a string, null, or a list of parts.
func (c *Content) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*c = Content{Null: true}
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*c = Content{Text: s}
		return nil
	case len(data) > 0 && data[0] == '[':
		var parts []ContentPart
		if err := json.Unmarshal(data, &parts); err != nil {
			return err
		}
		*c = Parts(parts...)
		return nil
	}
	return errors.New("content must be a string or a list of parts")
}

// ContentPart is one element of a content list.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *MediaURL `json:"image_url,omitempty"`
	VideoURL *MediaURL `json:"video_url,omitempty"`
	// Raw keeps a part of another type (input_audio, file, ...) as it came, to be sent
	// verbatim: the server decides whether it takes it.
	Raw json.RawMessage `json:"-"`
}

type plainPart ContentPart

// knownPartType reports the part types this package reads; others are kept in Raw.
func knownPartType(t string) bool { return t == "text" || t == "image_url" || t == "video_url" }

// UnmarshalJSON reads a part, keeping one of an unknown type whole.
func (p *ContentPart) UnmarshalJSON(data []byte) error {
	var v plainPart
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*p = ContentPart(v)
	if !knownPartType(p.Type) {
		p.Raw = append(json.RawMessage(nil), data...)
	}
	return nil
}

// MarshalJSON writes a part of an unknown type exactly as it was read.
func (p ContentPart) MarshalJSON() ([]byte, error) {
	if p.Raw != nil && !knownPartType(p.Type) {
		return p.Raw, nil
	}
	return json.Marshal(plainPart(p))
}

// MediaURL is {"url": "data:image/png;base64,..." | "ms://<file id>"}.
type MediaURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// UnmarshalJSON also accepts the bare-string form that 2026 docs allow.
func (u *MediaURL) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		return json.Unmarshal(data, &u.URL)
	}
	type plain MediaURL
	return json.Unmarshal(data, (*plain)(u))
}

// Tool is a tool declaration: a function or a Moonshot builtin such as $web_search.
type Tool struct {
	Type     string       `json:"type"` // "function" or "builtin_function"
	Function *FunctionDef `json:"function,omitempty"`
}

// FunctionDef declares a function tool.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// WebSearchTool is the `$web_search` builtin declaration.
func WebSearchTool() Tool {
	return Tool{Type: "builtin_function", Function: &FunctionDef{Name: WebSearchName}}
}

// WebSearchName is the name of Moonshot's builtin search tool.
const WebSearchName = "$web_search"

// ToolCall is a call the model made. Index is set in stream deltas (and sometimes otherwise).
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is the name and the JSON arguments of a call.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// ToolChoice is `tool_choice`: a mode ("auto", "none", "required") or a named function.
type ToolChoice struct {
	Mode     string // set for the string form
	Function string // set for {"type":"function","function":{"name":...}}
}

// MarshalJSON writes the string or the object form.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Function != "" {
		return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": t.Function}})
	}
	return json.Marshal(t.Mode)
}

// UnmarshalJSON reads either form.
func (t *ToolChoice) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		*t = ToolChoice{}
		return json.Unmarshal(data, &t.Mode)
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
		Name string `json:"name"` // legacy function_call form {"name": ...}
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("tool_choice: %w", err)
	}
	name := obj.Function.Name
	if name == "" {
		name = obj.Name
	}
	if name == "" {
		return errors.New(`tool_choice: object form needs {"type":"function","function":{"name":...}}`)
	}
	*t = ToolChoice{Function: name}
	return nil
}

// String is a short human form: "auto", "required", "function:get_weather".
func (t ToolChoice) String() string {
	if t.Function != "" {
		return "function:" + t.Function
	}
	return t.Mode
}

// ChatCompletion is a non-streamed response (and what Accumulator builds from a stream).
type ChatCompletion struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`

	// RequestID is Moonshot's Msh-Request-Id header. Adjustments are the fixes applied to the
	// request. Neither is part of the wire body.
	RequestID   string       `json:"-"`
	Adjustments []Adjustment `json:"-"`
	// UsageIgnored is set when the server's usage report was out of range and dropped.
	UsageIgnored bool `json:"-"`
}

// Choice is one answer.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Usage        *Usage          `json:"usage,omitempty"`
}

// ResponseMessage is the assistant message of a choice.
type ResponseMessage struct {
	Role             string     `json:"role"`
	Content          string     `json:"content"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	Name             string     `json:"name,omitempty"`
}

// Usage counts tokens. Moonshot reports cached tokens at the top level (cached_tokens) and, on
// newer responses, in prompt_tokens_details as well.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	CachedTokens            int                      `json:"cached_tokens,omitempty"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// PromptTokensDetails is OpenAI's breakdown of prompt tokens.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// CompletionTokensDetails is OpenAI's breakdown of completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// Cached returns the cached prompt tokens from whichever field carries them.
func (u *Usage) Cached() int {
	if u == nil {
		return 0
	}
	if u.CachedTokens > 0 {
		return u.CachedTokens
	}
	if u.PromptTokensDetails != nil {
		return u.PromptTokensDetails.CachedTokens
	}
	return 0
}

// ReasoningTokens returns the reasoning part of the completion tokens, when reported.
func (u *Usage) ReasoningTokens() int {
	if u == nil || u.CompletionTokensDetails == nil {
		return 0
	}
	return u.CompletionTokensDetails.ReasoningTokens
}

// ChatCompletionChunk is one streamed event.
type ChatCompletionChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
}

// ChunkChoice is a choice in a chunk. Moonshot puts the usage of the choice here, on the chunk
// that carries finish_reason.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        Delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
	Usage        *Usage  `json:"usage,omitempty"`
}

// Delta is the new text of a choice.
type Delta struct {
	Role             string     `json:"role,omitempty"`
	Content          string     `json:"content,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// RemoteModel is an entry of GET /models. The capability fields appear on 2026 responses.
type RemoteModel struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Created           int64  `json:"created"`
	OwnedBy           string `json:"owned_by"`
	ContextLength     int    `json:"context_length,omitempty"`
	SupportsImageIn   bool   `json:"supports_image_in,omitempty"`
	SupportsVideoIn   bool   `json:"supports_video_in,omitempty"`
	SupportsReasoning bool   `json:"supports_reasoning,omitempty"`
	DisplayName       string `json:"display_name,omitempty"`
}

// Balance is GET /users/me/balance. Amounts are USD on the global platform, CNY on the China one.
type Balance struct {
	AvailableBalance float64 `json:"available_balance"`
	VoucherBalance   float64 `json:"voucher_balance"`
	CashBalance      float64 `json:"cash_balance"`
}
