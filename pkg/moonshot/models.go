package moonshot

import (
	"fmt"
	"strconv"
	"strings"
)

// Family groups models by the request rules Moonshot enforces on them.
type Family int

// The families of docs/moonshot-api.md §1.
const (
	// FamilyLegacy: moonshot-v1-*, kimi-latest*, the kimi-k2 previews. Temperature in [0,1], n ≤ 5,
	// no tool_choice "required", no thinking switch.
	FamilyLegacy Family = iota
	// FamilyThinking: kimi-k2-thinking*. Always thinks; rules of legacy for sampling.
	FamilyThinking
	// FamilyFixed: kimi-k2.5, kimi-k2.6, kimi-k2.7-code* and later kimi-k2.N. Sampling is fixed by
	// the server, n is 1, thinking is switchable (k2.7-code: always on).
	FamilyFixed
	// FamilyK3: kimi-k3*. Sampling fixed, always thinks, reasoning_effort.
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
	// Note qualifies the figure (e.g. tiered pricing, cache-write prices).
	Note string `json:"note,omitempty"`
	// ThirdParty: the figure comes from third parties only, not from Moonshot's own pages.
	ThirdParty bool `json:"third_party"`
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

// Retirement says that Moonshot no longer serves a model (calls get 404
// resource_not_found_error) and what to use instead.
type Retirement struct {
	// Date is when it was retired (YYYY-MM-DD); empty when no source names the day.
	Date string `json:"date,omitempty"`
	// Replacement is the model to use instead.
	Replacement string `json:"replacement"`
	// Note qualifies the replacement (e.g. "with thinking disabled").
	Note string `json:"note,omitempty"`
	// ThirdParty: the date comes from third parties only.
	ThirdParty bool `json:"third_party"`
}

// Notice is the one line shown when id is used: the request is still sent, the server decides.
func (r Retirement) Notice(id string) string {
	return r.Sentence(id) + " instead (sending the request anyway)"
}

// Sentence says when id was retired and what to use: "kimi-k2.5 was retired by Moonshot on
// 2026-08-31 (a date from third parties); use kimi-k2.6".
func (r Retirement) Sentence(id string) string {
	when := ""
	if r.Date != "" {
		when = " on " + r.Date
		if r.ThirdParty {
			when += " (a date from third parties)"
		}
	}
	use := r.Replacement
	if r.Note != "" {
		use += " " + r.Note
	}
	return fmt.Sprintf("%s was retired by Moonshot%s; use %s", id, when, use)
}

// String is the short form: "retired 2026-08-31; use kimi-k2.6".
func (r Retirement) String() string {
	s := "retired"
	if r.Date != "" {
		s += " " + r.Date
	}
	s += "; use " + r.Replacement
	if r.Note != "" {
		s += " " + r.Note
	}
	return s
}

// ModelSpec is what moonchat knows about a model without asking the server. It is the one
// place that holds model facts; the CLI, completion, `models`, `tokens` and the proxy read it.
type ModelSpec struct {
	ID      string
	Family  Family
	Context int
	// MaxOutput is the largest output budget the model takes; DefaultOutput is the budget the
	// server uses when the request names none. 0 means no source gives the figure.
	MaxOutput     int
	DefaultOutput int
	Thinking      ThinkingMode
	// PreservesThinking: the model reads the reasoning of every earlier turn, so each
	// assistant turn is replayed with its reasoning_content.
	PreservesThinking bool
	// FixedTemperature is the value the server insists on (fixed and k3 families), with thinking
	// on; FixedTemperatureNoThinking applies when thinking is disabled.
	FixedTemperature           float64
	FixedTemperatureNoThinking float64
	Vision                     bool
	Video                      bool
	Tools                      bool
	// RequiredToolChoice: the model is known to accept tool_choice "required". Every other
	// model gets LiteLLM's rule 3.
	RequiredToolChoice bool
	Price              Price
	// Retired is set for a model Moonshot no longer serves.
	Retired *Retirement
	// ThirdParty names the facts of this entry that only third parties give (the price and
	// retirement carry their own mark).
	ThirdParty []string
}

// FixedSampling reports whether the server fixes temperature, top_p, n and the penalties.
func (s ModelSpec) FixedSampling() bool { return s.Family == FamilyFixed || s.Family == FamilyK3 }

// OutputField is the request field that carries the output budget for the model: the newer
// families document max_completion_tokens (max_tokens is its deprecated alias); the models
// that predate it take max_tokens.
func (s ModelSpec) OutputField() string {
	if s.FixedSampling() {
		return "max_completion_tokens"
	}
	return "max_tokens"
}

// MinThinkingBudget is the output budget Moonshot asks for on thinking models: reasoning and
// answer share it (docs/moonshot-api.md §3, H).
const MinThinkingBudget = 16000

// familyBudget is what a thinking model of the family gets when its own server default is not
// known: the documented default of its family (k3: 131,072; kimi-k2.x: 32,768).
func (s ModelSpec) familyBudget() int {
	if s.Family == FamilyK3 {
		return 131072
	}
	return 32768
}

// budgetMargin is kept free between the prompt estimate and the context window.
const budgetMargin = 1024

// DefaultBudget is the output budget to send when the caller gave none, or 0 to leave it to the
// server. A thinking model spends one budget on reasoning and answer, so when its server default
// is unknown (or below what Moonshot asks for) it gets its family's default, so that a small
// server default cannot cut it short; the budget is capped by the context left after the prompt
// (promptTokens, an estimate that errs high), as Moonshot's own clients do. Models that do not
// think, and models the table does not know, are left to the server.
func (s ModelSpec) DefaultBudget(promptTokens int) int {
	if s.Thinking == ThinkingNone || s.DefaultOutput >= MinThinkingBudget || s.Context == 0 {
		return 0
	}
	budget := s.familyBudget()
	if s.MaxOutput > 0 {
		budget = min(budget, s.MaxOutput)
	}
	budget = min(budget, s.Context-promptTokens-budgetMargin)
	if budget < MinThinkingBudget/4 {
		return 0 // too little room to help: the server decides (or refuses the prompt)
	}
	return budget
}

// EstimatePromptTokens is a quick upper estimate of a request's prompt tokens, without the
// tokenizer: one token per two bytes of text (English runs near four bytes a token, CJK near
// three), so a budget sized from it errs on the small side.
func EstimatePromptTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Content.String()) + len(m.Name) + 8
		if m.ReasoningContent != nil {
			n += len(*m.ReasoningContent)
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
	}
	return n / 2
}

func usd(hit, in, out float64, note string) Price {
	return Price{Currency: "USD", InputCache: hit, Input: in, Output: out, Note: note}
}

func thirdParty(p Price) Price { p.ThirdParty = true; return p }

// Retirements (docs/moonshot-api.md §7). Dates are third-party (models.dev, llmdb, chatcli,
// claude-council citing platform.kimi.ai/docs/models) except kimi-thinking-preview's, which
// Moonshot's own older docs give.
var (
	retiredThinkingPreview = &Retirement{Date: "2025-11-11", Replacement: "kimi-k2.6"}
	retiredKimiLatest      = &Retirement{Date: "2026-01-28", Replacement: "kimi-k2.6", ThirdParty: true}
	retiredK2              = &Retirement{Date: "2026-05-25", Replacement: "kimi-k2.6", ThirdParty: true}
	// The turbo ids were the fast line: the fast current model is our suggestion.
	retiredK2Turbo  = &Retirement{Date: "2026-05-25", Replacement: "kimi-k2.7-code-highspeed", ThirdParty: true}
	retiredK25      = &Retirement{Date: "2026-08-31", Replacement: "kimi-k2.6", ThirdParty: true}
	retiredV1       = &Retirement{Date: "2026-08-31", Replacement: "kimi-k2.6", Note: "with --no-thinking", ThirdParty: true}
	retiredV1Vision = &Retirement{Date: "2026-08-31", Replacement: "kimi-k2.6", Note: "with --no-thinking", ThirdParty: true}
	// No source names the day; it is absent from the served list of 2026-09-02.
	retiredV1Auto = &Retirement{Replacement: "kimi-k2.6", Note: "with --no-thinking", ThirdParty: true}
)

// modelTable is the one place that knows Moonshot's models. A new model is one line here.
// Sources: figures are Moonshot's own (H) unless the
// entry's ThirdParty, its price's or its retirement's mark says otherwise.
var modelTable = []ModelSpec{
	// K3.1 (2026-10-23): APIYI, novita, Vercel gateway, apidog — all third-party. Its output
	// default and "required" support are unknown, so rule 3 applies to it.
	{ID: "kimi-k3.1-pro", Family: FamilyK3, Context: 1048576, MaxOutput: 1048576, Thinking: ThinkingAlways, PreservesThinking: true,
		FixedTemperature: 1, FixedTemperatureNoThinking: 1, Vision: true, Video: true, Tools: true,
		Price:      thirdParty(usd(0.20, 2.00, 10.00, "cache writes 2.00 (5 min) / 4.00 (1 h)")),
		ThirdParty: []string{"context", "max output", "vision", "video", "sampling"}},
	{ID: "kimi-k3.1-pro-highspeed", Family: FamilyK3, Context: 1048576, MaxOutput: 1048576, Thinking: ThinkingAlways, PreservesThinking: true,
		FixedTemperature: 1, FixedTemperatureNoThinking: 1, Vision: true, Video: true, Tools: true,
		Price:      thirdParty(usd(0.20, 4.00, 20.00, "cache writes 4.00 (5 min) / 8.00 (1 h)")),
		ThirdParty: []string{"context", "max output", "vision", "video", "sampling"}},
	// K3 (2026-07-16): reasoning_effort is Moonshot's (H); context, budgets, vision, sampling,
	// "required" and prices are third-party (catwalk, big-AGI, llmdb, models.dev, Vercel fixtures).
	{ID: "kimi-k3", Family: FamilyK3, Context: 1048576, MaxOutput: 1048576, DefaultOutput: 131072, Thinking: ThinkingAlways, PreservesThinking: true,
		FixedTemperature: 1, FixedTemperatureNoThinking: 1, Vision: true, Video: true, Tools: true, RequiredToolChoice: true,
		Price:      thirdParty(usd(0.30, 3.00, 15.00, "")),
		ThirdParty: []string{"context", "max output", "vision", "video", "sampling", "required"}},
	{ID: "kimi-k2.7-code", Family: FamilyFixed, Context: 262144, DefaultOutput: 32768, Thinking: ThinkingRequired, PreservesThinking: true,
		FixedTemperature: 1, FixedTemperatureNoThinking: 1, Vision: true, Video: true, Tools: true,
		Price:      thirdParty(usd(0.19, 0.95, 4.00, "")),
		ThirdParty: []string{"default output", "vision", "video", "sampling"}},
	{ID: "kimi-k2.7-code-highspeed", Family: FamilyFixed, Context: 262144, DefaultOutput: 32768, Thinking: ThinkingRequired, PreservesThinking: true,
		FixedTemperature: 1, FixedTemperatureNoThinking: 1, Vision: true, Video: true, Tools: true,
		Price:      thirdParty(usd(0.38, 1.90, 8.00, "")),
		ThirdParty: []string{"default output", "vision", "video", "sampling"}},
	{ID: "kimi-k2.6", Family: FamilyFixed, Context: 262144, DefaultOutput: 32768, Thinking: ThinkingDefault,
		FixedTemperature: 1, FixedTemperatureNoThinking: 0.6, Vision: true, Video: true, Tools: true,
		Price: thirdParty(usd(0.16, 0.95, 4.00, ""))},

	// Retired: Moonshot answers 404; the entries stay so that old conversations, configs and
	// scripts get the right rules and a notice naming the replacement.
	{ID: "kimi-k2.5", Family: FamilyFixed, Context: 262144, DefaultOutput: 32768, Thinking: ThinkingDefault,
		FixedTemperature: 1, FixedTemperatureNoThinking: 0.6, Vision: true, Video: true, Tools: true,
		Price: usd(0.10, 0.60, 3.00, ""), Retired: retiredK25},
	{ID: "kimi-k2-thinking", Family: FamilyThinking, Context: 262144, Thinking: ThinkingAlways, Tools: true,
		Price: usd(0.15, 0.60, 2.50, ""), Retired: retiredK2},
	{ID: "kimi-k2-thinking-turbo", Family: FamilyThinking, Context: 262144, Thinking: ThinkingAlways, Tools: true,
		Price: usd(0.15, 1.15, 8, ""), Retired: retiredK2Turbo},
	{ID: "kimi-k2-0711-preview", Family: FamilyLegacy, Context: 131072, Tools: true, Price: usd(0.15, 0.60, 2.50, ""), Retired: retiredK2},
	{ID: "kimi-k2-0905-preview", Family: FamilyLegacy, Context: 262144, Tools: true, Price: usd(0.15, 0.60, 2.50, ""), Retired: retiredK2},
	{ID: "kimi-k2-turbo-preview", Family: FamilyLegacy, Context: 262144, Tools: true, Price: usd(0.15, 1.15, 8, ""), Retired: retiredK2Turbo},
	{ID: "kimi-thinking-preview", Family: FamilyThinking, Context: 131072, Vision: true, Thinking: ThinkingAlways, Retired: retiredThinkingPreview},
	{ID: "kimi-latest", Family: FamilyLegacy, Context: 131072, Tools: true, Vision: true,
		Price: usd(0.15, 2, 5, "tiered by length; highest tier shown"), Retired: retiredKimiLatest},
	{ID: "moonshot-v1-8k", Family: FamilyLegacy, Context: 8192, Tools: true, Price: usd(0, 0.20, 2, ""), Retired: retiredV1},
	{ID: "moonshot-v1-32k", Family: FamilyLegacy, Context: 32768, Tools: true, Price: usd(0, 1, 3, ""), Retired: retiredV1},
	{ID: "moonshot-v1-128k", Family: FamilyLegacy, Context: 131072, Tools: true, Price: usd(0, 2, 5, ""), Retired: retiredV1},
	{ID: "moonshot-v1-auto", Family: FamilyLegacy, Context: 131072, Tools: true,
		Price: usd(0, 2, 5, "tiered by length; highest tier shown"), Retired: retiredV1Auto},
	{ID: "moonshot-v1-8k-vision-preview", Family: FamilyLegacy, Context: 8192, Tools: true, Vision: true, Price: usd(0, 0.20, 2, ""), Retired: retiredV1Vision},
	{ID: "moonshot-v1-32k-vision-preview", Family: FamilyLegacy, Context: 32768, Tools: true, Vision: true, Price: usd(0, 1, 3, ""), Retired: retiredV1Vision},
	{ID: "moonshot-v1-128k-vision-preview", Family: FamilyLegacy, Context: 131072, Tools: true, Vision: true, Price: usd(0, 2, 5, ""), Retired: retiredV1Vision},
}

// DefaultModel is the model used when none is configured.
const DefaultModel = "kimi-k2.6"

// KnownModels returns the built-in table (a copy), current models first.
func KnownModels() []ModelSpec { return append([]ModelSpec(nil), modelTable...) }

// CurrentModels returns the models of the table that Moonshot still serves.
func CurrentModels() []ModelSpec {
	var out []ModelSpec
	for _, m := range modelTable {
		if m.Retired == nil {
			out = append(out, m)
		}
	}
	return out
}

// laterK2 reports a kimi-k2.N id with N ≥ 5 (the fixed family's numbering) and returns N.
func laterK2(id string) bool {
	rest, ok := strings.CutPrefix(id, "kimi-k2.")
	if !ok {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	return err == nil && n >= 5
}

// LookupModel returns the spec of id: an exact entry of the table, or one derived from the id's
// pattern (a later kimi-k2.N, a new kimi-k3 variant). ok is false for an id moonchat does not
// recognise; the returned spec then carries the legacy rules, the most conservative (docs/moonshot-api.md §1).
func LookupModel(id string) (spec ModelSpec, ok bool) {
	id = StripProvider(id)
	for _, m := range modelTable {
		if m.ID == id {
			return m, true
		}
	}
	like := func(base string) ModelSpec {
		s, _ := LookupModel(base)
		s.ID, s.Price, s.Retired, s.DefaultOutput = id, Price{}, nil, 0
		s.RequiredToolChoice = false // not known for a variant moonchat has not seen
		return s
	}
	switch {
	case strings.HasPrefix(id, "kimi-k2.7-code"):
		return like("kimi-k2.7-code"), true
	case laterK2(id):
		return like("kimi-k2.6"), true
	case strings.HasPrefix(id, "kimi-k3"):
		return like("kimi-k3.1-pro"), true
	case strings.HasPrefix(id, "kimi-k2-thinking"):
		return like("kimi-k2-thinking"), true
	case strings.HasPrefix(id, "moonshot-v1-"), strings.HasPrefix(id, "kimi-latest"), strings.HasPrefix(id, "kimi-k2-"):
		return ModelSpec{ID: id, Family: FamilyLegacy, Context: 131072, Tools: true, Vision: strings.Contains(id, "vision") || strings.HasPrefix(id, "kimi-latest")}, true
	}
	return ModelSpec{ID: id, Family: FamilyLegacy, Tools: true}, false
}

// Refine merges what GET /models says about a model into its spec: the server's context length
// and capabilities win, and an unknown model that reports reasoning is treated as always
// thinking, which makes the fixes protect its tool-call turns. A model the server lists is
// served, whatever the table says about its retirement.
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
	s.Retired = nil
	return s
}

// VisionModels lists the ids of the current models that accept images (for error hints).
func VisionModels() []string {
	var ids []string
	for _, m := range CurrentModels() {
		if m.Vision {
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
