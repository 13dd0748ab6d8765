package moonshot

import (
	"regexp"
	"strings"
)

// Family groups models by the request rules Moonshot enforces on them.
type Family int

// The families of parameter-fixes.md part 2.
const (
	// FamilyLegacy: moonshot-v1-*, kimi-latest*, the kimi-k2 previews. Temperature in [0,1], n ≤ 5,
	// no tool_choice "required", no thinking switch.
	FamilyLegacy Family = iota
	// FamilyThinking: kimi-k2-thinking*. Always thinks; rules of legacy for sampling.
	FamilyThinking
	// FamilyFixed: kimi-k2.5, kimi-k2.6, kimi-k2.7-code* and later kimi-k2.N. Sampling is fixed by
	// the server, n is 1, thinking is switchable (k2.7-code: always on).
	FamilyFixed
	// FamilyK3: kimi-k3*. Sampling fixed, always thinks, reasoning_effort, tool_choice passes.
	FamilyK3
)

func (f Family) String() string {
	switch f {
	case FamilyThinking:
		return "thinking"
	case FamilyFixed:
		return "fixed"
	case FamilyK3:
		return "k3"
	}
	return "legacy"
}

// ThinkingMode says how a model reasons.
type ThinkingMode int

// Thinking modes.
const (
	ThinkingNone     ThinkingMode = iota // never thinks; `thinking` must not be sent
	ThinkingAlways                       // always thinks; `thinking` must not be sent
	ThinkingDefault                      // thinks unless thinking.type is "disabled"
	ThinkingRequired                     // always thinks; only thinking.type "enabled" is accepted
)

// Price is a list price in Currency per million tokens.
type Price struct {
	Currency   string  `json:"currency"`
	InputCache float64 `json:"input_cache_hit"`
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	// Note qualifies the figure (e.g. tiered pricing, third-party source).
	Note string `json:"note,omitempty"`
}

// Known reports whether a price is recorded.
func (p Price) Known() bool { return p.Input > 0 || p.Output > 0 }

// Cost estimates the price of a request from its usage. Cached prompt tokens are billed at the
// cache-hit price.
func (p Price) Cost(u *Usage) float64 {
	if u == nil || !p.Known() {
		return 0
	}
	cached := u.Cached()
	uncached := max(u.PromptTokens-cached, 0)
	hit := p.InputCache
	if hit == 0 {
		hit = p.Input
	}
	return (float64(uncached)*p.Input + float64(cached)*hit + float64(u.CompletionTokens)*p.Output) / 1e6
}

// ModelSpec is what moonchat knows about a model without asking the server.
type ModelSpec struct {
	ID         string
	Family     Family
	Context    int
	Vision     bool
	Video      bool
	Tools      bool
	Thinking   ThinkingMode
	Price      Price
	Deprecated string
	// RequiredToolChoice: the model accepts tool_choice "required" (today only the k3 family).
	RequiredToolChoice bool
	// FixedTemperature is the value the server insists on (fixed and k3 families), with thinking
	// on; FixedTemperatureNoThinking applies when thinking is disabled.
	FixedTemperature           float64
	FixedTemperatureNoThinking float64
}

func usd(hit, in, out float64, note string) Price {
	return Price{Currency: "USD", InputCache: hit, Input: in, Output: out, Note: note}
}

// modelTable is the one place that knows Moonshot's models (sources: moonshot-api.md §4).
// A new model is one line here.
var modelTable = []ModelSpec{
	{ID: "moonshot-v1-8k", Family: FamilyLegacy, Context: 8192, Tools: true, Price: usd(0, 0.20, 2, "")},
	{ID: "moonshot-v1-32k", Family: FamilyLegacy, Context: 32768, Tools: true, Price: usd(0, 1, 3, "")},
	{ID: "moonshot-v1-128k", Family: FamilyLegacy, Context: 131072, Tools: true, Price: usd(0, 2, 5, "")},
	{ID: "moonshot-v1-auto", Family: FamilyLegacy, Context: 131072, Tools: true, Price: usd(0, 2, 5, "tiered by length; highest tier shown")},
	{ID: "moonshot-v1-8k-vision-preview", Family: FamilyLegacy, Context: 8192, Tools: true, Vision: true, Price: usd(0, 0.20, 2, "")},
	{ID: "moonshot-v1-32k-vision-preview", Family: FamilyLegacy, Context: 32768, Tools: true, Vision: true, Price: usd(0, 1, 3, "")},
	{ID: "moonshot-v1-128k-vision-preview", Family: FamilyLegacy, Context: 131072, Tools: true, Vision: true, Price: usd(0, 2, 5, "")},
	{ID: "kimi-latest", Family: FamilyLegacy, Context: 131072, Tools: true, Vision: true, Price: usd(0.15, 2, 5, "tiered by length; highest tier shown")},
	{ID: "kimi-thinking-preview", Family: FamilyThinking, Context: 131072, Vision: true, Thinking: ThinkingAlways, Deprecated: "discontinued 2025-11-11"},
	{ID: "kimi-k2-0711-preview", Family: FamilyLegacy, Context: 131072, Tools: true, Price: usd(0.15, 0.60, 2.50, "")},
	{ID: "kimi-k2-0905-preview", Family: FamilyLegacy, Context: 262144, Tools: true, Price: usd(0.15, 0.60, 2.50, "")},
	{ID: "kimi-k2-turbo-preview", Family: FamilyLegacy, Context: 262144, Tools: true, Price: usd(0.15, 1.15, 8, "")},
	{ID: "kimi-k2-thinking", Family: FamilyThinking, Context: 262144, Tools: true, Thinking: ThinkingAlways, Price: usd(0.15, 0.60, 2.50, "")},
	{ID: "kimi-k2-thinking-turbo", Family: FamilyThinking, Context: 262144, Tools: true, Thinking: ThinkingAlways, Price: usd(0.15, 1.15, 8, "")},
	{ID: "kimi-k2.5", Family: FamilyFixed, Context: 262144, Tools: true, Vision: true, Video: true, Thinking: ThinkingDefault, Price: usd(0.10, 0.60, 3, ""), FixedTemperature: 1, FixedTemperatureNoThinking: 0.6},
	{ID: "kimi-k2.6", Family: FamilyFixed, Context: 262144, Tools: true, Vision: true, Video: true, Thinking: ThinkingDefault, Price: usd(0.16, 0.95, 4, "third-party figure"), FixedTemperature: 1, FixedTemperatureNoThinking: 0.6},
	{ID: "kimi-k2.7-code", Family: FamilyFixed, Context: 262144, Tools: true, Vision: true, Video: true, Thinking: ThinkingRequired, FixedTemperature: 1, FixedTemperatureNoThinking: 1},
	{ID: "kimi-k2.7-code-highspeed", Family: FamilyFixed, Context: 262144, Tools: true, Vision: true, Video: true, Thinking: ThinkingRequired, FixedTemperature: 1, FixedTemperatureNoThinking: 1},
	{ID: "kimi-k3", Family: FamilyK3, Context: 262144, Tools: true, RequiredToolChoice: true, Thinking: ThinkingAlways, FixedTemperature: 1, FixedTemperatureNoThinking: 1},
}

// DefaultModel is the model used when none is configured.
const DefaultModel = "kimi-k2.6"

// KnownModels returns the built-in table (a copy).
func KnownModels() []ModelSpec { return append([]ModelSpec(nil), modelTable...) }

var laterFixed = regexp.MustCompile(`^kimi-k2\.\d+`)

// LookupModel returns the spec of id: an exact entry of the table, or one derived from the id's
// pattern (a later kimi-k2.N, a new kimi-k3 variant). ok is false for an id moonchat does not
// recognise; the returned spec then carries the legacy rules, as parameter-fixes.md prescribes.
func LookupModel(id string) (spec ModelSpec, ok bool) {
	id = StripProvider(id)
	for _, m := range modelTable {
		if m.ID == id {
			return m, true
		}
	}
	switch {
	case strings.HasPrefix(id, "kimi-k2.7-code"):
		return ModelSpec{ID: id, Family: FamilyFixed, Context: 262144, Tools: true, Vision: true, Video: true, Thinking: ThinkingRequired, FixedTemperature: 1, FixedTemperatureNoThinking: 1}, true
	case laterFixed.MatchString(id):
		return ModelSpec{ID: id, Family: FamilyFixed, Context: 262144, Tools: true, Vision: true, Video: true, Thinking: ThinkingDefault, FixedTemperature: 1, FixedTemperatureNoThinking: 0.6}, true
	case strings.HasPrefix(id, "kimi-k3"):
		return ModelSpec{ID: id, Family: FamilyK3, Context: 262144, Tools: true, RequiredToolChoice: true, Thinking: ThinkingAlways, FixedTemperature: 1, FixedTemperatureNoThinking: 1}, true
	case strings.HasPrefix(id, "kimi-k2-thinking"):
		return ModelSpec{ID: id, Family: FamilyThinking, Context: 262144, Tools: true, Thinking: ThinkingAlways}, true
	case strings.HasPrefix(id, "moonshot-v1-"), strings.HasPrefix(id, "kimi-latest"), strings.HasPrefix(id, "kimi-k2-"):
		return ModelSpec{ID: id, Family: FamilyLegacy, Context: 131072, Tools: true, Vision: strings.Contains(id, "vision") || strings.HasPrefix(id, "kimi-latest")}, true
	}
	return ModelSpec{ID: id, Family: FamilyLegacy, Tools: true}, false
}

// Refine merges what GET /models says about a model into its spec: the server's context length
// and capabilities win, and an unknown model that reports reasoning is treated as always
// thinking, which makes the fixes protect its tool-call turns.
func (s ModelSpec) Refine(remote *RemoteModel) ModelSpec {
	if remote == nil {
		return s
	}
	if remote.ContextLength > 0 {
		s.Context = remote.ContextLength
	}
	s.Vision = s.Vision || remote.SupportsImageIn
	s.Video = s.Video || remote.SupportsVideoIn
	if remote.SupportsReasoning && s.Thinking == ThinkingNone {
		s.Thinking = ThinkingAlways
		if s.Family == FamilyLegacy {
			s.Family = FamilyThinking
		}
	}
	return s
}

// VisionModels lists the ids of the table's models that accept images (for error hints).
func VisionModels() []string {
	var ids []string
	for _, m := range modelTable {
		if m.Vision && m.Deprecated == "" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// StripProvider removes LiteLLM's "moonshot/" provider prefix: everything after the first "/"
// is the model id, sent verbatim.
func StripProvider(model string) string {
	if rest, ok := strings.CutPrefix(model, "moonshot/"); ok {
		return rest
	}
	return model
}
