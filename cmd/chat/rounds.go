package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// prepare completes the request with the features, checks locally what the model cannot take
// (before any request), and applies Moonshot's fixes. Partial Mode's message is added after the
// fixes: rule 3 of the fixes appends a user message, and the partial message must stay last.
func (opts *Options) prepare(ctx context.Context, client *moonshot.Client, req *moonshot.ChatRequest) (*moonshot.ChatRequest, []moonshot.Adjustment, error) {
	f := &opts.Features
	auto := req.Model == "auto"
	if !auto {
		if err := f.checkModel(req.Model); err != nil {
			return nil, nil, err
		}
	} else if err := f.checkAutoModels(); err != nil {
		return nil, nil, err
	}
	files, images, err := opts.loadAttachments()
	if err != nil {
		return nil, nil, err
	}
	if err := opts.attach(ctx, client, req, files, images); err != nil {
		return nil, nil, err
	}
	f.applyRequestFlags(req)
	if auto {
		model, err := opts.pickModel(ctx, client, req)
		if err != nil {
			return nil, nil, err
		}
		req.Model, opts.Model = model, model
	}
	if opts.MaxTokens == nil && !f.NoThinking {
		// A thinking model shares one budget between reasoning and answer: where its server
		// default is unknown or small, send one that lets it finish.
		spec, _ := client.Catalog().Lookup(req.Model)
		if n := spec.DefaultBudget(moonshot.EstimatePromptTokens(req.Messages)); n > 0 {
			if spec.OutputField() == "max_tokens" {
				req.MaxTokens = &n
			} else {
				req.MaxCompletionTokens = &n
			}
		}
	}
	fixed, adj, err := client.Prepare(req, moonshot.FixOptions{})
	if err != nil {
		return nil, nil, err
	}
	if f.Prefill != "" {
		fixed.Messages = append(fixed.Messages, partialMessage(f.Prefill))
	}
	return fixed, adj, nil
}

func partialMessage(text string) moonshot.Message {
	return moonshot.Message{Role: "assistant", Content: moonshot.Text(text), Partial: true}
}

// pickModel is -m auto: the first model of auto_models (cheapest first) that takes the
// request's features and whose context holds the prompt, counted by Moonshot's tokenizer for
// that model, plus the answer (--max-tokens, else autoAnswerTokens).
func (opts *Options) pickModel(ctx context.Context, client *moonshot.Client, req *moonshot.ChatRequest) (string, error) {
	f := &opts.Features
	answer := autoAnswerTokens
	if opts.MaxTokens != nil {
		answer = *opts.MaxTokens
	}
	messages := req.Messages
	if f.Prefill != "" {
		messages = append(slices.Clip(messages), partialMessage(f.Prefill))
	}
	var (
		fetched bool
		skipped []string
		prompt  int
	)
	for _, id := range f.AutoModels {
		if err := f.checkModel(id); err != nil {
			skipped = append(skipped, id+" (it does not take the flags given)")
			continue
		}
		spec, _ := client.Catalog().Lookup(id)
		window := spec.Context
		if window == 0 {
			// A model the built-in table does not know: the server says how large it is.
			if !fetched {
				fetched = true
				if _, _ = client.Models(ctx); ctx.Err() != nil {
					return "", ctx.Err()
				}
			}
			spec, _ = client.Catalog().Lookup(id)
			if window = spec.Context; window == 0 {
				skipped = append(skipped, id+" (context length unknown)")
				continue
			}
		}
		n, err := client.EstimateTokens(ctx, id, messages)
		if err != nil {
			var apiErr *moonshot.APIError
			if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
				skipped = append(skipped, id+" (not available to your key)")
				continue
			}
			return "", fmt.Errorf("-m auto: counting the prompt for %s: %w", id, err)
		}
		prompt = n
		if n+answer <= window {
			opts.notice("-m auto picked %s (%s prompt + %s answer tokens fit %s)", id,
				cli.FormatInt(n), cli.FormatInt(answer), cli.FormatInt(window))
			return id, nil
		}
		skipped = append(skipped, fmt.Sprintf("%s (%s tokens)", id, cli.FormatInt(window)))
	}
	msg := fmt.Sprintf("-m auto: no model of auto_models fits: %s", strings.Join(skipped, ", "))
	if prompt > 0 {
		msg = fmt.Sprintf("-m auto: %s prompt + %s answer tokens fit no model of auto_models: %s",
			cli.FormatInt(prompt), cli.FormatInt(answer), strings.Join(skipped, ", "))
	}
	return "", &cli.UsageError{Err: errors.New(msg),
		Hint: "shorten the input, lower --max-tokens, or add a larger model: moonchat config set auto_models " + strings.Join(f.AutoModels, ",") + ",..."}
}

// checkAutoModels fails before any request when no model of auto_models takes the flags
// given, with the reason the first one gives.
func (f *Features) checkAutoModels() error {
	var first error
	for _, id := range f.AutoModels {
		err := f.checkModel(id)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return cli.Usagef("-m auto: auto_models is empty")
	}
	return &cli.UsageError{Err: fmt.Errorf("-m auto: no model of auto_models (%s) takes these flags: %w", strings.Join(f.AutoModels, ", "), first),
		Hint: "name a model with -m, or add one to auto_models: moonchat config set auto_models " + strings.Join(f.AutoModels, ",") + ",..."}
}

// askOnce sends one request and feeds its answer to out and res.
func askOnce(ctx context.Context, opts *Options, client *moonshot.Client, fixed *moonshot.ChatRequest, adj []moonshot.Adjustment, out output, res *result) {
	if opts.NoStream {
		res.Completion, res.Err = client.CompletePrepared(ctx, fixed, adj)
		if res.Err == nil {
			out.Start(fixed.Model, res.Completion.RequestID)
			for _, c := range res.Completion.Choices {
				out.Reasoning(c.Index, c.Message.ReasoningContent)
				out.Content(c.Index, c.Message.Content)
			}
		}
	} else {
		streamAnswer(ctx, client, fixed, adj, out, res)
	}
}

// converse gets the answer, going on by itself where Moonshot's protocol asks the client to:
// a $web_search call is answered by echoing its arguments, and an answer cut by max_tokens is
// continued in Partial Mode (--max-continues). The parts make one answer in res: content
// stitched, usage summed, the finish reason of the last part.
func (opts *Options) converse(ctx context.Context, client *moonshot.Client, fixed *moonshot.ChatRequest, adj []moonshot.Adjustment, out output, res *result) {
	f := &opts.Features
	req := fixed
	prefix := f.Prefill // the answer so far, sent back as the partial assistant message
	var parts []*moonshot.ChatCompletion
	searches, continues := 0, 0
rounds:
	for {
		round := &result{Model: res.Model, N: res.N}
		askOnce(ctx, opts, client, req, adj, out, round)
		res.Err = round.Err
		if round.Completion != nil {
			parts = append(parts, round.Completion)
		}
		if round.Err != nil || round.Completion == nil || len(round.Completion.Choices) != 1 {
			break
		}
		ch := round.Completion.Choices[0]
		msgs := slices.Clone(req.Messages)
		if n := len(msgs); n > 0 && msgs[n-1].Partial {
			msgs = msgs[:n-1]
		}
		switch {
		case ch.FinishReason == "tool_calls" && onlyWebSearch(ch.Message.ToolCalls):
			if searches == maxSearches {
				res.Err = fmt.Errorf("the model asked for more than %d web searches for one answer; stopped", maxSearches)
				break rounds
			}
			searches++
			tokens := searchTokens(ch.Message.ToolCalls)
			res.SearchTokens += tokens
			opts.searching(tokens)
			msgs = append(msgs, searchTurn(prefix+ch.Message.Content, ch.Message)...)
			prefix = f.Prefill
		case ch.FinishReason == "length" && continues < f.MaxContinues && prefix+ch.Message.Content != "":
			continues++
			prefix += ch.Message.Content
			opts.notice("the answer reached its token limit; continuing it (%d of %d)", continues, f.MaxContinues)
		default:
			break rounds
		}
		if prefix != "" {
			msgs = append(msgs, partialMessage(prefix))
		}
		next := req.Clone()
		next.Messages = msgs
		// The request was fixed already; fixing it again reports only what the new messages
		// need (the reasoning of a tool-call turn that a thinking model did not give).
		refixed, more, err := client.Prepare(next, moonshot.FixOptions{})
		if err != nil {
			res.Err = err
			break
		}
		for _, a := range more {
			opts.notice("%s", a)
		}
		res.Adjustments = append(res.Adjustments, more...)
		req = refixed
		f.newRound = true
	}
	res.Completion = stitch(parts, f.Prefill)
}

func onlyWebSearch(calls []moonshot.ToolCall) bool {
	if len(calls) == 0 {
		return false
	}
	for _, c := range calls {
		if c.Function.Name != moonshot.WebSearchName {
			return false
		}
	}
	return true
}

// searchTokens is what the searches will add to the next prompt, as their arguments announce.
func searchTokens(calls []moonshot.ToolCall) int {
	n := 0
	for _, c := range calls {
		var args struct {
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal([]byte(c.Function.Arguments), &args) == nil {
			n += args.Usage.TotalTokens
		}
	}
	return n
}

// searchTurn is what Moonshot's $web_search protocol sends back: the assistant message with
// its calls (and its reasoning, which thinking models require on tool-call turns), then for
// each call a tool message whose content is the call's arguments, unchanged.
func searchTurn(content string, msg moonshot.ResponseMessage) []moonshot.Message {
	calls := make([]moonshot.ToolCall, len(msg.ToolCalls))
	for i, c := range msg.ToolCalls {
		c.Index = nil // a stream position, not part of the conversation
		if c.Type == "" {
			c.Type = "function"
		}
		calls[i] = c
	}
	assistant := moonshot.Message{Role: "assistant", Content: moonshot.Text(content), ToolCalls: calls}
	if msg.ReasoningContent != "" {
		r := msg.ReasoningContent
		assistant.ReasoningContent = &r
	}
	out := []moonshot.Message{assistant}
	for _, c := range calls {
		out = append(out, moonshot.Message{Role: "tool", ToolCallID: c.ID, Name: moonshot.WebSearchName,
			Content: moonshot.Text(c.Function.Arguments)})
	}
	return out
}

// searching tells the user why the answer pauses: a live status on a terminal, which the
// next output replaces, or a notice.
func (opts *Options) searching(tokens int) {
	if opts.IO.IsStderrTTY() {
		opts.IO.SetStatus("searching…")
		opts.Features.statusShown = true
		return
	}
	opts.notice("searching the web… (the results add %s prompt tokens)", cli.FormatInt(tokens))
}

// reasoningBreak separates the reasoning of successive requests of one answer (before and
// after a web search), in the output and in the stitched answer alike.
const reasoningBreak = "\n\n"

// stitch makes one answer of the parts of a conversation: the prefill and every part's
// content in order, the reasoning likewise (apart), the usage summed (each part was billed), the id,
// tool calls and finish reason of the last part.
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
					reasoning.WriteString(reasoningBreak)
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

// featureOutput wraps an output for the features: it shows the prefill when the answer starts,
// lets only the first of several requests start the output, takes a live status away before
// anything is written, and ends a text answer with the model's tool calls.
type featureOutput struct {
	output
	opts     *Options
	format   string
	started  bool
	reasoned bool // some reasoning was shown
}

func (opts *Options) featureOutput(o output, format string) output {
	return &featureOutput{output: o, opts: opts, format: format}
}

func (o *featureOutput) clearStatus() {
	if o.opts.Features.statusShown {
		o.opts.IO.ClearStatus()
		o.opts.Features.statusShown = false
	}
}

func (o *featureOutput) Start(model, requestID string) {
	o.clearStatus()
	if o.started {
		return
	}
	o.started = true
	o.output.Start(model, requestID)
	if p := o.opts.Features.Prefill; p != "" {
		o.output.Content(0, p)
	}
}

func (o *featureOutput) Reasoning(choice int, text string) {
	if text != "" {
		o.clearStatus()
		if o.opts.Features.newRound && o.reasoned {
			o.output.Reasoning(choice, reasoningBreak)
		}
		o.opts.Features.newRound, o.reasoned = false, true
	}
	o.output.Reasoning(choice, text)
}

func (o *featureOutput) Content(choice int, text string) {
	if text != "" {
		o.clearStatus()
	}
	o.output.Content(choice, text)
}

func (o *featureOutput) Finish(res *result) error {
	o.clearStatus()
	if err := o.output.Finish(res); err != nil {
		return err
	}
	if o.format == "json" || o.format == "jsonl" || res.Err != nil {
		return nil
	}
	return printToolCalls(o.opts.IO.Out, o.opts.IO.Printable, res.Completion)
}

// printToolCalls shows the calls the model made, one line each: moonchat does not run tools,
// so the calls are the answer.
// The model chose name and arguments: printable makes them safe for a terminal.
func printToolCalls(w io.Writer, printable func(string) string, c *moonshot.ChatCompletion) error {
	if c == nil {
		return nil
	}
	var b strings.Builder
	for _, ch := range c.Choices {
		for _, tc := range ch.Message.ToolCalls {
			b.WriteString("tool call ")
			if len(c.Choices) > 1 {
				fmt.Fprintf(&b, "(answer %d) ", ch.Index+1)
			}
			fmt.Fprintf(&b, "%s(%s)\n", printable(tc.Function.Name), printable(tc.Function.Arguments))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
