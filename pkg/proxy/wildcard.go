package proxy

import "strings"

// isWildcard reports a LiteLLM wildcard name or model ("*", "kimi-*", "moonshot/*").
func isWildcard(s string) bool { return strings.Contains(s, "*") }
