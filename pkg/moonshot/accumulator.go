package moonshot

import (
	"fmt"
	"strings"
)

// Accumulator builds the whole answer from stream chunks. Each piece of text is appended once
// (no copy of the answer per token), so its cost is linear in the length of the answer.
//
// Indexes come from the wire and are checked: a chunk for a choice outside [0, N) or a tool
// call index outside [0, MaxToolCalls) is refused with an unexpected_output error and changes
// nothing, so what was accumulated before it stays whole.
type Accumulator struct {
	// N is the number of choices the request asked for; 0 allows up to MaxChoices.
	N int

	id, model   string
	created     int64
	fingerprint string
	choices     []*accChoice
	usage       *Usage // top-level usage (stream_options.include_usage)
	size        int    // bytes of text kept, against MaxAnswerBytes
}

type accChoice struct {
	role          string
	content       strings.Builder
	reasoning     strings.Builder
	toolCalls     []*accToolCall
	finishReason  string
	usage         *Usage
	sawFinishLine bool
}

type accToolCall struct {
	index     int
	id, typ   string
	name      string
	arguments strings.Builder
}

// Add merges one chunk. A chunk with an index out of range is refused whole: Add returns an
// unexpected_output *APIError and the accumulator is unchanged.
func (a *Accumulator) Add(c *ChatCompletionChunk) error {
	if err := a.check(c); err != nil {
		return err
	}
	for i := range c.Choices {
		d := &c.Choices[i].Delta
		a.size += len(d.Content) + len(d.ReasoningContent)
		for _, tc := range d.ToolCalls {
			a.size += len(tc.Function.Arguments)
		}
	}
	if a.id == "" {
		a.id, a.model, a.created = c.ID, c.Model, c.Created
	}
	if c.SystemFingerprint != "" {
		a.fingerprint = c.SystemFingerprint
	}
	if c.Usage != nil && saneUsage(c.Usage) {
		u := *c.Usage
		a.usage = &u
	}
	for i := range c.Choices {
		cc := &c.Choices[i]
		ch := a.choice(cc.Index)
		if cc.Delta.Role != "" {
			ch.role = cc.Delta.Role
		}
		ch.content.WriteString(cc.Delta.Content)
		ch.reasoning.WriteString(cc.Delta.ReasoningContent)
		for _, tc := range cc.Delta.ToolCalls {
			ch.addToolCall(tc)
		}
		if cc.FinishReason != nil && *cc.FinishReason != "" {
			ch.finishReason = *cc.FinishReason
			ch.sawFinishLine = true
		}
		if cc.Usage != nil && saneUsage(cc.Usage) {
			u := *cc.Usage
			ch.usage = &u
		}
	}
	return nil
}

func (a *Accumulator) check(c *ChatCompletionChunk) error {
	n := a.N
	if n <= 0 {
		n = MaxChoices
	}
	size := a.size
	for i := range c.Choices {
		cc := &c.Choices[i]
		if err := checkChoiceIndex(cc.Index, n, ""); err != nil {
			return err
		}
		size += len(cc.Delta.Content) + len(cc.Delta.ReasoningContent)
		for _, tc := range cc.Delta.ToolCalls {
			size += len(tc.Function.Arguments)
		}
		if size > MaxAnswerBytes {
			return overCap("the answer", MaxAnswerBytes, "")
		}
		for _, tc := range cc.Delta.ToolCalls {
			if tc.Index != nil && (*tc.Index < 0 || *tc.Index >= MaxToolCalls) {
				return &APIError{Type: ErrTypeUnexpectedOutput,
					Message: fmt.Sprintf("the server sent tool call index %d (moonchat takes 0 to %d); the answer is incomplete", *tc.Index, MaxToolCalls-1)}
			}
		}
	}
	return nil
}

func (a *Accumulator) choice(index int) *accChoice {
	for index >= len(a.choices) {
		a.choices = append(a.choices, &accChoice{})
	}
	return a.choices[index]
}

func (ch *accChoice) addToolCall(tc ToolCall) {
	idx := len(ch.toolCalls)
	if tc.Index != nil {
		idx = *tc.Index
	} else if tc.ID == "" && len(ch.toolCalls) > 0 {
		idx = ch.toolCalls[len(ch.toolCalls)-1].index // a continuation without an index
	}
	var call *accToolCall
	for _, c := range ch.toolCalls {
		if c.index == idx {
			call = c
			break
		}
	}
	if call == nil {
		call = &accToolCall{index: idx}
		ch.toolCalls = append(ch.toolCalls, call)
	}
	if tc.ID != "" {
		call.id = tc.ID
	}
	if tc.Type != "" {
		call.typ = tc.Type
	}
	if tc.Function.Name != "" {
		call.name = tc.Function.Name
	}
	call.arguments.WriteString(tc.Function.Arguments)
}

// Content is the text of choice 0 so far.
func (a *Accumulator) Content() string {
	if len(a.choices) == 0 {
		return ""
	}
	return a.choices[0].content.String()
}

// Finished reports whether every choice has seen its finish_reason.
func (a *Accumulator) Finished() bool {
	if len(a.choices) == 0 {
		return false
	}
	for _, c := range a.choices {
		if !c.sawFinishLine {
			return false
		}
	}
	return true
}

// Usage is the request's usage: the top-level usage chunk when the server sent one (Vercel's
// precedence), else the choices' own usage combined (prompt counted once).
func (a *Accumulator) Usage() *Usage {
	per := make([]*Usage, len(a.choices))
	for i, c := range a.choices {
		per[i] = c.usage
	}
	return CombineUsage(a.usage, per)
}

// Result is the answer as a ChatCompletion, the shape of a non-streamed response.
func (a *Accumulator) Result() *ChatCompletion {
	out := &ChatCompletion{ID: a.id, Object: "chat.completion", Created: a.created, Model: a.model,
		SystemFingerprint: a.fingerprint, Usage: a.Usage()}
	for i, c := range a.choices {
		role := c.role
		if role == "" {
			role = "assistant"
		}
		msg := ResponseMessage{Role: role, Content: c.content.String(), ReasoningContent: c.reasoning.String()}
		for _, tc := range c.toolCalls {
			idx := tc.index
			typ := tc.typ
			if typ == "" {
				typ = "function"
			}
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{Index: &idx, ID: tc.id, Type: typ,
				Function: FunctionCall{Name: tc.name, Arguments: tc.arguments.String()}})
		}
		var usage *Usage
		if c.usage != nil {
			u := *c.usage
			usage = &u
		}
		out.Choices = append(out.Choices, Choice{Index: i, Message: msg, FinishReason: c.finishReason, Usage: usage})
	}
	return out
}
