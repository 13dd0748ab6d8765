package emulator

import (
	"fmt"
	"slices"
)

func parseTools(raw map[string]any, req *ChatRequest) *apiError {
	v, ok := raw["tools"]
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		return invalid("Invalid request: tools must be an array")
	}
	if len(arr) > maxTools {
		return invalid("Invalid request: too many tools: %d (at most %d)", len(arr), maxTools)
	}
	for i, tv := range arr {
		obj, _ := tv.(map[string]any)
		typ, _ := obj["type"].(string)
		fn, _ := obj["function"].(map[string]any)
		if fn == nil {
			return invalid("Invalid request: tool %d needs a function object", i)
		}
		name, _ := fn["name"].(string)
		desc, _ := fn["description"].(string)
		t := Tool{Type: typ, Name: name, Description: desc}
		switch typ {
		case "builtin_function":
			if name != webSearchName {
				return invalid("Invalid request: unknown builtin function %q", name)
			}
		case "function":
			if !functionNameRE().MatchString(name) {
				return invalid("Invalid request: function name %q is invalid: it must match ^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$", name)
			}
			if p, ok := fn["parameters"]; ok && p != nil {
				params, ok := p.(map[string]any)
				if !ok {
					return invalid("Invalid request: parameters of function %q must be a JSON Schema object", name)
				}
				if pt, ok := params["type"]; ok && pt != "object" {
					return invalid("Invalid request: parameters of function %q must have type object at the root", name)
				}
				if err := checkSchema(params, name, ""); err != nil {
					return err
				}
				t.Parameters = params
			}
		default:
			return invalid("Invalid request: tool %d has unknown type %q (want function or builtin_function)", i, typ)
		}
		req.Tools = append(req.Tools, t)
	}
	return nil
}

// checkSchema enforces what Moonshot's schema subset (MFJS) insists on: every
// property, array item and anyOf branch says what it is.
func checkSchema(s map[string]any, fn, path string) *apiError {
	if props, ok := s["properties"].(map[string]any); ok {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := joinPath(path, k)
			sub, ok := props[k].(map[string]any)
			if !ok || !typed(sub) {
				return invalid("Invalid request: missing 'type' or 'anyOf' key in property %q of function %q parameters", p, fn)
			}
			if err := checkSchema(sub, fn, p); err != nil {
				return err
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		p := joinPath(path, "items")
		if !typed(items) {
			return invalid("Invalid request: missing 'type' or 'anyOf' key in property %q of function %q parameters", p, fn)
		}
		if err := checkSchema(items, fn, p); err != nil {
			return err
		}
	}
	if branches, ok := s["anyOf"].([]any); ok {
		for i, b := range branches {
			if sub, ok := b.(map[string]any); ok {
				if err := checkSchema(sub, fn, joinPath(path, fmt.Sprintf("anyOf[%d]", i))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func typed(s map[string]any) bool {
	_, t := s["type"]
	_, a := s["anyOf"]
	return t || a
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func checkToolChoice(raw map[string]any, req *ChatRequest, family string) *apiError {
	v, ok := raw["tool_choice"]
	if !ok || v == nil {
		return nil
	}
	req.ToolChoice = v
	// k3 accepts every choice; the other families refuse forced choices
	// while thinking (docs/moonshot-api.md §1).
	thinkingRefuses := req.Thinking && family != FamilyK3
	switch c := v.(type) {
	case string:
		switch c {
		case "auto", "none":
		case "required":
			// Only k3 takes "required"; the fixed family refuses it with thinking off too
			// (docs/moonshot-api.md §1: documented as unsupported, the reaction unverified).
			switch {
			case thinkingRefuses:
				return invalid("tool_choice 'required' is incompatible with thinking enabled")
			case family != FamilyK3:
				return invalid("Invalid request: tool_choice 'required' is not supported")
			}
		default:
			return invalid("Invalid request: unknown tool_choice %q", c)
		}
	case map[string]any:
		fn, _ := c["function"].(map[string]any)
		name, _ := fn["name"].(string)
		if c["type"] != "function" || name == "" {
			return invalid(`Invalid request: tool_choice object must be {"type":"function","function":{"name":...}}`)
		}
		if thinkingRefuses {
			return invalid("tool_choice 'specified' is incompatible with thinking enabled")
		}
	default:
		return invalid("Invalid request: tool_choice must be a string or an object")
	}
	return nil
}

func hasWebSearch(tools []Tool) bool {
	for _, t := range tools {
		if t.Type == "builtin_function" && t.Name == webSearchName {
			return true
		}
	}
	return false
}
