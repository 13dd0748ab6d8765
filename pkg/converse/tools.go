package converse

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Tools run the calls of functions the caller declared in the request (Moonshot's official
// tools, MCP servers). With Turn.Tools set, an answer that calls only functions they run
// (and $web_search) is not the end of the turn: each call runs, its result goes back to the
// model as a tool message, and the model is asked again, at most Turn.MaxSteps times.
type Tools interface {
	// Runs reports whether these tools run the function name. A call of any other declared
	// function ends the turn: the calls are the answer, for the caller to show.
	Runs(name string) bool
	// Run runs one call. A failure of the tool itself (bad arguments, a refusal, a timeout
	// of the tool) is a result with Failed set, which the model reads; an error stops the
	// answer (the context ended, the key was refused).
	Run(ctx context.Context, call moonshot.ToolCall) (ToolResult, error)
}

// ToolResult is what one call produced: the text the model reads.
type ToolResult struct {
	Content string
	Failed  bool
	// Bytes is the size of the result before a cut the tools made themselves with
	// CapToolResult (pkg/mcphost does), for ToolStep.Bytes; 0 means len(Content).
	Bytes int
}

// DefaultMaxSteps bounds the tool round trips of one answer when Turn.MaxSteps is 0.
const DefaultMaxSteps = 10

// MaxToolResultBytes caps the text of one result sent back to the model: a tool that returns
// a whole web page or database must not fill the context (and the bill). The rest is cut by
// CapToolResult.
const MaxToolResultBytes = 64 << 10

// toolResultCut ends a cut result, so that the model knows it read only part, and how much.
const toolResultCut = "\n[truncated by moonchat: %d of %d bytes shown]"

// CapToolResult cuts s to at most max bytes, on a character boundary, ending with a marker
// the model reads: "[truncated by moonchat: KEPT of TOTAL bytes shown]". It reports whether it
// cut. Every tool result the model reads is cut here, whoever ran the tool (the engine for
// all of them, pkg/mcphost for its own results), so the model sees one marker.
func CapToolResult(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	// The marker with len(s) in both places is at least as long as the final one.
	keep := max - len(fmt.Sprintf(toolResultCut, len(s), len(s)))
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + fmt.Sprintf(toolResultCut, keep, len(s)), true
}

// ToolStep is one call the engine ran, for the observer and the Result.
type ToolStep struct {
	Call    moonshot.ToolCall
	Result  ToolResult
	Bytes   int // the size of the result before any cut
	Elapsed time.Duration
}

// ErrMaxSteps: the model kept calling tools after Turn.MaxSteps round trips.
type ErrMaxSteps struct{ Steps int }

func (e *ErrMaxSteps) Error() string {
	return fmt.Sprintf("the model called tools more than %d times for one answer; stopped (--max-steps)", e.Steps)
}

// runsAll reports whether every call is one the engine answers: $web_search, or a function
// of tools. A turn whose calls are all $web_search is a search round trip instead.
func runsAll(tools Tools, calls []moonshot.ToolCall) bool {
	if tools == nil || len(calls) == 0 || onlyWebSearch(calls) {
		return false
	}
	for _, c := range calls {
		if c.Function.Name != moonshot.WebSearchName && !tools.Runs(c.Function.Name) {
			return false
		}
	}
	return true
}

// runTools runs the calls of one tool-call turn, in order, and returns the messages that
// answer them: the assistant turn with its calls, then one tool message per call.
func (a *answering) runTools(ctx context.Context, t *Turn, content string, msg moonshot.ResponseMessage) ([]moonshot.Message, error) {
	turn := searchTurn(content, msg) // the same assistant turn; the tool messages are replaced
	out := turn[:1]
	calls := turn[0].ToolCalls
	defer func() {
		// Stopped part way: the calls that did not run are answered as such, so that the
		// transcript stays complete (a continued conversation sends every call's result).
		for _, call := range calls[len(out)-1:] {
			out = append(out, moonshot.Message{Role: "tool", ToolCallID: call.ID, Name: call.Function.Name,
				Content: moonshot.Text("error: stopped before the tool answered")})
		}
		if len(out) > 1 {
			a.res.ToolTurns = append(a.res.ToolTurns, out...)
		}
	}()
	for _, call := range calls {
		a.obs.ToolCall(call)
		var res ToolResult
		start := time.Now()
		if call.Function.Name == moonshot.WebSearchName {
			res = ToolResult{Content: call.Function.Arguments}
		} else {
			callCtx, cancel := ctx, context.CancelFunc(func() {})
			if t.ToolTimeout > 0 {
				callCtx, cancel = context.WithTimeout(ctx, t.ToolTimeout)
			}
			var err error
			res, err = t.Tools.Run(callCtx, call)
			timedOut := callCtx.Err() != nil && ctx.Err() == nil
			cancel()
			switch {
			case timedOut:
				res = ToolResult{Content: fmt.Sprintf("error: the tool did not answer within %s", t.ToolTimeout), Failed: true}
			case err != nil:
				return out, err
			}
		}
		step := ToolStep{Call: call, Result: res, Bytes: max(res.Bytes, len(res.Content)), Elapsed: time.Since(start)}
		step.Result.Content, _ = CapToolResult(res.Content, MaxToolResultBytes)
		a.res.ToolSteps = append(a.res.ToolSteps, step)
		a.obs.ToolResult(step)
		out = append(out, moonshot.Message{Role: "tool", ToolCallID: call.ID, Name: call.Function.Name,
			Content: moonshot.Text(step.Result.Content)})
	}
	return out, nil
}
