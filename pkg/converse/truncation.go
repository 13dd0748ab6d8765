package converse

import (
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Truncation describes an answer that stopped at its token limit (finish_reason "length")
// after any continuations: it is whole up to the limit, and what would let it finish
// depends on the model.
type Truncation struct {
	Model  string
	Budget int // the limit the request sent, else the model's default output
	// ReasoningOnly: the model spent the whole budget thinking and gave no answer.
	ReasoningOnly bool
	// EffortTunable: a lower reasoning effort leaves more of the budget to the answer.
	EffortTunable bool
	// ThinkingSwitchable: the model can answer without thinking.
	ThinkingSwitchable bool
}

// Truncation reports whether the answer of r was cut at its token limit, and how.
func (e *Engine) Truncation(r *Result) (*Truncation, bool) {
	c := r.Completion
	if c == nil || r.Request == nil {
		return nil, false
	}
	fixed := r.Request
	for _, ch := range c.Choices {
		if ch.FinishReason != "length" {
			continue
		}
		spec, _ := e.Client.Catalog().Lookup(fixed.Model)
		t := &Truncation{Model: fixed.Model, Budget: spec.DefaultOutput,
			EffortTunable: spec.Family == moonshot.FamilyK3, ThinkingSwitchable: spec.Thinking == moonshot.ThinkingDefault,
			ReasoningOnly: strings.TrimSpace(ch.Message.Content) == "" && len(ch.Message.ToolCalls) == 0 &&
				(ch.Message.ReasoningContent != "" || c.Usage.ReasoningTokens() > 0)}
		switch {
		case fixed.MaxCompletionTokens != nil:
			t.Budget = *fixed.MaxCompletionTokens
		case fixed.MaxTokens != nil:
			t.Budget = *fixed.MaxTokens
		}
		return t, true
	}
	return nil, false
}
