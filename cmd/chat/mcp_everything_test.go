//go:build unix

package chat_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/mcptest"
)

// `moonchat chat` against a server nobody here wrote: the npm-published reference server
// @modelcontextprotocol/server-everything over stdio, run as CI runs moonchat (no terminal).
// Skipped without node and npm (unless MOONCHAT_REQUIRE_NPM=1, as in .ci/run).

// everythingConfig writes a config with the reference server as "everything", plus extra, and
// returns what tells its processes from others': the path of the test's own link to its script.
func everythingConfig(t *testing.T, extra string) string {
	t.Helper()
	command, args := mcptest.Everything(t)
	link := filepath.Join(t.TempDir(), "everything-server.js")
	if err := os.Symlink(args[0], link); err != nil {
		t.Fatal(err)
	}
	args = append([]string{link}, args[1:]...)
	quoted, _ := json.Marshal(args)
	writeConfig(t, "mcp_servers:\n  everything:\n    command: "+command+"\n    args: "+string(quoted)+"\n"+extra)
	return link
}

func messageArgs(q string) string {
	b, _ := json.Marshal(map[string]string{"message": q})
	return string(b)
}

// runChat runs moonchat with stdin, stdout and stderr not terminals, and returns its output
// and exit code.
func runChat(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	proc := moonchat(args...)
	var out, errOut bytes.Buffer
	proc.Stdout, proc.Stderr = &out, &errOut
	err := proc.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestChatWithEverythingServer(t *testing.T) {
	t.Run("allow_tools", func(t *testing.T) {
		srv := isolated(t)
		server := everythingConfig(t, "allow_tools: [everything/echo]\n")
		callsTool(srv, "echo", messageArgs)
		stdout, stderr, code := runChat(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--mcp", "everything", "say moon")
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
		if code != 0 || stdout != "The tool said: Echo: say moon\n" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		if !strings.Contains(stderr, `echo {"message":"say moon"} → 14 B, `) || strings.Contains(stderr, "approve") {
			t.Errorf("stderr %q", stderr)
		}
		convs := clitest.Conversations(t)
		if len(convs) != 1 || roleList(convs[0].Msgs) != "user,assistant,tool,assistant" || convs[0].Msgs[2].Content != "Echo: say moon" {
			t.Fatalf("saved %+v", convs)
		}
		noOrphans(t, server)
	})

	t.Run("refused", func(t *testing.T) {
		srv := isolated(t)
		server := everythingConfig(t, "")
		callsTool(srv, "echo", messageArgs)
		stdout, stderr, code := runChat(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--mcp", "everything", "say moon")
		if code != 0 || stdout != "The tool said: error: the user did not approve this call of everything/echo\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "not approved: everything/echo (give --yes, or add it to allow_tools)") {
			t.Errorf("stderr %q", stderr)
		}
		convs := clitest.Conversations(t)
		if len(convs) != 1 || roleList(convs[0].Msgs) != "user,assistant,tool,assistant" ||
			convs[0].Msgs[2].Content != "error: the user did not approve this call of everything/echo" {
			t.Fatalf("saved %+v", convs)
		}
		noOrphans(t, server)
	})

	// Ctrl-C while the server works on a call: exit 130, the call saved as stopped, the server
	// gone with moonchat.
	t.Run("Ctrl-C", func(t *testing.T) {
		srv := isolated(t)
		const slow = "trigger-long-running-operation"
		server := everythingConfig(t, "allow_tools: [everything/"+slow+"]\n")
		callsTool(srv, slow, func(string) string { return `{"duration":60,"steps":60}` })
		proc := moonchat("chat", "-m", "kimi-k2.6", "--no-thinking", "--mcp", "everything", "--format", "jsonl", "take your time")
		out, err := proc.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		proc.Stderr = &stderr
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for lines.Scan() && !strings.Contains(lines.Text(), `"type":"tool_call"`) {
		}
		// The check for orphans below sees the server while it runs.
		if running := processesOf(t, server); len(running) != 1 {
			t.Fatalf("the server's processes: %q", running)
		}
		if err := proc.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() {
		}
		err = proc.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 130 {
			t.Fatalf("%v; stderr %q", err, stderr.String())
		}
		convs := clitest.Conversations(t)
		if len(convs) != 1 || roleList(convs[0].Msgs) != "user,assistant,tool,assistant" ||
			convs[0].Msgs[2].Content != "error: stopped before the tool answered" || !convs[0].Msgs[3].Interrupted {
			t.Fatalf("saved %+v", convs)
		}
		noOrphans(t, server)
	})
}
