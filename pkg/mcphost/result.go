package mcphost

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// DefaultMaxResultBytes caps the text of one result sent back to the model: the engine's cap,
// so that a result the engine runs is cut once, here.
const DefaultMaxResultBytes = converse.MaxToolResultBytes

// Result is what one MCP tool call produced, as text for the model.
type Result struct {
	Text      string // the result's content as text, cut so that Content fits the cap
	IsError   bool   // the tool reported a failure (the text says why)
	Truncated bool   // Text was cut; it ends with converse.CapToolResult's marker
	Bytes     int    // size of the full text before any cut
}

// errorPrefix starts the Content of a failed result.
const errorPrefix = "error: "

// newResult makes the result of text, cut so that its Content, prefix included, is at most
// max bytes: the engine caps the Content again, and a second cut would show the model a
// second marker.
func newResult(text string, isError bool, max int) *Result {
	r := &Result{IsError: isError, Bytes: len(text)}
	if isError {
		max -= len(errorPrefix)
	}
	r.Text, r.Truncated = converse.CapToolResult(text, max)
	return r
}

// Content is the text of the tool message: the text, prefixed "error: " when the tool failed.
func (r *Result) Content() string {
	if r.IsError {
		return errorPrefix + r.Text
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

// Declaration is the tool as the chat request's tools declare it to the model.
func (t Tool) Declaration() moonshot.Tool {
	return moonshot.Tool{Type: "function", Function: &moonshot.FunctionDef{
		Name: t.Name, Description: t.Description, Parameters: t.InputSchema}}
}
