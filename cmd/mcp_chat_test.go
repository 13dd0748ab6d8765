package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/mcptest"
	"github.com/moonchat/moonchat/pkg/emulator"
)

// Tests of issue 15's MCP tools in `moonchat chat`: the emulator plays a model that calls the
// echo tool of pkg/mcphost's test server (built with the official Go SDK), over stdio.

func echoServer(t *testing.T) string { return mcptest.EchoServer(t) }

// TestMain removes the echo server built for the tests of this run.
func TestMain(m *testing.M) { mcptest.Main(m) }

// mcpHarness is a harness whose config has the echo server as "echo", plus extra lines, and
// whose model calls echo with "hi" until it has the result.
func mcpHarness(t *testing.T, extra string) *harness {
	t.Helper()
	h := newHarness(t)
	dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "moonchat")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := "mcp_servers:\n  echo:\n    command: " + echoServer(t) + "\n" + extra
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h.srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == "tool" {
			return emulator.Reply{Content: "The tool said: " + last.Content}
		}
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: "echo", Arguments: `{"text":"hi"}`}}}
	})
	return h
}

func TestMCPToolRunsWithYes(t *testing.T) {
	h := mcpHarness(t, "")
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--mcp", "echo", "--yes", "say hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stdout != "The tool said: hi\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, `echo {"text":"hi"} → 2 B, `) {
		t.Fatalf("stderr %q", r.stderr)
	}
	// Every tool of the server is declared to the model, as a function.
	tools, _ := h.chatBodies()[0]["tools"].([]any)
	var names []string
	for _, tl := range tools {
		names = append(names, tl.(map[string]any)["function"].(map[string]any)["name"].(string))
	}
	if !strings.Contains(strings.Join(names, ","), "echo") || len(names) < 2 {
		t.Fatalf("declared %v", names)
	}
}

func TestMCPToolRunsWhenAllowListed(t *testing.T) {
	h := mcpHarness(t, "allow_tools: [echo/echo]\nmcp_default: [echo]\n")
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "say hi")
	if r.code != 0 || r.stdout != "The tool said: hi\n" {
		t.Fatalf("exit %d, stdout %q: %s", r.code, r.stdout, r.stderr)
	}
}

func TestMCPToolRefusedWithoutApproval(t *testing.T) {
	h := mcpHarness(t, "")
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "--mcp", "echo", "say hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The model reads that the call was not approved, and the run goes on.
	if !strings.Contains(r.stdout, "The tool said: error: the user did not approve this call of echo/echo") {
		t.Fatalf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "not approved: echo/echo (give --yes, or add it to allow_tools)") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestMCPToolApprovedAtThePrompt(t *testing.T) {
	for _, tc := range []struct {
		answer string
		ran    bool
	}{{"y\n", true}, {"always\n", true}, {"n\n", false}, {"", false}} {
		h := mcpHarness(t, "")
		h.stdin = tc.answer
		r := h.runWith(func(f *cli.Factory) {
			f.IOStreams.SetStdinTTY(true)
			f.IOStreams.SetStderrTTY(true)
		}, "chat", "-m", "kimi-k2-turbo-preview", "--format", "text", "-q", "--mcp", "echo", "say hi")
		if r.code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.answer, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, `run echo from MCP server echo with {"text":"hi"}? [y]es, [n]o, [a]lways for this tool: `) {
			t.Fatalf("%q: no prompt: %q", tc.answer, r.stderr)
		}
		if ran := r.stdout == "The tool said: hi\n"; ran != tc.ran {
			t.Fatalf("%q: stdout %q", tc.answer, r.stdout)
		}
	}
}

func TestMCPUnknownServerIsAUsageError(t *testing.T) {
	h := mcpHarness(t, "")
	r := h.run("chat", "--mcp", "nope", "x")
	if r.code != 2 || !strings.Contains(r.stderr, "nope") || len(h.chatBodies()) != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}
