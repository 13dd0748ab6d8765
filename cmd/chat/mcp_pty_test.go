//go:build unix

package chat_test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
)

// The approval of MCP calls as a user meets it: moonchat in a pseudo-terminal, the emulator's
// model calling the echo tool of pkg/mcphost's Go SDK server, the screen read through the VT
// of these tests and the history read after.

const approvalAsk = "? [y]es, [n]o, [a]lways for this tool: "

// refused is what the model reads of a call the user did not approve.
const refused = "error: the user did not approve this call of echo/echo"

func TestMCPApprovalOneShotInAPseudoTerminal(t *testing.T) {
	for _, tc := range []struct {
		answer string
		result string
	}{{"y", "say hi"}, {"always", "say hi"}, {"n", refused}} {
		t.Run(tc.answer, func(t *testing.T) {
			srv, echo := withEcho(t, "")
			callsTool(srv, "echo", textArgs)
			term := startTerminal(t, 100, 30, "chat", "-m", "kimi-k2.6", "--no-thinking", "--mcp", "echo", "say hi")
			term.expectScreen(approvalAsk, `run echo from MCP server echo with {"text":"say hi"}`+strings.TrimSpace(approvalAsk))
			term.typeKeys(tc.answer + "\r")
			term.exits(0)
			screen := strings.Join(readScreen(t, term.output(), 100, 30), "\n")
			t.Logf("the screen:\n%s", screen)
			if !strings.Contains(screen, "The tool said: "+tc.result) {
				t.Errorf("the answer is not on the screen")
			}
			convs := clitest.Conversations(t)
			if len(convs) != 1 || roleList(convs[0].Msgs) != "user,assistant,tool,assistant" {
				t.Fatalf("saved %+v", convs)
			}
			if msgs := convs[0].Msgs; msgs[2].Content != tc.result || msgs[2].Name != "echo" ||
				!strings.Contains(string(msgs[1].ToolCalls), `"name":"echo"`) || msgs[3].Content != "The tool said: "+tc.result {
				t.Errorf("history %+v", msgs)
			}
			noOrphans(t, echo)
		})
	}
}

// In the session each call is asked about with one key: yes, no, Ctrl-C (which stops the
// answer, keeps what happened and comes back to the prompt), and always, after which the
// tool runs for the rest of the session without asking.
func TestMCPApprovalInTheSessionInAPseudoTerminal(t *testing.T) {
	srv, echo := withEcho(t, "")
	callsTool(srv, "echo", textArgs)
	term := startSession(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--raw", "--mcp", "echo", "--tool", "moonshot/date:latest")
	term.expectScreen(" › ", "moonchat kimi-k2.6 ·", "tools: moonshot/date:latest (run by Moonshot, no approval needed); MCP echo (each call asks for approval)")
	asked := func(q string) {
		t.Helper()
		term.typeKeys(q + "\r")
		term.expectScreen(approvalAsk, `run echo from MCP server echo with {"text":"`+q+`"}`+strings.TrimSpace(approvalAsk))
	}

	asked("first")
	term.typeKeys("y")
	term.expect("The tool said: first")
	term.expect(" › ")
	asked("second")
	term.typeKeys("n")
	term.expect("The tool said: " + refused)
	term.expect(" › ")
	asked("third")
	term.typeKeys("\x03")
	term.expect("(stopped")
	term.expect(" › ")
	asked("fourth")
	term.typeKeys("a")
	term.expect("The tool said: fourth")
	term.expect(" › ")
	// Always: the fifth call runs without a question.
	term.enter("fifth", "The tool said: fifth")
	// The line editor's cursor moves are beyond internal/vt: the session's screen is read
	// through the VT of the session tests, which follows them.
	screen := term.screen()
	t.Logf("the screen:\n%s", screen)
	if n := strings.Count(screen, strings.TrimSpace(approvalAsk)); n != 4 {
		t.Errorf("asked %d times, want 4", n)
	}
	for _, answer := range []string{approvalAsk + "yes", approvalAsk + "no", approvalAsk + "always"} {
		if !strings.Contains(screen, answer) {
			t.Errorf("the screen lacks %q", answer)
		}
	}
	if processes := processesOf(t, echo); len(processes) != 1 {
		t.Errorf("the session runs %d echo servers, want 1 for the whole session: %q", len(processes), processes)
	}
	term.quit()

	convs := savedN(t, 1)
	msgs := convs[0].Msgs
	var got []string
	for _, m := range msgs {
		if m.Role == "tool" {
			got = append(got, m.Content)
		}
	}
	want := []string{"first", refused, "error: stopped before the tool answered", "fourth", "fifth"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tool results saved: %q, want %q", got, want)
	}
	// The stopped exchange keeps its question and its call, its answer marked interrupted.
	for i, m := range msgs {
		if m.Role == "user" && m.Content == "third" {
			if i+3 >= len(msgs) || msgs[i+1].Role != "assistant" || len(msgs[i+1].ToolCalls) == 0 || msgs[i+2].Role != "tool" {
				t.Errorf("the stopped exchange: %s", roleList(msgs[i:]))
			} else if a := msgs[i+3]; a.Role != "assistant" || !a.Interrupted {
				t.Errorf("the stopped exchange ends with %+v", a)
			}
		}
	}
	noOrphans(t, echo)
}

// Ctrl-C while an MCP call runs in the session stops the answer, not the session: the call is
// saved as stopped, the prompt comes back, and the server keeps running for the next
// question until the session ends.
func TestCtrlCDuringAnMCPCallInTheSession(t *testing.T) {
	srv, echo := withEcho(t, "")
	callsTool(srv, "slow", func(string) string { return `{}` })
	term := startSession(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--raw", "--mcp", "echo", "--yes")
	term.expectScreen(" › ", "tools: MCP echo (--yes approves every call)")
	term.typeKeys("wait for it\r")
	term.expect("running slow…")
	term.typeKeys("\x03")
	term.expect("(stopped")
	term.expect(" › ")
	if running := processesOf(t, echo); len(running) != 1 {
		t.Errorf("the server's processes after Ctrl-C: %q", running)
	}
	callsTool(srv, "echo", textArgs)
	term.enter("again", "The tool said: again")
	term.quit()
	convs := savedN(t, 1)
	msgs := convs[0].Msgs
	if got := roleList(msgs); got != "user,assistant,tool,assistant,user,assistant,tool,assistant" {
		t.Fatalf("saved %s", got)
	}
	if msgs[2].Content != "error: stopped before the tool answered" || !msgs[3].Interrupted || msgs[6].Content != "again" {
		t.Errorf("history %+v", msgs)
	}
	noOrphans(t, echo)
}

// SIGTERM while the session asks about a call ends moonchat (143) instead of waiting for a
// key, with the exchange saved and the server stopped.
func TestSIGTERMAtTheApprovalPromptInTheSession(t *testing.T) {
	srv, echo := withEcho(t, "")
	callsTool(srv, "echo", textArgs)
	term := startSession(t, "chat", "-m", "kimi-k2.6", "--no-thinking", "--raw", "--mcp", "echo")
	term.expect(" › ")
	term.typeKeys("first\r")
	term.expect(approvalAsk)
	if err := term.proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	term.exits(143)
	convs := clitest.Conversations(t)
	if len(convs) != 1 || roleList(convs[0].Msgs) != "user,assistant,tool,assistant" ||
		convs[0].Msgs[2].Content != "error: stopped before the tool answered" {
		t.Fatalf("saved %+v", convs)
	}
	noOrphans(t, echo)
}
