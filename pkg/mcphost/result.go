package mcphost

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// DefaultMaxResultBytes caps the text of one result sent back to the model.
const DefaultMaxResultBytes = 64 << 10

// Result is what one MCP tool call produced, as text for the model.
type Result struct {
	Text      string // the result's content as text, cut to the cap
	IsError   bool   // the tool reported a failure (the text says why)
	Truncated bool   // Text was cut; it ends with a marker saying so
	Bytes     int    // size of the full text before any cut
}

// Content is the text of the tool message: the text, prefixed "error: " when the tool failed.
func (r *Result) Content() string {
	if r.IsError {
		return "error: " + r.Text
	}
	return r.Text
}

// resultText turns MCP content into text. Text parts are kept; binary parts are described,
// not inlined: the model reads text, and a base64 image would only fill its context.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, c.Text)
		case *mcp.ImageContent:
			parts = append(parts, fmt.Sprintf("[image %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *mcp.AudioContent:
			parts = append(parts, fmt.Sprintf("[audio %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *mcp.ResourceLink:
			parts = append(parts, fmt.Sprintf("[resource %s %s]", c.Name, c.URI))
		case *mcp.EmbeddedResource:
			switch r := c.Resource; {
			case r == nil:
			case r.Text != "":
				parts = append(parts, r.Text)
			default:
				parts = append(parts, fmt.Sprintf("[resource %s %s, %d bytes]", r.URI, r.MIMEType, len(r.Blob)))
			}
		default:
			b, _ := json.Marshal(c)
			parts = append(parts, string(b))
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		b, err := json.Marshal(res.StructuredContent)
		if err == nil {
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, "\n")
}

// truncate cuts s to at most max bytes, on a rune boundary, with a marker the model can read.
func truncate(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	const marker = "\n[truncated by moonchat: %d of %d bytes shown]"
	// The marker with len(s) in both places is at least as long as the final one.
	keep := max - len(fmt.Sprintf(marker, len(s), len(s)))
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + fmt.Sprintf(marker, keep, len(s)), true
}

// Declaration is the tool as the chat request's tools declare it to the model.
func (t Tool) Declaration() moonshot.Tool {
	return moonshot.Tool{Type: "function", Function: &moonshot.FunctionDef{
		Name: t.Name, Description: t.Description, Parameters: t.InputSchema}}
}
