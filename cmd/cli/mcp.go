package cli

import (
	"path/filepath"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// MCPLogDir is where MCP servers' stderr goes: mcp/ next to moonchat's other cached files.
func MCPLogDir() (string, error) {
	p, err := moonshot.DefaultFileCachePath()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(p), "mcp"), nil
}
