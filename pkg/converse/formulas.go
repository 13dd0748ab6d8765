package converse

import (
	"context"

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

// Run runs one call as a fiber. A call the formula refuses or fails is a failed result for
// the model to read; an unknown formula, a refused key or an ended context is an error.
func (f *Formulas) Run(ctx context.Context, call moonshot.ToolCall) (ToolResult, error) {
	formula, ok := f.Set.Lookup(call.Function.Name)
	if !ok {
		return ToolResult{Content: "error: no formula declares " + call.Function.Name, Failed: true}, nil
	}
	r, err := f.Client.RunFiber(ctx, formula, call.Function.Name, call.Function.Arguments)
	if err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Content: r.Content(), Failed: r.Failed()}, nil
}
