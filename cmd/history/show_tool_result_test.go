package historycmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/vt"
	"github.com/moonchat/moonchat/pkg/history"
)

// A tool result is shown on one line, cut; on a terminal the escape sequences it holds are
// removed whole. Collapsing the line first dropped their ESC and BEL, so the bodies ("]52;c;...",
// "[2J") were printed as text.
func TestShowToolResultDropsEscapeSequencesWhole(t *testing.T) {
	fx := newFixture(t)
	fx.seed(history.Conversation{ID: "cafe0001", Model: "kimi-k2.6"},
		history.Message{Role: "user", Content: "read it"},
		history.Message{Role: "assistant", FinishReason: "tool_calls",
			ToolCalls: json.RawMessage(`[{"id":"call_1","type":"function","function":{"name":"read","arguments":"{}"}}]`)},
		history.Message{Role: "tool", Name: "read", ToolCallID: "call_1", Content: "file:\n" + vt.Hostile},
		history.Message{Role: "assistant", Content: "Done.", FinishReason: "stop"})
	r := fx.mustRun(terminal, "show", "cafe0001")
	if bad := vt.ForeignControl(r.stdout); bad != "" {
		t.Fatalf("stdout holds %q:\n%q", bad, r.stdout)
	}
	var line string
	for l := range strings.Lines(stripANSI(r.stdout)) {
		if strings.HasPrefix(l, "tool result (read): ") {
			line = l
		}
	}
	// What is left of the fixture: the text around it, a lone C1 control and a lone BEL made
	// visible (render.Sanitize's marks).
	if line != "tool result (read): file: pwn\uFFFD\u2407 end\n" {
		t.Errorf("tool result line %q", line)
	}
}
