package emulator

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
)

// Reply is what the emulated model answers. The server derives the wire
// answer from it: Reasoning is dropped when the request does not think (and
// in Partial Mode, which continues an answer), Partial Mode strips the
// prefix, stop strings and max_tokens cut it. When the request offers
// $web_search and the current turn has no search result yet, the server
// answers with the search call itself and the Reply is not asked.
type Reply struct {
	Content   string
	Reasoning string
	ToolCalls []ToolCall // an empty ID becomes "<name>_<index>"
	// FinishReason "" means "stop", or "tool_calls" when ToolCalls is not
	// empty; a max_tokens cut always reports "length".
	FinishReason string
}

// offlineBanner opens every default answer, so a user of --offline cannot
// mistake it for the model's.
const offlineBanner = "This is moonchat's offline emulator: no request left this machine."

// maxEchoRunes is how much of the user's message the default answer repeats.
const maxEchoRunes = 200

// DefaultReply is the deterministic answer used when Config.Reply is nil: it
// says it is offline and repeats the start of the last user message; a
// thinking request also gets a short reasoning first.
//
// With a function of an emulated formula declared that takes no arguments (date, from
// moonshot/date:latest) and no tool result since the last user message, it calls that
// function instead, so that a tool loop can be tried offline; once the result is there, the
// answer also says what the tool returned. Failing that, a declared function named echo whose
// one required parameter is a string (the echo tool of MCP's reference server, and of
// pkg/mcphost's test server) is called with the user's words, so that an MCP server's loop
// and its approval can be tried offline too.
func DefaultReply(req *ChatRequest) Reply {
	said := []rune(req.LastUserText())
	if len(said) > maxEchoRunes {
		said = said[:maxEchoRunes]
	}
	result, called := lastToolResult(req.Messages)
	if name := argumentlessFormula(req.Tools); name != "" && !called && req.ToolChoice != "none" {
		r := Reply{ToolCalls: []ToolCall{{Name: name, Arguments: "{}"}}}
		if req.Thinking {
			r.Reasoning = "A tool can answer this; call " + name + "."
		}
		return r
	}
	if param := echoParameter(req.Tools); param != "" && !called && req.ToolChoice != "none" {
		args, _ := json.Marshal(map[string]string{param: string(said)})
		r := Reply{ToolCalls: []ToolCall{{Name: "echo", Arguments: string(args)}}}
		if req.Thinking {
			r.Reasoning = "The echo tool can answer this; call it."
		}
		return r
	}
	r := Reply{Content: offlineBanner + "\n\nYou said: " + string(said) + "\n"}
	if called {
		if rs := []rune(result); len(rs) > maxEchoRunes {
			result = string(rs[:maxEchoRunes])
		}
		r.Content += "\nThe tool said: " + result + "\n"
	}
	if req.Thinking {
		r.Reasoning = "The user wants an offline answer."
	}
	return r
}

// webSearchTokens is what one emulated search adds to the next prompt.
const webSearchTokens = 1200

// answer is one choice's content as it goes on the wire, with its token counts.
type answer struct {
	reasoning, content string
	toolCalls          []ToolCall
	finish             string
	prompt             int // prompt tokens (same for every choice)
	completion         int // reasoning + content + tool call tokens
	reasoningTokens    int
}

// respond turns the request into the answer: a $web_search call, or the
// Reply shaped by thinking, Partial Mode, stop strings and max_tokens.
func respond(req *ChatRequest, replyFn func(*ChatRequest) Reply) (answer, *apiError) {
	a := answer{prompt: CountTokens(req.Messages)}
	var r Reply
	if hasWebSearch(req.Tools) && req.ToolChoice != "none" {
		searched, tokens, err := searchResults(req.Messages)
		if err != nil {
			return a, err
		}
		if !searched {
			r = searchReply(req)
		} else {
			a.prompt += tokens
			r = replyFn(req)
		}
	} else {
		r = replyFn(req)
	}

	a.reasoning, a.content, a.toolCalls = r.Reasoning, r.Content, r.ToolCalls
	if !req.Thinking {
		a.reasoning = ""
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Partial {
		// A continuation does not think again; that also keeps an
		// auto-continue loop from spending each budget on reasoning.
		a.reasoning = ""
		if rest, ok := strings.CutPrefix(a.content, last.Content); ok {
			a.content = rest
		}
	}

	a.finish = r.FinishReason
	if a.finish == "" {
		a.finish = "stop"
		if len(a.toolCalls) > 0 {
			a.finish = "tool_calls"
		}
	}
	if cut := firstStop(a.content, req.Stop); cut >= 0 {
		a.content = a.content[:cut]
		a.toolCalls = nil
		a.finish = "stop"
	}
	if len(a.toolCalls) > 0 {
		calls := make([]ToolCall, len(a.toolCalls))
		for i, c := range a.toolCalls {
			if c.ID == "" {
				c.ID = fmt.Sprintf("%s_%d", strings.TrimPrefix(c.Name, "$"), i)
			}
			calls[i] = c
		}
		a.toolCalls = calls
	}

	a.reasoningTokens = CountText(a.reasoning)
	contentTokens := CountText(a.content)
	callTokens := 0
	for _, c := range a.toolCalls {
		callTokens += CountText(c.Name) + CountText(c.Arguments)
	}
	if req.MaxTokens > 0 && a.reasoningTokens+contentTokens+callTokens > req.MaxTokens {
		a.reasoning, a.reasoningTokens = truncateTokens(a.reasoning, req.MaxTokens)
		a.content, contentTokens = truncateTokens(a.content, req.MaxTokens-a.reasoningTokens)
		a.toolCalls, callTokens = nil, 0
		a.finish = "length"
	}
	a.completion = a.reasoningTokens + contentTokens + callTokens
	return a, nil
}

// firstStop is the byte offset of the earliest stop string in s, or -1.
func firstStop(s string, stops []string) int {
	cut := -1
	for _, st := range stops {
		if st == "" {
			continue
		}
		if i := strings.Index(s, st); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	return cut
}

// searchReply is the server's first answer to a request that offers
// $web_search: a call the client must echo back.
func searchReply(req *ChatRequest) Reply {
	h := fnv.New64a()
	h.Write([]byte(req.LastUserText()))
	args := fmt.Sprintf(`{"search_result":{"search_id":"emu-search-%016x"},"usage":{"total_tokens":%d}}`, h.Sum64(), webSearchTokens)
	r := Reply{ToolCalls: []ToolCall{{ID: "web_search_0", Name: webSearchName, Arguments: args}}}
	if req.Thinking {
		r.Reasoning = "The question needs fresh information; search the web."
	}
	return r
}

// searchResults looks at the turn since the last user message: whether it
// already holds a $web_search result (then the server answers instead of
// searching again, even if other tool calls followed), and the tokens those
// results add to the prompt. Each result must echo its call (checkSearchEcho).
func searchResults(msgs []Message) (searched bool, tokens int, err *apiError) {
	lastUser := -1
	for i, m := range msgs {
		if m.Role == "user" {
			lastUser = i
		}
	}
	for i := lastUser + 1; i < len(msgs); i++ {
		call, ok := webSearchCallFor(msgs[i], msgs[:i])
		if !ok {
			continue
		}
		n, err := checkSearchEcho(msgs[i], call)
		if err != nil {
			return false, 0, err
		}
		searched, tokens = true, tokens+n
	}
	return searched, tokens, nil
}

// webSearchCallFor finds the $web_search call that msg answers, when msg is a
// tool message naming $web_search or answering a call of that name.
func webSearchCallFor(msg Message, earlier []Message) (ToolCall, bool) {
	if msg.Role != "tool" {
		return ToolCall{}, false
	}
	for i := len(earlier) - 1; i >= 0; i-- {
		for _, c := range earlier[i].ToolCalls {
			if c.ID == msg.ToolCallID && (c.Name == webSearchName || msg.Name == webSearchName) {
				return c, true
			}
		}
	}
	return ToolCall{}, false
}

// checkSearchEcho enforces the web-search protocol: the tool message's
// content is the call's arguments, unchanged up to JSON formatting. It
// returns the tokens the search adds to the prompt.
func checkSearchEcho(msg Message, call ToolCall) (int, *apiError) {
	var sent, echoed any
	if call.Name != webSearchName {
		return 0, invalid("Invalid request: tool message %q answers call %q, not $web_search", msg.Name, call.Name)
	}
	if json.Unmarshal([]byte(call.Arguments), &sent) != nil ||
		json.Unmarshal([]byte(msg.Content), &echoed) != nil || !reflect.DeepEqual(sent, echoed) {
		return 0, invalid("Invalid request: the content of the $web_search tool message must be the call's arguments, unchanged")
	}
	var args struct {
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal([]byte(call.Arguments), &args) != nil {
		return 0, invalid("Invalid request: the $web_search arguments are not valid")
	}
	return args.Usage.TotalTokens, nil
}

// lastToolResult is the content of the last tool message after the last user message.
func lastToolResult(msgs []Message) (string, bool) {
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role != "user"; i-- {
		if msgs[i].Role == "tool" {
			return msgs[i].Content, true
		}
	}
	return "", false
}

// argumentlessFormula is the first declared function that an emulated formula runs without
// arguments, "" if none.
// echoParameter is the one required parameter, a string, of a declared function named echo,
// or "".
func echoParameter(tools []Tool) string {
	for _, t := range tools {
		if t.Type != "function" || t.Name != "echo" {
			continue
		}
		required, _ := t.Parameters["required"].([]any)
		props, _ := t.Parameters["properties"].(map[string]any)
		if len(required) != 1 {
			return ""
		}
		name, _ := required[0].(string)
		if prop, _ := props[name].(map[string]any); prop["type"] == "string" {
			return name
		}
	}
	return ""
}

func argumentlessFormula(tools []Tool) string {
	for _, t := range tools {
		if t.Type != "function" {
			continue
		}
		for _, fns := range formulaCatalog {
			for _, fn := range fns {
				if fn.name == t.Name && len(fn.required) == 0 && fn.run != nil {
					return fn.name
				}
			}
		}
	}
	return ""
}
