package moonshot

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// RequiredToolMessage is the user message that replaces tool_choice "required" (LiteLLM's text,
// from Moonshot's migration guide).
const RequiredToolMessage = "Please select a tool to handle the current issue."

// Limits Moonshot documents for a chat request (docs/moonshot-api.md §2, marked H). Fix refuses
// a request over them before anything is sent, naming the limit.
const (
	MaxN         = 5   // answers per request, on the families that take more than one
	MaxStops     = 5   // stop strings
	MaxStopBytes = 32  // bytes of one stop string
	MaxTools     = 128 // tools declared in one request
	// A function name has MinToolNameLen to MaxToolNameLen characters: a letter or _, then
	// letters, digits, _ or -.
	MinToolNameLen = 3
	MaxToolNameLen = 64
)

// Adjustment records one change Fix made to a value of the request.
type Adjustment struct {
	Param  string `json:"param"`
	From   any    `json:"from"`
	To     any    `json:"to"` // nil when the parameter was removed
	Reason string `json:"reason"`
}

// String is the one-line notice the CLI prints, e.g. "temperature 1.5 → 1 (Moonshot accepts 0–1)".
func (a Adjustment) String() string {
	switch {
	case a.To == nil:
		return fmt.Sprintf("%s %s dropped (%s)", a.Param, formatValue(a.From), a.Reason)
	case a.From == nil:
		return fmt.Sprintf("%s set to %s (%s)", a.Param, formatValue(a.To), a.Reason)
	}
	return fmt.Sprintf("%s %s → %s (%s)", a.Param, formatValue(a.From), formatValue(a.To), a.Reason)
}

func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case nil:
		return "unset"
	}
	// Maps, lists and numbers of other types print as JSON, as the user wrote them.
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// InvalidRequestError is a request that no fix can make valid. It is reported before any
// network call.
type InvalidRequestError struct{ Msg string }

func (e *InvalidRequestError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidRequestError{Msg: fmt.Sprintf(format, args...)}
}

// FixOptions tune Fix.
type FixOptions struct {
	// Remote is the server's description of the model (GET /models), when known. It refines the
	// built-in table: context length, capabilities, reasoning.
	Remote *RemoteModel
}

// toolNamePattern is compiled on first use: the counted repetition makes a program of about
// 60 KB, built at every start of moonchat otherwise, though only requests with tools need it.
var toolNamePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^[a-zA-Z_][a-zA-Z0-9-_]{%d,%d}$`, MinToolNameLen-1, MaxToolNameLen-1))
})

// Fix returns a copy of req that Moonshot accepts, with the list of changes it made. It never
// mutates req. It reproduces LiteLLM's three Moonshot rules exactly (temperature > 1 becomes 1;
// then temperature < 0.3 with n > 1 becomes 0.3; tool_choice "required" becomes a user message)
// and adds the per-family rules of docs/moonshot-api.md §1–2. A request that cannot be made
// valid returns an *InvalidRequestError.
func Fix(req *ChatRequest, opts FixOptions) (*ChatRequest, []Adjustment, error) {
	r := req.Clone()
	f := fixer{r: r}
	if stripped := StripProvider(r.Model); stripped != r.Model {
		f.adjust("model", r.Model, stripped, "provider prefix removed")
		r.Model = stripped
	}
	if r.Model == "" {
		return nil, nil, invalid("no model given")
	}
	spec, known := LookupModel(r.Model)
	f.spec = spec.Refine(opts.Remote)
	f.known = known || opts.Remote != nil

	steps := []func() error{
		f.functionsToTools,
		f.joinTextParts,
		f.maxCompletionTokens,
		f.thinking,
		f.reasoningEffort,
		f.sampling,
		f.toolChoice,
		f.reasoningOnToolTurns,
		f.validate,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, nil, err
		}
	}
	return r, f.adj, nil
}

type fixer struct {
	r          *ChatRequest
	spec       ModelSpec
	known      bool
	thinkingOn bool
	adj        []Adjustment
}

func (f *fixer) adjust(param string, from, to any, reason string) {
	f.adj = append(f.adj, Adjustment{Param: param, From: from, To: to, Reason: reason})
}

func (f *fixer) functionsToTools() error {
	r := f.r
	if len(r.Functions) > 0 && string(r.Functions) != "null" {
		var fns []FunctionDef
		if err := json.Unmarshal(r.Functions, &fns); err != nil {
			return invalid("functions: %v", err)
		}
		for _, fn := range fns {
			fn := fn
			r.Tools = append(r.Tools, Tool{Type: "function", Function: &fn})
		}
		f.adjust("functions", fmt.Sprintf("%d functions", len(fns)), "tools", "Moonshot accepts tools, not the deprecated functions")
	}
	if len(r.FunctionCall) > 0 && string(r.FunctionCall) != "null" {
		var tc ToolChoice
		if err := json.Unmarshal(r.FunctionCall, &tc); err != nil {
			return invalid("function_call: %v", err)
		}
		r.ToolChoice = &tc
		f.adjust("function_call", tc.String(), "tool_choice", "Moonshot accepts tool_choice, not the deprecated function_call")
	}
	r.Functions, r.FunctionCall = nil, nil
	return nil
}

// joinTextParts sends a content list made only of text parts as one string, as LiteLLM does;
// a list with an image or video part is sent untouched. Not an adjustment: the text is the same.
func (f *fixer) joinTextParts() error {
	for i := range f.r.Messages {
		c := &f.r.Messages[i].Content
		if !c.IsParts() || len(c.Parts) == 0 {
			continue
		}
		onlyText := true
		for _, p := range c.Parts {
			if p.Type != "text" {
				onlyText = false
				break
			}
		}
		if onlyText {
			*c = Text(c.String())
		}
	}
	return nil
}

// maxCompletionTokens sends the output budget in the field the model's family documents:
// max_completion_tokens for kimi-k2.5 and later (max_tokens is its deprecated alias), max_tokens
// for the models that predate it (as LiteLLM does).
func (f *fixer) maxCompletionTokens() error {
	r := f.r
	if f.spec.OutputField() == "max_completion_tokens" {
		switch {
		case r.MaxTokens == nil:
		case r.MaxCompletionTokens == nil:
			r.MaxCompletionTokens = r.MaxTokens
			f.adjust("max_tokens", *r.MaxTokens, "max_completion_tokens", r.Model+" documents max_completion_tokens; max_tokens is its deprecated alias")
		default:
			f.adjust("max_tokens", *r.MaxTokens, nil, "max_completion_tokens is also set and wins")
		}
		r.MaxTokens = nil
		return nil
	}
	if r.MaxCompletionTokens == nil {
		return nil
	}
	if r.MaxTokens == nil {
		r.MaxTokens = r.MaxCompletionTokens
		f.adjust("max_completion_tokens", *r.MaxCompletionTokens, "max_tokens", r.Model+" takes max_tokens")
	} else {
		f.adjust("max_completion_tokens", *r.MaxCompletionTokens, nil, "max_tokens is also set and wins")
	}
	r.MaxCompletionTokens = nil
	return nil
}

func hasWebSearch(tools []Tool) bool {
	for _, t := range tools {
		if t.Type == "builtin_function" && t.Function != nil && t.Function.Name == WebSearchName {
			return true
		}
	}
	return false
}

func (f *fixer) thinking() error {
	r := f.r
	th := r.Thinking
	if th != nil && th.Type != "enabled" && th.Type != "disabled" {
		return invalid("thinking.type must be \"enabled\" or \"disabled\", not %q", th.Type)
	}
	switch f.spec.Thinking {
	case ThinkingNone, ThinkingAlways:
		f.thinkingOn = f.spec.Thinking == ThinkingAlways
		if th != nil {
			reason := r.Model + " has no thinking switch"
			if f.thinkingOn {
				reason = r.Model + " always thinks and takes no thinking switch"
			}
			f.adjust("thinking", th.Type, nil, reason)
			r.Thinking = nil
		}
	case ThinkingRequired:
		f.thinkingOn = true
		if hasWebSearch(r.Tools) {
			// $web_search needs thinking off, which this model refuses: no fix makes it valid.
			return invalid("%s always thinks and cannot use $web_search; use a model that can switch thinking off (%s)", r.Model, DefaultModel)
		}
		if th != nil && th.Type == "disabled" {
			f.adjust("thinking", "disabled", "enabled", r.Model+" always thinks")
			r.Thinking.Type = "enabled"
		}
	case ThinkingDefault:
		f.thinkingOn = th == nil || th.Type == "enabled"
		if f.thinkingOn && hasWebSearch(r.Tools) {
			from := any(nil)
			if th != nil {
				from = th.Type
			}
			f.adjust("thinking", from, "disabled", r.Model+" cannot use $web_search while thinking")
			if r.Thinking == nil {
				r.Thinking = &Thinking{}
			}
			r.Thinking.Type = "disabled"
			f.thinkingOn = false
		}
	}
	return nil
}

func (f *fixer) reasoningEffort() error {
	r := f.r
	if r.ReasoningEffort == "" {
		return nil
	}
	if f.spec.Family != FamilyK3 {
		f.adjust("reasoning_effort", r.ReasoningEffort, nil, r.Model+" takes no reasoning_effort (kimi-k3 only)")
		r.ReasoningEffort = ""
		return nil
	}
	switch r.ReasoningEffort {
	case "low", "high", "max":
		return nil
	}
	return invalid("reasoning_effort must be low, high or max, not %q", r.ReasoningEffort)
}

func (f *fixer) sampling() error {
	r := f.r
	n := 1
	if r.N != nil {
		n = *r.N
	}
	if n < 1 {
		return invalid("n must be at least 1, not %d", n)
	}
	if f.spec.FixedSampling() {
		reason := r.Model + " fixes %s on the server"
		drop := func(name string, p **float64) {
			if *p != nil {
				f.adjust(name, **p, nil, fmt.Sprintf(reason, name))
				*p = nil
			}
		}
		drop("temperature", &r.Temperature)
		drop("top_p", &r.TopP)
		drop("presence_penalty", &r.PresencePenalty)
		drop("frequency_penalty", &r.FrequencyPenalty)
		if n != 1 {
			f.adjust("n", n, nil, r.Model+" returns one answer per request")
			r.N = nil
		}
		return nil
	}
	if n > MaxN {
		return invalid("n must be at most %d on %s, not %d", MaxN, r.Model, n)
	}
	if t := r.Temperature; t != nil {
		// Rule 1 (LiteLLM): strictly above 1 becomes 1. Negative values are outside Moonshot's
		// range too; they become 0 so that rule 2 below can still apply.
		if *t > 1 {
			f.adjust("temperature", *t, 1.0, "Moonshot accepts 0–1")
			*t = 1
		} else if *t < 0 {
			f.adjust("temperature", *t, 0.0, "Moonshot accepts 0–1")
			*t = 0
		}
		// Rule 2 (LiteLLM): strictly below 0.3 with several answers becomes 0.3.
		if *t < 0.3 && n > 1 {
			f.adjust("temperature", *t, 0.3, "Moonshot rejects a temperature near 0 with n > 1")
			*t = 0.3
		}
	} else if n > 1 && strings.HasPrefix(r.Model, "moonshot-v1") {
		// moonshot-v1 defaults to temperature 0, which the server refuses with n > 1.
		v := 0.3
		r.Temperature = &v
		f.adjust("temperature", nil, 0.3, r.Model+" defaults to 0, which Moonshot rejects with n > 1")
	}
	return nil
}

// requiredToUserMessage is LiteLLM's rule 3: drop tool_choice, keep tools, and append the
// steering user message after every other message.
func (f *fixer) requiredToUserMessage(reason string) {
	r := f.r
	f.adjust("tool_choice", r.ToolChoice.String(), nil, reason)
	r.ToolChoice = nil
	r.Messages = append(r.Messages, TextMessage("user", RequiredToolMessage))
}

func (f *fixer) toolChoice() error {
	r := f.r
	tc := r.ToolChoice
	if tc == nil {
		return nil
	}
	if tc.Function == "" {
		switch tc.Mode {
		case "auto", "none":
			return nil
		case "required":
		case "":
			r.ToolChoice = nil // JSON null: same as absent
			return nil
		default:
			return invalid("tool_choice must be auto, none, required or a function, not %q", tc.Mode)
		}
	}
	switch {
	case tc.Function != "":
		// A named choice is refused only while a model that is not k3 thinks.
		if f.thinkingOn && f.spec.Family != FamilyK3 {
			f.requiredToUserMessage("a named tool_choice is refused while " + r.Model + " thinks; a user message asks for a tool instead")
		}
	case f.spec.RequiredToolChoice:
	case f.thinkingOn:
		f.requiredToUserMessage(`tool_choice "required" is refused while ` + r.Model + " thinks; a user message asks for a tool instead")
	default:
		// LiteLLM's rule 3 applies to every model not known to accept "required", thinking or
		// not: Moonshot documents "required" as unsupported outside the k3 family.
		f.requiredToUserMessage(`Moonshot does not support tool_choice "required" on ` + r.Model + `; a user message asks for a tool instead`)
	}
	return nil
}

// reasoningOnToolTurns: a thinking model refuses an assistant tool-call turn without its
// reasoning_content. Callers should send the real one (history keeps it); a single space is the
// fallback only when it is lost, and it is reported.
func (f *fixer) reasoningOnToolTurns() error {
	if !f.thinkingOn {
		return nil
	}
	for i := range f.r.Messages {
		m := &f.r.Messages[i]
		if m.Role != "assistant" || len(m.ToolCalls) == 0 {
			continue
		}
		if (m.ReasoningContent == nil || *m.ReasoningContent == "") && m.ProviderReasoning != nil && *m.ProviderReasoning != "" {
			// LiteLLM keeps a turn's reasoning in provider_specific_fields: it is the real one.
			m.ReasoningContent = m.ProviderReasoning
		}
		if m.ReasoningContent == nil || *m.ReasoningContent == "" {
			space := " "
			m.ReasoningContent = &space
			f.adjust(fmt.Sprintf("messages[%d].reasoning_content", i), nil, " ",
				"the original reasoning is lost; "+f.r.Model+" requires it on tool-call turns")
		}
	}
	return nil
}

func (f *fixer) validate() error {
	r := f.r
	if len(r.Messages) == 0 {
		return invalid("the request has no messages")
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			return invalid("message %d has an unknown role %q (Moonshot accepts system, user, assistant, tool)", i, m.Role)
		}
		if m.Content.Empty() && !(m.Role == "assistant" && len(m.ToolCalls) > 0) {
			return invalid("message %d (%s) is empty; Moonshot refuses empty messages", i, m.Role)
		}
		if m.Partial {
			if i != len(r.Messages)-1 || m.Role != "assistant" {
				return invalid("message %d: partial is allowed only on the last message, from the assistant", i)
			}
			if r.ResponseFormat != nil && r.ResponseFormat.Type == "json_object" {
				return invalid("partial mode cannot be combined with JSON mode")
			}
		}
		if m.Content.IsParts() && f.known {
			for _, p := range m.Content.Parts {
				if p.Type == "image_url" && !f.spec.Vision {
					return invalid("%s does not accept images; use a vision model: %s", r.Model, strings.Join(VisionModels(), ", "))
				}
				if p.Type == "video_url" && !f.spec.Video {
					return invalid("%s does not accept video", r.Model)
				}
			}
		}
	}
	if len(r.Stop) > MaxStops {
		return invalid("at most %d stop strings are allowed, not %d", MaxStops, len(r.Stop))
	}
	for _, s := range r.Stop {
		if len(s) > MaxStopBytes {
			return invalid("stop string %q is %d bytes; Moonshot allows at most %d", s, len(s), MaxStopBytes)
		}
	}
	return ValidateTools(r.Tools)
}

// ValidateTools checks tool declarations against Moonshot's rules: at most MaxTools tools,
// function names of MinToolNameLen to MaxToolNameLen letters, digits, _ or - not starting with
// a digit or -, parameters an object schema whose every property has a type.
func ValidateTools(tools []Tool) error {
	if len(tools) > MaxTools {
		return invalid("%d tools declared; Moonshot allows at most %d", len(tools), MaxTools)
	}
	for i, t := range tools {
		if t.Function == nil {
			return invalid("tools[%d] has no function", i)
		}
		name := t.Function.Name
		switch t.Type {
		case "builtin_function":
			if !strings.HasPrefix(name, "$") {
				return invalid("tools[%d]: builtin function %q must start with $ (e.g. $web_search)", i, name)
			}
			continue
		case "function":
		default:
			return invalid("tools[%d] has type %q; Moonshot accepts function and builtin_function", i, t.Type)
		}
		if !toolNamePattern().MatchString(name) {
			return invalid("tool name %q is not allowed: use %d–%d letters, digits, _ or -, not starting with a digit", name, MinToolNameLen, MaxToolNameLen)
		}
		if len(t.Function.Parameters) == 0 || string(t.Function.Parameters) == "null" {
			continue
		}
		var schema map[string]any
		if err := json.Unmarshal(t.Function.Parameters, &schema); err != nil {
			return invalid("tool %q: parameters must be a JSON object schema: %v", name, err)
		}
		if typ, _ := schema["type"].(string); typ != "object" {
			return invalid("tool %q: parameters must be a schema of type \"object\"", name)
		}
		if path := untypedProperty(schema, "parameters"); path != "" {
			return invalid("tool %q: %s has no type (Moonshot needs \"type\" or \"anyOf\" on every property)", name, path)
		}
	}
	return nil
}

// untypedProperty returns the path of the first property without "type" or "anyOf".
func untypedProperty(schema map[string]any, path string) string {
	if props, ok := schema["properties"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(props)) {
			p, ok := props[name].(map[string]any)
			sub := path + ".properties." + name
			if !ok {
				return sub
			}
			_, hasType := p["type"]
			_, hasAnyOf := p["anyOf"]
			if !hasType && !hasAnyOf {
				return sub
			}
			if bad := untypedProperty(p, sub); bad != "" {
				return bad
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		if bad := untypedProperty(items, path+".items"); bad != "" {
			return bad
		}
	}
	return ""
}
