package emulator

import (
	"slices"
	"strings"
)

// checkConversation holds the rules that look across messages.
func checkConversation(req *ChatRequest) *apiError {
	msgs := req.Messages
	last := len(msgs) - 1
	callIDs := map[string]bool{}
	for i, m := range msgs {
		if m.Partial {
			if i != last || m.Role != "assistant" {
				return invalid("Invalid request: partial is only allowed on the last message, and only with role assistant (message at index %d)", i)
			}
			if req.ResponseFormat == "json_object" {
				return invalid("Invalid request: partial mode cannot be used with response_format json_object")
			}
		}
		if m.Role == "assistant" && len(m.ToolCalls) > 0 {
			if req.Thinking && !m.HasReasoningContent {
				return invalid("thinking is enabled but reasoning_content is missing in assistant tool call message at index %d", i)
			}
			for _, c := range m.ToolCalls {
				callIDs[c.ID] = true
			}
		}
		if m.Role == "tool" && !callIDs[m.ToolCallID] {
			return invalid("Invalid request: tool_call_id not found: %q (message at index %d)", m.ToolCallID, i)
		}
		for _, p := range m.Parts {
			if err := checkMediaPart(p, req.ModelInfo); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkMediaPart(p Part, m Model) *apiError {
	switch p.Type {
	case "image_url":
		if !m.Vision {
			return invalid("Invalid request: model %s does not support image input", m.ID)
		}
		if strings.HasPrefix(p.URL, "ms://") {
			return nil
		}
		rest, ok := strings.CutPrefix(p.URL, "data:image/")
		if !ok {
			return invalid("Invalid request: unsupported image url: only data: URLs and ms://<file_id> are accepted")
		}
		format, _, _ := strings.Cut(rest, ";")
		if !slices.Contains(imageFormats, format) {
			return invalid("Invalid request: unsupported image format: %s", format)
		}
	case "video_url":
		if !m.Video {
			return invalid("Invalid request: model %s does not support video input", m.ID)
		}
		if !strings.HasPrefix(p.URL, "ms://") && !strings.HasPrefix(p.URL, "data:video/") {
			return invalid("Invalid request: unsupported video url: only data: URLs and ms://<file_id> are accepted")
		}
	}
	return nil
}

// parseMessages decodes and checks the messages array; it is shared with
// estimate-token-count, which has the same message rules.
func parseMessages(v any, present bool) ([]Message, *apiError) {
	if !present {
		return nil, invalid("Invalid request: messages is required")
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, invalid("Invalid request: messages must be an array")
	}
	if len(arr) == 0 {
		return nil, invalid("Invalid request: messages must not be empty")
	}
	msgs := make([]Message, 0, len(arr))
	for i, item := range arr {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, invalid("Invalid request: message at index %d must be an object", i)
		}
		m, err := parseMessage(obj, i)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func parseMessage(obj map[string]any, i int) (Message, *apiError) {
	var m Message
	role, _ := obj["role"].(string)
	switch role {
	case "system", "user", "assistant", "tool":
	default:
		return m, invalid("Invalid request: unknown role %q in message at index %d (want system, user, assistant or tool)", role, i)
	}
	m.Role = role

	var err *apiError
	if m.Name, err = optString(obj, "name", i); err != nil {
		return m, err
	}
	if m.ToolCallID, err = optString(obj, "tool_call_id", i); err != nil {
		return m, err
	}
	if rc, ok := obj["reasoning_content"]; ok && rc != nil {
		s, ok := rc.(string)
		if !ok {
			return m, invalid("Invalid request: reasoning_content of message at index %d must be a string", i)
		}
		m.ReasoningContent, m.HasReasoningContent = s, true
	}
	if p, ok := obj["partial"]; ok && p != nil {
		b, ok := p.(bool)
		if !ok {
			return m, invalid("Invalid request: partial of message at index %d must be a boolean", i)
		}
		m.Partial = b
	}

	contentPresent := false
	switch c := obj["content"].(type) {
	case nil:
	case string:
		m.Content, contentPresent = c, c != ""
	case []any:
		for j, pv := range c {
			part, err := parsePart(pv, i, j)
			if err != nil {
				return m, err
			}
			m.Parts = append(m.Parts, part)
			m.Content += part.Text
		}
		contentPresent = len(c) > 0
	default:
		return m, invalid("Invalid request: content of message at index %d must be a string or an array", i)
	}

	if tc, ok := obj["tool_calls"]; ok && tc != nil {
		if role != "assistant" {
			return m, invalid("Invalid request: only assistant messages may carry tool_calls (message at index %d)", i)
		}
		arr, ok := tc.([]any)
		if !ok {
			return m, invalid("Invalid request: tool_calls of message at index %d must be an array", i)
		}
		for j, cv := range arr {
			call, _ := cv.(map[string]any)
			fn, _ := call["function"].(map[string]any)
			id, _ := call["id"].(string)
			name, _ := fn["name"].(string)
			args, _ := fn["arguments"].(string)
			if call == nil || fn == nil || name == "" {
				return m, invalid("Invalid request: tool call %d of message at index %d needs a function with a name", j, i)
			}
			m.ToolCalls = append(m.ToolCalls, ToolCall{ID: id, Name: name, Arguments: args})
		}
	}

	switch role {
	case "system", "user":
		if !contentPresent {
			return m, invalid("Invalid request: the content of the %s message at index %d must not be empty", role, i)
		}
	case "assistant":
		if !contentPresent && len(m.ToolCalls) == 0 {
			return m, invalid("Invalid request: the assistant message at index %d must have content or tool_calls", i)
		}
	case "tool":
		if _, ok := obj["content"]; !ok || obj["content"] == nil {
			return m, invalid("Invalid request: the tool message at index %d must have content", i)
		}
	}
	return m, nil
}

func parsePart(v any, i, j int) (Part, *apiError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Part{}, invalid("Invalid request: content part %d of message at index %d must be an object", j, i)
	}
	typ, _ := obj["type"].(string)
	switch typ {
	case "text":
		text, ok := obj["text"].(string)
		if !ok {
			return Part{}, invalid("Invalid request: text part %d of message at index %d needs a text", j, i)
		}
		return Part{Type: typ, Text: text}, nil
	case "image_url", "video_url":
		// The url is an object {"url": ...} or, since 2026, a bare string.
		var url string
		switch u := obj[typ].(type) {
		case string:
			url = u
		case map[string]any:
			url, _ = u["url"].(string)
		}
		if url == "" {
			return Part{}, invalid("Invalid request: %s part %d of message at index %d needs a url", typ, j, i)
		}
		return Part{Type: typ, URL: url}, nil
	default:
		return Part{}, invalid("Invalid request: unknown content part type %q in message at index %d", typ, i)
	}
}
