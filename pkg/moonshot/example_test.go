package moonshot_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// offline returns options that talk to moonchat's in-process emulator, so that the examples
// run anywhere. A real program leaves BaseURL and HTTPClient unset (or sets Region: "cn") and
// takes the key from MOONSHOT_API_KEY.
func offline() moonshot.Options {
	return moonshot.Options{
		APIKey:     "sk-example",
		BaseURL:    emulator.OfflineBaseURL,
		HTTPClient: emulator.OfflineClient(emulator.Config{}),
	}
}

func ExampleClient_ChatCompletion() {
	client, err := moonshot.NewClient(offline())
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.ChatCompletion(context.Background(), &moonshot.ChatRequest{
		Model:    "kimi-k2-turbo-preview",
		Messages: []moonshot.Message{moonshot.TextMessage("user", "Hello, Kimi")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Choices[0].Message.Content)
	// Output:
	// This is moonchat's offline emulator: no request left this machine.
	//
	// You said: Hello, Kimi
}

func ExampleClient_ChatStream() {
	client, err := moonshot.NewClient(offline())
	if err != nil {
		log.Fatal(err)
	}
	stream, err := client.ChatStream(context.Background(), &moonshot.ChatRequest{
		Model:    "kimi-k2.6",
		Messages: []moonshot.Message{moonshot.TextMessage("user", "Stream, please")},
	})
	if err != nil {
		log.Fatal(err) // HTTP errors arrive here, before anything is read
	}
	defer stream.Close()
	var acc moonshot.Accumulator
	for stream.Next() {
		chunk := stream.Current()
		acc.Add(chunk)
		for _, c := range chunk.Choices {
			fmt.Print(c.Delta.Content) // print as it arrives
		}
	}
	if err := stream.Err(); err != nil {
		log.Fatal(err) // includes a stream cut before [DONE]
	}
	result := acc.Result()
	fmt.Println("finish:", result.Choices[0].FinishReason)
	fmt.Println("thought about it:", result.Choices[0].Message.ReasoningContent != "")
	// Output:
	// This is moonchat's offline emulator: no request left this machine.
	//
	// You said: Stream, please
	// finish: stop
	// thought about it: true
}

func ExampleFix() {
	temperature, n := 0.1, 2
	req := &moonshot.ChatRequest{
		Model:       "moonshot/moonshot-v1-8k",
		Temperature: &temperature,
		N:           &n,
		Messages:    []moonshot.Message{moonshot.TextMessage("user", "Give me two slogans")},
		ToolChoice:  &moonshot.ToolChoice{Mode: "required"},
		Tools:       []moonshot.Tool{{Type: "function", Function: &moonshot.FunctionDef{Name: "save_slogan"}}},
	}
	fixed, adjustments, err := moonshot.Fix(req, moonshot.FixOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range adjustments {
		fmt.Println(a)
	}
	fmt.Println("model:", fixed.Model, "temperature:", *fixed.Temperature, "messages:", len(fixed.Messages))
	// Output:
	// model "moonshot/moonshot-v1-8k" → "moonshot-v1-8k" (provider prefix removed)
	// temperature 0.1 → 0.3 (Moonshot rejects a temperature near 0 with n > 1)
	// tool_choice "required" dropped (Moonshot does not support tool_choice "required" on moonshot-v1-8k; a user message asks for a tool instead)
	// model: moonshot-v1-8k temperature: 0.3 messages: 2
}

func ExampleAPIError() {
	client, err := moonshot.NewClient(offline())
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.ChatCompletion(context.Background(), &moonshot.ChatRequest{
		Model:    "no-such-model",
		Messages: []moonshot.Message{moonshot.TextMessage("user", "hi")},
	})
	var apiErr *moonshot.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status:", apiErr.StatusCode)
		fmt.Println("type:", apiErr.Type)
	}
	switch {
	case moonshot.IsAuth(err):
		fmt.Println("check the key and the region")
	case moonshot.IsQuota(err):
		fmt.Println("top up the balance")
	case moonshot.IsRejected(err):
		fmt.Println("fix the request")
	case moonshot.IsTemporary(err):
		fmt.Println("try again later")
	}
	// Output:
	// status: 404
	// type: resource_not_found_error
	// fix the request
}
