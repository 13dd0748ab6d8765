//go:build unix

package chat_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
)

// TestSessionTourInAPseudoTerminal is one session that uses most of what the session offers,
// as a user would: completion, a role, /file, /copy code, /resume, /fork and /usage. Its log
// is the transcript of the session as the terminal showed it.
func TestSessionTourInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	writeRoles(t)
	srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "Use a loop:\n\n```sh\nfor f in *.txt; do wc -l \"$f\"; done\n```\n"}
	})
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("count the lines of every text file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	earlier := seedConversation(t, "-m", "kimi-k2.6", "--no-thinking", "An earlier question")

	term := startSession(t, "chat", "-m", "kimi-k2.6", "--no-thinking")
	term.expect(" › ")
	term.typeKeys("/r\t") // the menu of commands that start with r
	term.expectScreen("switch to a saved conversation", "/role", "/resume", "/retry")
	t.Logf("the menu after /r and Tab:\n%s", term.screen())
	term.typeKeys("\x15/role \t") // the menu of roles
	term.expectScreen("Answer with one POSIX shell command.", "reviewer", "shell")
	t.Logf("the menu after /role and Tab:\n%s", term.screen())
	term.typeKeys("\x15/role sh\t") // one match: completed
	term.expect("/role shell ")
	term.enter("", "role shell")
	term.typeKeys("/file " + dir + "/no\t") // completion of the path
	term.expect("notes.txt ")
	term.enter("", "attached to the next question")
	term.enter("How do I do what the notes say?", "saved as conversation ")
	term.enter("/copy code", "copied code block 1 of 1")
	term.enter("/fork", "forked ")
	term.enter("/usage", "conversation so far: 1 answer")
	term.typeKeys("/resume \t") // the menu of recent conversations, with their titles
	term.expectScreen("An earlier question", earlier.ID)
	// Newest first: the fork, then the session's conversation, then the earlier one.
	screen := term.screen()
	if menu := screen[strings.LastIndex(screen, "\nconversations\n"):]; !strings.HasSuffix(menu, earlier.ID+"  -- An earlier question") ||
		strings.Index(menu, "(fork)") > strings.Index(menu, "say?\n") {
		t.Errorf("the conversations are not newest first:\n%s", screen)
	}
	t.Logf("the menu after /resume and Tab:\n%s", term.screen())
	term.typeKeys("\x15/resume " + earlier.ID[:4] + "\r")
	term.expect("resumed conversation " + earlier.ID)
	term.expectPrompt("kimi-k2.6")
	term.quit()

	// The earlier one, the session's and its fork.
	convs := savedN(t, 3)
	var sys []string
	for _, c := range convs {
		sys = append(sys, c.System)
	}
	if strings.Count(strings.Join(sys, "|"), "Answer with one POSIX shell command.") != 2 {
		t.Errorf("system prompts saved: %q", sys)
	}
	if got := osc52Sent(t, term.output()); len(got) != 1 || got[0] != "for f in *.txt; do wc -l \"$f\"; done\n" {
		t.Errorf("copied %q", got)
	}
}

// TestHistoryRenameForkSearchAsProcesses runs the history commands as a user does, on what a
// chat saved.
func TestHistoryRenameForkSearchAsProcesses(t *testing.T) {
	isolated(t)
	c := seedConversation(t, "-m", "kimi-k2.6", "--no-thinking", "--title", "Tides", "Why are there tides?")
	seedConversation(t, "--conversation", c.ID, "-m", "kimi-k2.6", "--no-thinking", "And on Mars?")
	run := func(args ...string) (string, int) {
		t.Helper()
		out, err := moonchat(args...).Output()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := run("history", "rename", c.ID[:4], "Tides", "on", "Earth"); code != 0 || out != "" {
		t.Fatalf("rename: exit %d, %q", code, out)
	}
	out, code := run("history", "fork", "Tides on Earth", "--at", "2")
	fork := strings.TrimSpace(out)
	if code != 0 || len(fork) != len(c.ID) {
		t.Fatalf("fork: exit %d, %q", code, out)
	}
	if _, code := run("history", "search", "no such words anywhere"); code != 1 {
		t.Errorf("a search with no match exited %d, want 1", code)
	}
	if out, code := run("history", "search", "Mars"); code != 0 || !strings.Contains(out, c.ID) {
		t.Errorf("search: exit %d, %q", code, out)
	}
	convs := clitest.Conversations(t)
	byID := map[string]clitest.Saved{}
	for _, s := range convs {
		byID[s.ID] = s
	}
	if got := byID[c.ID]; got.Title != "Tides on Earth" || len(got.Msgs) != 4 {
		t.Errorf("the original: %q with %d messages", got.Title, len(got.Msgs))
	}
	if got := byID[fork]; got.Title != "Tides on Earth (fork)" || roleList(got.Msgs) != "user,assistant" || got.Msgs[0].Content != "Why are there tides?" {
		t.Errorf("the fork: %q %+v", got.Title, got.Msgs)
	}
}
