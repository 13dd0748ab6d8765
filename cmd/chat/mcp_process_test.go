//go:build unix

package chat_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/mcptest"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/emulator"
)

// Helpers of the tests that run MCP servers under `moonchat chat` as a process: pkg/mcphost's
// Go SDK echo server, and the npm reference server.

// echoServer is pkg/mcphost's Go SDK echo server (TestMain removes it), through a link of the
// test's own: its processes are told from any other test's by their command.
func echoServer(t *testing.T) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "echoserver")
	if err := os.Symlink(mcptest.EchoServer(t), link); err != nil {
		t.Fatal(err)
	}
	return link
}

// writeConfig writes the config file of the isolated home.
func writeConfig(t *testing.T, yaml string) {
	t.Helper()
	clitest.WriteFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "moonchat", "config.yaml"), yaml)
}

// withEcho isolates the test with the echo server configured as the MCP server "echo" and
// the config lines extra after it, and returns the emulator and the echo server's path.
func withEcho(t *testing.T, extra string) (*emulator.Server, string) {
	t.Helper()
	srv := isolated(t)
	echo := echoServer(t)
	writeConfig(t, "mcp_servers:\n  echo:\n    command: "+echo+"\n"+extra)
	return srv, echo
}

// callsTool makes the emulator's model call tool with the arguments args makes of the
// question, and answer "The tool said: RESULT" once the result is sent back.
func callsTool(srv *emulator.Server, tool string, args func(question string) string) {
	srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == "tool" {
			return emulator.Reply{Content: "The tool said: " + last.Content}
		}
		return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: tool, Arguments: args(last.Content)}}}
	})
}

// textArgs is the echo server's arguments: {"text": question}.
func textArgs(q string) string {
	b, _ := json.Marshal(map[string]string{"text": q})
	return string(b)
}

// processesOf lists the live processes whose command line holds marker (zombies are dead).
func processesOf(t *testing.T, marker string) []string {
	t.Helper()
	out, err := exec.Command("ps", "-A", "-o", "stat=,pid=,args=").Output()
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	var found []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, marker) && !strings.HasPrefix(l, "Z") {
			found = append(found, l)
		}
	}
	return found
}

// noOrphans fails the test when a process of marker's server is still running.
func noOrphans(t *testing.T, marker string) {
	t.Helper()
	if left := processesOf(t, marker); len(left) > 0 {
		t.Errorf("server processes outlived moonchat:\n%s", strings.Join(left, "\n"))
	}
}

// The README's offline examples: the emulator's own model calls the official date tool, and
// the echo tool of an MCP server, with no reply scripted.
func TestOfflineToolExamplesOfTheREADME(t *testing.T) {
	_, echo := withEcho(t, "")
	stdout, stderr, code := runChat(t, "chat", "--offline", "--tool", "moonshot/date:latest", "what day is it")
	if code != 0 || !strings.Contains(stdout, "The tool said: 2026-01-01T00:00:01Z") || !strings.Contains(stderr, "date {} → 36 B, ") {
		t.Errorf("--tool: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = runChat(t, "chat", "--offline", "--mcp", "echo", "--yes", "hello moon")
	if code != 0 || !strings.Contains(stdout, "The tool said: hello moon") || !strings.Contains(stderr, `echo {"text":"hello moon"} → 10 B, `) ||
		strings.Contains(stderr, "reasoning_content") {
		t.Errorf("--mcp: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	noOrphans(t, echo)
}

// The bounds of the loop with an MCP server: --max-steps stops a model that keeps calling, and
// a result over 64 KB is cut with a marker; both are saved, and no server process is left.
func TestMCPLoopBoundsLeaveNoServer(t *testing.T) {
	t.Run("max-steps", func(t *testing.T) {
		srv, echo := withEcho(t, "")
		srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
			return emulator.Reply{ToolCalls: []emulator.ToolCall{{Name: "echo", Arguments: `{"text":"again"}`}}}
		})
		_, stderr, code := runChat(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--mcp", "echo", "--yes", "--max-steps", "2", "loop")
		if code == 0 || !strings.Contains(stderr, "more than 2 times") || !strings.Contains(stderr, "--max-steps") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		convs := clitest.Conversations(t)
		if len(convs) != 1 || strings.Count(roleList(convs[0].Msgs), "tool") != 2 {
			t.Errorf("saved %+v", convs)
		}
		noOrphans(t, echo)
	})
	t.Run("result cut", func(t *testing.T) {
		srv, echo := withEcho(t, "allow_tools: [echo/big]\n")
		callsTool(srv, "big", func(string) string { return `{"bytes":200000}` })
		_, stderr, code := runChat(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--mcp", "echo", "big")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		convs := clitest.Conversations(t)
		if len(convs) != 1 || roleList(convs[0].Msgs) != "user,assistant,tool,assistant" {
			t.Fatalf("saved %+v", convs)
		}
		// pkg/mcphost cuts an MCP result at the engine's cap, saying how much it kept.
		if r := convs[0].Msgs[2].Content; len(r) > converse.MaxToolResultBytes || !utf8.ValidString(r) ||
			!strings.HasSuffix(r, "[truncated by moonchat: 65482 of 200000 bytes shown]") {
			t.Errorf("the saved result is %d bytes, ending %q", len(r), r[max(len(r)-60, 0):])
		}
		// The call's line tells the size the tool returned, not the size after the cut.
		if !strings.Contains(stderr, "big {\"bytes\":200000} → 195.3 KB") {
			t.Errorf("stderr %q", stderr)
		}
		noOrphans(t, echo)
	})
}
