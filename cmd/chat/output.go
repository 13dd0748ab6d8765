package chat

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/moonchat/moonchat/pkg/render"
)

// result is everything known about an answer when it ends, well or not.
type result struct {
	Completion     *moonshot.ChatCompletion // what arrived, possibly partial; nil if nothing did
	Adjustments    []moonshot.Adjustment
	Err            error
	Elapsed        time.Duration
	Model          string
	N              int
	ConversationID string
	SearchTokens   int                 // prompt tokens that $web_search results added (part of the usage)
	ToolSteps      []converse.ToolStep // the calls the tool loop ran (--tool)
}

// output receives an answer as it streams. Start is called once the API accepted the request;
// Flush when the network has nothing more buffered; Finish once at the end, with the error if
// any. Finish returns only its own write errors.
type output interface {
	Start(model, requestID string)
	Reasoning(choice int, text string)
	Content(choice int, text string)
	Flush()
	Finish(res *result) error
}

func resolveFormat(opts *Options) (string, error) {
	switch opts.Format {
	case "", "auto":
		if opts.IO.RenderEnabled() {
			return "markdown", nil
		}
		return "text", nil
	case "markdown", "text", "json", "jsonl":
		return opts.Format, nil
	}
	return "", cli.Usagef("--format must be auto, markdown, text, json or jsonl, not %q", opts.Format)
}

// newOutput returns the output for format. Only a markdown style that cannot be loaded
// fails.
func newOutput(format string, opts *Options) (output, error) {
	switch format {
	case "json":
		return &jsonOutput{w: opts.IO.Out}, nil
	case "jsonl":
		return &jsonlOutput{w: bufio.NewWriter(opts.IO.Out)}, nil
	case "markdown":
		// A dry run shows the request, never an answer: no renderer to start and stop.
		if !opts.DryRun {
			return newMarkdownOutput(opts)
		}
	}
	return newTextOutput(opts), nil
}

// textOutput writes the content byte for byte (render.Plain). With several answers it keeps
// them apart and prints each after a "--- answer N ---" line when the stream ends.
//
// On a terminal (TERM=dumb, --format text) the text goes through render.Sanitize on its way
// out, so that the model cannot drive the terminal; into a pipe it stays byte-exact.
type textOutput struct {
	w        *render.Plain
	tty      bool
	clean    render.StreamSanitizer
	multi    bool
	answers  severalAnswers
	lastByte byte
	wrote    bool
}

func newTextOutput(opts *Options) *textOutput {
	return &textOutput{w: render.NewPlain(opts.IO.Out), tty: opts.IO.IsStdoutTTY(), multi: opts.N != nil && *opts.N > 1}
}

// write writes the content s, sanitized on a terminal (see textOutput).
func (t *textOutput) write(s string) {
	if t.tty {
		s = t.clean.Next(s)
	}
	if s == "" {
		return
	}
	t.w.WriteString(s)
	t.lastByte = s[len(s)-1]
	t.wrote = true
}

// endText writes what the sanitizer still holds back.
func (t *textOutput) endText() {
	if t.tty {
		if s := t.clean.End(); s != "" {
			t.w.WriteString(s)
			t.lastByte = s[len(s)-1]
			t.wrote = true
		}
	}
}

func (t *textOutput) Start(string, string)  {}
func (t *textOutput) Reasoning(int, string) {}

func (t *textOutput) Content(choice int, text string) {
	if t.multi {
		t.answers.add(choice, text)
		return
	}
	if choice != 0 || text == "" {
		return
	}
	t.write(text)
}

func (t *textOutput) Flush() { _ = t.w.Flush() }

func (t *textOutput) Finish(res *result) error {
	if t.multi {
		for i := range t.answers {
			t.w.WriteString(answerHeader(i))
			s := t.answers[i].String()
			if t.tty {
				s = render.Sanitize(s)
			}
			t.w.WriteString(s)
			if s != "" && !strings.HasSuffix(s, "\n") {
				t.w.WriteString("\n")
			}
		}
		return t.w.Close()
	}
	t.endText()
	if t.wrote && t.lastByte != '\n' {
		t.w.WriteString("\n")
	}
	return t.w.Close()
}

// JSON shapes (documented in moonchat-chat(1) and README).

type jsonUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	CachedTokens     int `json:"cached_tokens"`
	ReasoningTokens  int `json:"reasoning_tokens,omitempty"`
	SearchTokens     int `json:"search_tokens,omitempty"`
}

type jsonCost struct {
	Amount    float64 `json:"amount"`
	Currency  string  `json:"currency"`
	Estimated bool    `json:"estimated"`
}

type jsonError struct {
	Type      string `json:"type"`
	Kind      string `json:"kind"`
	Message   string `json:"message"`
	Status    int    `json:"status,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	ExitCode  int    `json:"exit_code"`
	// RetryAfter is the server's requested wait in seconds (cli.CeilSeconds); 0 = none said.
	RetryAfter int64 `json:"retry_after,omitempty"`
}

type jsonChoice struct {
	Index            int                 `json:"index"`
	Content          string              `json:"content"`
	ReasoningContent string              `json:"reasoning_content"`
	FinishReason     string              `json:"finish_reason"`
	ToolCalls        []moonshot.ToolCall `json:"tool_calls"`
}

type jsonResult struct {
	ID               string                `json:"id"`
	Model            string                `json:"model"`
	ConversationID   string                `json:"conversation_id"`
	Content          string                `json:"content"`
	ReasoningContent string                `json:"reasoning_content"`
	FinishReason     string                `json:"finish_reason"`
	ToolCalls        []moonshot.ToolCall   `json:"tool_calls"`
	Usage            *jsonUsage            `json:"usage"`
	Adjustments      []moonshot.Adjustment `json:"adjustments"`
	Cost             *jsonCost             `json:"cost"`
	ElapsedMS        int64                 `json:"elapsed_ms"`
	ToolResults      []jsonToolResult      `json:"tool_results,omitempty"`
	Choices          []jsonChoice          `json:"choices,omitempty"`
	Error            *jsonError            `json:"error,omitempty"`
}

// jsonToolResult is one call the tool loop ran, with what it returned.
type jsonToolResult struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Content   string `json:"content"`
	Failed    bool   `json:"failed"`
	Bytes     int    `json:"bytes"`
	ElapsedMS int64  `json:"elapsed_ms"`
}

func toolResultJSON(s converse.ToolStep) jsonToolResult {
	return jsonToolResult{ID: s.Call.ID, Name: s.Call.Function.Name, Arguments: s.Call.Function.Arguments,
		Content: s.Result.Content, Failed: s.Result.Failed, Bytes: s.Bytes, ElapsedMS: s.Elapsed.Milliseconds()}
}

func usageJSON(u *moonshot.Usage) *jsonUsage {
	if u == nil {
		return nil
	}
	return &jsonUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		TotalTokens: u.TotalTokens, CachedTokens: u.Cached(), ReasoningTokens: u.ReasoningTokens()}
}

func costJSON(model string, u *moonshot.Usage) *jsonCost {
	spec, _ := moonshot.LookupModel(model)
	if u == nil || !spec.Price.Known() {
		return nil
	}
	return &jsonCost{Amount: spec.Price.Cost(u), Currency: spec.Price.Currency, Estimated: true}
}

func errorJSON(err error) *jsonError {
	if err == nil {
		return nil
	}
	je := &jsonError{Type: cli.ErrorKind(err), Kind: cli.ErrorKind(err), Message: err.Error(), ExitCode: cli.ExitCode(err)}
	if apiErr, ok := asAPIError(err); ok {
		je.Type = apiErr.Type
		je.Message = apiErr.Message
		je.Status = apiErr.StatusCode
		je.RequestID = apiErr.RequestID
	}
	if wait, ok := cli.ServerWait(err); ok {
		je.RetryAfter = cli.CeilSeconds(wait)
	}
	return je
}

func buildJSONResult(res *result) jsonResult {
	out := jsonResult{Model: res.Model, ConversationID: res.ConversationID, Adjustments: res.Adjustments,
		ElapsedMS: res.Elapsed.Milliseconds(), Error: errorJSON(res.Err), ToolCalls: []moonshot.ToolCall{}}
	if out.Adjustments == nil {
		out.Adjustments = []moonshot.Adjustment{}
	}
	for _, s := range res.ToolSteps {
		out.ToolResults = append(out.ToolResults, toolResultJSON(s))
	}
	if c := res.Completion; c != nil {
		out.ID = c.ID
		if c.Model != "" {
			out.Model = c.Model
		}
		out.Usage = usageJSON(c.Usage)
		if out.Usage != nil {
			out.Usage.SearchTokens = res.SearchTokens
		}
		out.Cost = costJSON(res.Model, c.Usage)
		for _, ch := range c.Choices {
			jc := jsonChoice{Index: ch.Index, Content: ch.Message.Content, ReasoningContent: ch.Message.ReasoningContent,
				FinishReason: ch.FinishReason, ToolCalls: ch.Message.ToolCalls}
			if jc.ToolCalls == nil {
				jc.ToolCalls = []moonshot.ToolCall{}
			}
			out.Choices = append(out.Choices, jc)
		}
		if len(out.Choices) > 0 {
			first := out.Choices[0]
			out.Content, out.ReasoningContent, out.FinishReason, out.ToolCalls = first.Content, first.ReasoningContent, first.FinishReason, first.ToolCalls
		}
		if res.N <= 1 && len(out.Choices) <= 1 {
			out.Choices = nil
		}
	}
	return out
}

// jsonOutput prints one object when the answer is complete (or has failed).
type jsonOutput struct{ w io.Writer }

func (j *jsonOutput) Start(string, string)  {}
func (j *jsonOutput) Reasoning(int, string) {}
func (j *jsonOutput) Content(int, string)   {}
func (j *jsonOutput) Flush()                {}
func (j *jsonOutput) Finish(res *result) error {
	enc := json.NewEncoder(j.w)
	enc.SetEscapeHTML(false)
	return enc.Encode(buildJSONResult(res))
}

// jsonlOutput prints one event per line as the stream arrives.
type jsonlOutput struct {
	w       *bufio.Writer
	started bool
}

func (j *jsonlOutput) emit(v any) {
	b, _ := json.Marshal(v)
	j.w.Write(b)
	j.w.WriteByte('\n')
}

func (j *jsonlOutput) Start(model, requestID string) {
	j.started = true
	j.emit(map[string]any{"type": "start", "model": model, "request_id": requestID})
}

func (j *jsonlOutput) Reasoning(choice int, text string) {
	if text != "" {
		j.emit(map[string]any{"type": "reasoning", "choice": choice, "text": text})
	}
}

func (j *jsonlOutput) Content(choice int, text string) {
	if text != "" {
		j.emit(map[string]any{"type": "delta", "choice": choice, "text": text})
	}
}

func (j *jsonlOutput) Flush() { j.w.Flush() }

// ToolCall and ToolResult are the calls of the tool loop as they run.
func (j *jsonlOutput) ToolCall(call moonshot.ToolCall) {
	j.emit(map[string]any{"type": "tool_call", "choice": 0, "id": call.ID, "name": call.Function.Name, "arguments": call.Function.Arguments})
	j.w.Flush()
}

func (j *jsonlOutput) ToolResult(s converse.ToolStep) {
	r := toolResultJSON(s)
	j.emit(map[string]any{"type": "tool_result", "id": r.ID, "name": r.Name, "content": r.Content, "failed": r.Failed,
		"bytes": r.Bytes, "elapsed_ms": r.ElapsedMS})
	j.w.Flush()
}

func (j *jsonlOutput) Finish(res *result) error {
	full := buildJSONResult(res)
	if c := res.Completion; c != nil {
		for _, ch := range c.Choices {
			for _, tc := range ch.Message.ToolCalls {
				j.emit(map[string]any{"type": "tool_call", "choice": ch.Index, "id": tc.ID, "name": tc.Function.Name, "arguments": tc.Function.Arguments})
			}
		}
		if full.Usage != nil {
			j.emit(map[string]any{"type": "usage", "usage": full.Usage, "cost": full.Cost})
		}
	}
	if res.Err != nil {
		j.emit(map[string]any{"type": "error", "error": full.Error, "exit_code": full.Error.ExitCode})
	} else {
		j.emit(map[string]any{"type": "done", "id": full.ID, "model": full.Model, "conversation_id": full.ConversationID,
			"finish_reason": full.FinishReason, "adjustments": full.Adjustments, "elapsed_ms": full.ElapsedMS})
	}
	return j.w.Flush()
}

func asAPIError(err error) (*moonshot.APIError, bool) {
	var e *moonshot.APIError
	ok := errors.As(err, &e)
	return e, ok
}
