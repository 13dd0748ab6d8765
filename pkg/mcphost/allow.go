package mcphost

import (
	"fmt"
	"strings"
	"sync"
)

// AllowList decides which MCP calls may run without asking: the config's allow_tools entries
// and the tools the user answered "always" for during the session. An entry is "SERVER/TOOL",
// "SERVER/*" (every tool of a server) or "TOOL" (that tool on any server). It is safe for
// concurrent use.
type AllowList struct {
	mu      sync.Mutex
	entries map[string]bool
}

// ParseAllowEntry checks one allow_tools entry.
func ParseAllowEntry(e string) error {
	server, tool, qualified := strings.Cut(e, "/")
	switch {
	case e == "" || e == "*" || e == "*/*":
		return fmt.Errorf("allow_tools entry %q: name a tool or a server (SERVER/TOOL, SERVER/* or TOOL); approving everything is what --yes is for", e)
	case !qualified && strings.ContainsAny(e, "* "):
		return fmt.Errorf("allow_tools entry %q: expected SERVER/TOOL, SERVER/* or TOOL", e)
	case qualified && (ValidName(server) != nil || tool == "" || strings.ContainsAny(tool, "/ ") || (strings.Contains(tool, "*") && tool != "*")):
		return fmt.Errorf("allow_tools entry %q: expected SERVER/TOOL or SERVER/* with a valid server name", e)
	}
	return nil
}

// NewAllowList builds a list from allow_tools entries, checked with ParseAllowEntry.
func NewAllowList(entries []string) (*AllowList, error) {
	a := &AllowList{entries: map[string]bool{}}
	for _, e := range entries {
		if err := ParseAllowEntry(e); err != nil {
			return nil, err
		}
		a.entries[e] = true
	}
	return a, nil
}

// Allows reports whether a call of tool on server may run without asking.
func (a *AllowList) Allows(server, tool string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.entries[server+"/"+tool] || a.entries[server+"/*"] || a.entries[tool]
}

// Always records the answer "always for this tool in this session".
func (a *AllowList) Always(server, tool string) {
	a.mu.Lock()
	a.entries[server+"/"+tool] = true
	a.mu.Unlock()
}
