//go:build unix

package chat_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	term.typeKeys("/ro\t") // completion: /role
	term.typeKeys("sh\t")  // completion: shell
	term.expect("/role shell ")
	term.typeKeys("\r")
	term.expect("role shell")
	term.typeKeys("/file " + dir + "/no\t") // completion of the path
	term.expect("notes.txt ")
	term.typeKeys("\r")
	term.expect("attached to the next question")
	term.typeKeys("How do I do what the notes say?\r")
	term.expect("saved as conversation ")
	term.expect(" › ")
	term.typeKeys("/copy code\r")
	term.expect("copied code block 1 of 1")
	term.typeKeys("/fork\r")
	term.expect("forked ")
	term.typeKeys("/usage\r")
	term.expect("conversation so far: 1 answer")
	term.typeKeys("/resume " + earlier.ID[:4] + "\r")
	term.expect("resumed conversation " + earlier.ID)
	term.expectPrompt("kimi-k2.6")
	term.typeKeys("\x04")
	term.wait()
	t.Logf("the session, as the terminal showed it:\n%s", term.screen())

	convs := savedConversations(t)
	if len(convs) != 3 {
		t.Fatalf("%d conversations saved, want the earlier one, the session's and its fork", len(convs))
	}
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
