// Package moonshot is a Go client for Moonshot AI's Kimi API (api.moonshot.ai and
// api.moonshot.cn) that repairs the parameters Moonshot rejects before they are sent.
//
// Moonshot's chat API is OpenAI-shaped, but refuses values that OpenAI clients send every day:
// a temperature above 1, a temperature near 0 with n > 1, tool_choice "required", sampling
// parameters on the models that fix them. Fix turns a request into one Moonshot accepts and
// reports every change as an Adjustment; Client applies it to every request it sends.
//
// The package imports only the standard library.
//
// # Quick start
//
//	client, err := moonshot.NewClient(moonshot.Options{}) // key from MOONSHOT_API_KEY
//	if err != nil { ... }
//	resp, err := client.ChatCompletion(ctx, &moonshot.ChatRequest{
//		Model:    "kimi-k2.6",
//		Messages: []moonshot.Message{moonshot.TextMessage("user", "Hello")},
//	})
//
// # Streaming
//
// ChatStream returns an HTTP error before anything is read; after that the Stream is an
// iterator (Next, Current, Err, Close) and an Accumulator rebuilds the whole answer:
//
//	stream, err := client.ChatStream(ctx, req)
//	if err != nil { ... }
//	defer stream.Close()
//	var acc moonshot.Accumulator
//	for stream.Next() {
//		chunk := stream.Current()
//		if err := acc.Add(chunk); err != nil { ... } // an index out of range
//		for _, c := range chunk.Choices { fmt.Print(c.Delta.Content) }
//	}
//	if err := stream.Err(); err != nil { ... } // includes a stream cut before [DONE]
//
// # Errors and retries
//
// Failures from the API are *APIError values (HTTP status, Moonshot's error type and message,
// request id). IsAuth, IsQuota, IsRejected and IsTemporary classify them. The client retries
// only before the first byte of an answer: connection errors, 429 rate limit and overload, and
// 5xx, honouring Retry-After and Moonshot's "try again after N seconds". It never retries
// exceeded_current_quota_error, which is a billing problem.
//
// # Model families
//
// LookupModel knows Moonshot's models and their families (legacy, thinking, fixed sampling,
// k3), which decide the fixes; see docs/moonshot-api.md §1–2 in the moonchat repository for the rules.
package moonshot
