package converse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Result is everything known about an answer when it ends, well or not.
type Result struct {
	// Request is the first request as sent.
	Request *moonshot.ChatRequest
	// Completion is the answer, possibly partial; nil if nothing arrived. With round trips it
	// is stitched from every request: the prefill and every part's content in order, the
	// reasoning likewise (apart), the usage summed (each part was billed), the id, tool calls
	// and finish reason of the last part.
	Completion *moonshot.ChatCompletion
	// Adjustments are every change the fixes made, the first request's and the later ones'.
	Adjustments []moonshot.Adjustment
	// SearchTokens are the prompt tokens that $web_search results added (part of the usage).
	SearchTokens int
	// ToolSteps are the calls the engine ran (Turn.Tools), in order.
	ToolSteps []ToolStep
	// ToolTurns are the messages the tool round trips added to the conversation before the
	// answer: each assistant turn with its calls (and reasoning), then its tool messages. A
	// history that keeps them lets the conversation be continued with a complete transcript.
	ToolTurns []moonshot.Message
	// Err is what the answer ended with: the first error of a request, a stream cut short,
	// a context ended (what arrived before it is in Completion).
	Err error
}

// answering is the state of one answer while its requests go out.
type answering struct {
	e   *Engine
	obs Observer
	res *Result
	adj []moonshot.Adjustment // the first request's, which an error of any request explains

	started   bool   // the observer was told Start
	reasoned  bool   // some reasoning was shown
	newRound  bool   // a follow-up request was sent; its reasoning is kept apart from the last
	prefix    string // the answer so far, sent back as the partial assistant message
	parts     []*moonshot.ChatCompletion
	searches  int
	steps     int
	continues int
}

// Answer sends the prepared request and gets the answer, going on by itself where Moonshot's
// protocol asks the client to: a $web_search call is answered by echoing its arguments, and
// an answer cut at its token limit is continued in Partial Mode (Turn.MaxContinues). The
// parts make one answer in the Result.
func (e *Engine) Answer(ctx context.Context, p *Prepared, obs Observer) *Result {
	a := &answering{e: e, obs: obs, prefix: p.turn.Prefill, adj: p.Adjustments,
		res: &Result{Request: p.Request, Adjustments: slices.Clone(p.Adjustments)}}
	req := p.Request
	for {
		c, err := a.ask(ctx, req)
		a.res.Err = err
		if c != nil {
			a.parts = append(a.parts, c)
		}
		if err != nil || c == nil || len(c.Choices) != 1 {
			break
		}
		msgs, more, err := a.roundTrip(ctx, c.Choices[0], req, p.turn)
		if err != nil {
			a.res.Err = err
			break
		}
		if !more {
			break
		}
		next := req.Clone()
		next.Messages = msgs
		// The request was fixed already; fixing it again reports only what the new messages
		// need (the reasoning of a tool-call turn that a thinking model did not give).
		refixed, adj, err := e.Client.Prepare(next, moonshot.FixOptions{})
		if err != nil {
			a.res.Err = err
			break
		}
		for _, x := range adj {
			obs.Adjusted(x)
		}
		a.res.Adjustments = append(a.res.Adjustments, adj...)
		req = refixed
		a.newRound = true
	}
	a.res.Completion = stitch(a.parts, p.turn.Prefill)
	return a.res
}

// roundTrip decides whether the answer goes on after the request that got ch, and with what
// messages: the calls Moonshot's protocol leaves to the client are answered, an answer cut at
// its limit is continued. This is where the answers of tool calls the engine runs go.
func (a *answering) roundTrip(ctx context.Context, ch moonshot.Choice, req *moonshot.ChatRequest, t *Turn) ([]moonshot.Message, bool, error) {
	msgs := slices.Clone(req.Messages)
	if n := len(msgs); n > 0 && msgs[n-1].Partial {
		msgs = msgs[:n-1]
	}
	switch {
	case ch.FinishReason == "tool_calls" && runsAll(t.Tools, ch.Message.ToolCalls):
		limit := t.MaxSteps
		if limit <= 0 {
			limit = DefaultMaxSteps
		}
		if a.steps == limit {
			return nil, false, &ErrMaxSteps{Steps: limit}
		}
		a.steps++
		a.obs.RoundTrip(RoundTrip{Kind: ToolCalls, Calls: ch.Message.ToolCalls, N: a.steps, Max: limit})
		answered, err := a.runTools(ctx, t, a.prefix+ch.Message.Content, ch.Message)
		if err != nil {
			return nil, false, err
		}
		msgs = append(msgs, answered...)
		a.prefix = t.Prefill
	case ch.FinishReason == "tool_calls" && onlyWebSearch(ch.Message.ToolCalls):
		if a.searches == MaxSearches {
			return nil, false, fmt.Errorf("the model asked for more than %d web searches for one answer; stopped", MaxSearches)
		}
		a.searches++
		tokens := searchTokens(ch.Message.ToolCalls)
		a.res.SearchTokens += tokens
		a.obs.RoundTrip(RoundTrip{Kind: WebSearch, Calls: ch.Message.ToolCalls, Tokens: tokens})
		msgs = append(msgs, searchTurn(a.prefix+ch.Message.Content, ch.Message)...)
		a.prefix = t.Prefill
	case ch.FinishReason == "length" && a.continues < t.MaxContinues && a.prefix+ch.Message.Content != "":
		a.continues++
		a.prefix += ch.Message.Content
		a.obs.RoundTrip(RoundTrip{Kind: Continue, N: a.continues, Max: t.MaxContinues})
	default:
		return nil, false, nil
	}
	if a.prefix != "" {
		msgs = append(msgs, partialMessage(a.prefix))
	}
	return msgs, true, nil
}

// ask sends one request and passes its answer on to the observer.
func (a *answering) ask(ctx context.Context, req *moonshot.ChatRequest) (*moonshot.ChatCompletion, error) {
	c, err := a.send(ctx, req)
	if c != nil && c.UsageIgnored {
		a.obs.Notice("warning: " + moonshot.UsageWarning)
	}
	return c, err
}

func (a *answering) send(ctx context.Context, req *moonshot.ChatRequest) (*moonshot.ChatCompletion, error) {
	client := a.e.Client
	if a.e.NoStream {
		c, err := client.CompletePrepared(ctx, req, a.adj)
		if err != nil {
			return c, err
		}
		a.start(req.Model, c.RequestID)
		for _, ch := range c.Choices {
			a.reasoning(ch.Index, ch.Message.ReasoningContent)
			a.obs.Content(ch.Index, ch.Message.Content)
		}
		a.obs.Usage(c.Usage)
		return c, nil
	}
	stream, err := client.StreamPrepared(ctx, req, a.adj)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	a.start(req.Model, stream.RequestID())
	acc := moonshot.Accumulator{N: 1}
	if req.N != nil {
		acc.N = *req.N
	}
	var accErr error
	for stream.Next() {
		chunk := stream.Current()
		if accErr = acc.Add(chunk); accErr != nil {
			break // a protocol error: what came before it is kept
		}
		for i := range chunk.Choices {
			ch := &chunk.Choices[i]
			if ch.Delta.ReasoningContent != "" {
				a.reasoning(ch.Index, ch.Delta.ReasoningContent)
			}
			if ch.Delta.Content != "" {
				a.obs.Content(ch.Index, ch.Delta.Content)
			}
		}
		if stream.Buffered() == 0 {
			a.obs.Flush()
		}
	}
	c := acc.Result()
	c.RequestID = stream.RequestID()
	c.UsageIgnored = stream.UsageIgnored()
	a.obs.Usage(c.Usage)
	if accErr != nil {
		return c, accErr
	}
	return c, stream.Err()
}

// start tells the observer once per answer, and shows the prefill as the answer's start.
func (a *answering) start(model, requestID string) {
	if a.started {
		return
	}
	a.started = true
	a.obs.Start(model, requestID)
	if a.prefix != "" {
		a.obs.Content(0, a.prefix)
	}
}

func (a *answering) reasoning(choice int, text string) {
	if text == "" {
		return
	}
	if a.newRound && a.reasoned {
		a.obs.Reasoning(choice, ReasoningBreak)
	}
	a.newRound, a.reasoned = false, true
	a.obs.Reasoning(choice, text)
}

// stitch makes one answer of the parts of a conversation (see Result.Completion).
func stitch(parts []*moonshot.ChatCompletion, prefill string) *moonshot.ChatCompletion {
	if len(parts) == 0 {
		return nil
	}
	last := parts[len(parts)-1]
	if len(parts) == 1 && prefill == "" {
		return last
	}
	out := *last
	out.Choices = slices.Clone(last.Choices)
	if len(out.Choices) == 0 {
		out.Choices = []moonshot.Choice{{Message: moonshot.ResponseMessage{Role: "assistant"}}}
	}
	var content, reasoning strings.Builder
	content.WriteString(prefill)
	for _, p := range parts {
		if len(p.Choices) > 0 {
			content.WriteString(p.Choices[0].Message.Content)
			if r := p.Choices[0].Message.ReasoningContent; r != "" {
				if reasoning.Len() > 0 {
					reasoning.WriteString(ReasoningBreak)
				}
				reasoning.WriteString(r)
			}
		}
	}
	ch := &out.Choices[0]
	ch.Message.Content = content.String()
	ch.Message.ReasoningContent = reasoning.String()
	out.Usage = sumUsage(parts)
	ch.Usage = out.Usage
	return &out
}

// sumUsage adds up the parts' usage; unknown (nil) when any part's is, rather than too low.
func sumUsage(parts []*moonshot.ChatCompletion) *moonshot.Usage {
	total := &moonshot.Usage{}
	cached, reasoning := 0, 0
	for _, p := range parts {
		u := p.Usage
		if u == nil {
			return nil
		}
		total.PromptTokens += u.PromptTokens
		total.CompletionTokens += u.CompletionTokens
		total.TotalTokens += u.TotalTokens
		cached += u.Cached()
		reasoning += u.ReasoningTokens()
	}
	total.CachedTokens = cached
	if reasoning > 0 {
		total.CompletionTokensDetails = &moonshot.CompletionTokensDetails{ReasoningTokens: reasoning}
	}
	return total
}
