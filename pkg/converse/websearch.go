package converse

import (
	"encoding/json"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Moonshot's $web_search is a round trip the client performs: the model calls it, the client
// sends the call's arguments back unchanged as its result, and Moonshot searches. The answer
// loop (answer.go) and the tool loop (tools.go) both write its turn.

// onlyWebSearch reports whether the calls are all $web_search: a search round trip.
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
