package converse

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Formulas are Tools that run Moonshot's official tools: each call goes to the formula's
// endpoint (a fiber), on Moonshot's side. Fill Set with the formulas' declarations
// (Client.FormulaTools, FormulaSet.Add) and send Set.Tools() as the request's tools.
type Formulas struct {
	Client *moonshot.Client
	Set    *moonshot.FormulaSet
}

// Runs reports whether name is a function of one of the formulas.
func (f *Formulas) Runs(name string) bool {
	_, ok := f.Set.Lookup(name)
	return ok
}

// Run runs one call as a fiber. A call that fails is a failed result for the model to read,
// as an MCP tool's failure is: the formula refused or failed, or the exchange with its
// endpoint did (a 5xx, a dropped connection, a timeout, an answer that is not the API's).
// The model can call again or answer without the tool. Only what no model can fix is an
// error that ends the answer: a refused key (401/403), an exhausted quota, an ended context.
func (f *Formulas) Run(ctx context.Context, call moonshot.ToolCall) (ToolResult, error) {
	formula, ok := f.Set.Lookup(call.Function.Name)
	if !ok {
		return ToolResult{Content: "error: no formula declares " + call.Function.Name, Failed: true}, nil
	}
	r, err := f.Client.RunFiber(ctx, formula, call.Function.Name, call.Function.Arguments)
	switch {
	case err == nil:
		return ToolResult{Content: r.Content(), Failed: r.Failed()}, nil
	case ctx.Err() != nil || moonshot.IsAuth(err) || moonshot.IsQuota(err):
		return ToolResult{}, err
	}
	return ToolResult{Content: fiberFailure(formula, err), Failed: true}, nil
}

// fiberFailure tells the model, in moonchat's words, why the exchange with a formula's
// endpoint failed. The server's own text is left out: its size and bytes are the server's
// (escape sequences included), and an error page tells the model nothing it can act on. A
// fiber is not retried after a 5xx or a lost connection, because the tool may have run.
func fiberFailure(f moonshot.Formula, err error) string {
	var ae *moonshot.APIError
	var why string
	switch {
	case errors.As(err, &ae) && ae.Type == moonshot.ErrTypeUnexpectedOutput:
		why = "its answer was not one the API sends (too large, or not its shape)"
	case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
		why = "Moonshot answered 404: the tool is not there (now)"
	case errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests:
		why = "Moonshot answered 429: the tool is throttled; it did not run"
	case errors.As(err, &ae) && ae.StatusCode != 0:
		why = fmt.Sprintf("Moonshot answered HTTP %d; the tool may or may not have run", ae.StatusCode)
	case moonshot.IsTemporary(err):
		why = "no answer from Moonshot (a network failure or a timeout); the tool may or may not have run"
	default:
		why = "the exchange with Moonshot failed; the tool may or may not have run"
	}
	return fmt.Sprintf("error: the call of the official tool %s failed: %s", f, why)
}
