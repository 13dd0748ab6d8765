package converse_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// offlineClient talks to moonchat's in-process emulator, so that the examples run anywhere.
// A real program leaves BaseURL and HTTPClient unset and takes the key from
// MOONSHOT_API_KEY.
func offlineClient() *moonshot.Client {
	client, err := moonshot.NewClient(moonshot.Options{
		APIKey:     "sk-example",
		BaseURL:    emulator.OfflineBaseURL,
		HTTPClient: emulator.OfflineClient(emulator.Config{}),
	})
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// printer shows the answer as it streams and says what the engine did on the way.
type printer struct {
	converse.Discard
	answer strings.Builder
}

func (p *printer) Content(_ int, text string) { p.answer.WriteString(text) }
func (p *printer) Adjusted(a moonshot.Adjustment) {
	fmt.Printf("adjusted %s: %v → %v\n", a.Param, a.From, a.To)
}
func (p *printer) RoundTrip(r converse.RoundTrip) {
	switch r.Kind {
	case converse.WebSearch:
		fmt.Printf("searching the web (%d calls)\n", len(r.Calls))
	case converse.Continue:
		fmt.Printf("continuing (%d of %d)\n", r.N, r.Max)
	}
}

func ExampleEngine_Run() {
	eng := &converse.Engine{Client: offlineClient()}
	temperature := 1.5 // Moonshot takes 0–1: the fixes clamp it, and say so
	res := eng.Run(context.Background(), &converse.Turn{
		Request: &moonshot.ChatRequest{
			Model:       "kimi-k2-turbo-preview",
			Temperature: &temperature,
			Messages:    []moonshot.Message{moonshot.TextMessage("user", "Hello, Kimi")},
		},
	}, &printer{})
	if res.Err != nil {
		log.Fatal(res.Err)
	}
	fmt.Println(res.Completion.Choices[0].FinishReason)
	// Output:
	// adjusted temperature: 1.5 → 1
	// stop
}

func ExampleEngine_Run_webSearch() {
	eng := &converse.Engine{Client: offlineClient()}
	p := &printer{}
	res := eng.Run(context.Background(), &converse.Turn{
		Request: &moonshot.ChatRequest{
			Model:    "kimi-k2-turbo-preview",
			Tools:    []moonshot.Tool{moonshot.WebSearchTool()},
			Messages: []moonshot.Message{moonshot.TextMessage("user", "What is new at Moonshot AI?")},
		},
	}, p)
	if res.Err != nil {
		log.Fatal(res.Err)
	}
	fmt.Println(res.SearchTokens > 0, p.answer.String() == res.Completion.Choices[0].Message.Content)
	// Output:
	// searching the web (1 calls)
	// true true
}

func ExampleEngine_Run_prefillAndContinue() {
	eng := &converse.Engine{Client: offlineClient()}
	limit := 8
	p := &printer{}
	res := eng.Run(context.Background(), &converse.Turn{
		Request: &moonshot.ChatRequest{
			Model:     "kimi-k2-turbo-preview",
			MaxTokens: &limit,
			Messages:  []moonshot.Message{moonshot.TextMessage("user", "Tell me a story")},
		},
		Prefill:      "Once upon a time",
		MaxContinues: 2,
	}, p)
	if res.Err != nil {
		log.Fatal(res.Err)
	}
	answer := res.Completion.Choices[0].Message.Content
	fmt.Println(strings.HasPrefix(answer, "Once upon a time"), answer == p.answer.String())
	// Output:
	// continuing (1 of 2)
	// continuing (2 of 2)
	// true true
}

func ExampleEngine_Prepare() {
	eng := &converse.Engine{Client: offlineClient(), DryRun: true}
	p, err := eng.Prepare(context.Background(), &converse.Turn{
		Request: &moonshot.ChatRequest{
			Model:    "kimi-k2-turbo-preview",
			Messages: []moonshot.Message{moonshot.TextMessage("user", "What does this do?")},
		},
		Files: []converse.File{{Name: "main.go", Data: []byte("package main\n")}},
	}, converse.Discard{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Request.Messages[len(p.Request.Messages)-1].Content.String())
	// Output:
	// What does this do?
	//
	// File: main.go
	// ```
	// package main
	// ```
}
