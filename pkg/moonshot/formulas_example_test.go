package moonshot_test

import (
	"context"
	"fmt"
	"log"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// A formula's declarations go into the request's tools; when the model calls one of them, the
// FormulaSet says which formula runs it and RunFiber runs it on Moonshot's side. Content is what
// goes back to the model as the tool message.
func ExampleClient_RunFiber() {
	client, err := moonshot.NewClient(offline())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	f, err := moonshot.ParseFormula("moonshot/base64:latest")
	if err != nil {
		log.Fatal(err)
	}
	tools, err := client.FormulaTools(ctx, f)
	if err != nil {
		log.Fatal(err)
	}
	var set moonshot.FormulaSet
	if err := set.Add(f, tools); err != nil {
		log.Fatal(err)
	}
	fmt.Println(set.Names())

	// The model asked for base64_encode with these arguments:
	call := moonshot.FunctionCall{Name: "base64_encode", Arguments: `{"text":"moonchat"}`}
	formula, ok := set.Lookup(call.Name)
	if !ok {
		log.Fatal("not a formula tool")
	}
	res, err := client.RunFiber(ctx, formula, call.Name, call.Arguments)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(formula, "->", res.Content())

	res, err = client.RunFiber(ctx, formula, "base64_decode", `{"data":"%%%"}`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content())
	// Output:
	// [base64_decode base64_encode]
	// moonshot/base64:latest -> bW9vbmNoYXQ=
	// error: data is not valid base64: illegal base64 data at input byte 0
}
