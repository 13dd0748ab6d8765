package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/history"
)

// seedHistory writes conversations into the database that moonchat uses in this test's
// environment (XDG_DATA_HOME from isolate), and closes it again.
func seedHistory(t *testing.T, convs ...history.Conversation) {
	t.Helper()
	clitest.WriteHistory(t, func(ctx context.Context, s *history.Store) {
		for _, c := range convs {
			c, err := s.Create(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Append(ctx, c.ID, history.Message{Role: "user", Content: "question " + c.ID},
				history.Message{Role: "assistant", Content: "answer " + c.ID}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestHistoryShowsWhatChatSaved(t *testing.T) {
	h := newHarness(t)
	chat := h.run("chat", "hello")
	if chat.code != 0 || chat.stdout == "" {
		t.Fatalf("chat: exit %d: %s", chat.code, chat.stderr)
	}
	r := h.run("log", "list")
	id, title, _ := strings.Cut(strings.TrimSuffix(r.stdout, "\n"), "\t")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || title != "hello" {
		t.Fatalf("log list: exit %d, %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Piped, show prints the prompt marked and the answer exactly as chat printed it.
	r = h.run("history", "show", id)
	if r.code != 0 || r.stdout != "> hello\n\n"+chat.stdout {
		t.Fatalf("history show: exit %d, %q, stderr %q; chat printed %q", r.code, r.stdout, r.stderr, chat.stdout)
	}
}

func TestHistoryErrorsThroughTheRoot(t *testing.T) {
	h := newHarness(t)
	seedHistory(t, history.Conversation{ID: "ab12cd34"}, history.Conversation{ID: "ab98ef76"})
	for _, tt := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"history", "show", "ab"}, 2, []string{
			"moonchat: \"ab\" matches 2 conversations\n",
			"  hint: use more of the id, or the exact title; it matches:\n    ab98ef76  question ab98ef76\n    ab12cd34  question ab12cd34\n"}},
		{[]string{"history", "rm", "zz"}, 2, []string{"moonchat: no conversation matches \"zz\"\n", "hint: `moonchat history list` shows the ids"}},
		{[]string{"history", "show"}, 2, []string{"accepts 1 arg(s), received 0", "hint: run 'moonchat history show --help'"}},
		{[]string{"history", "export", "ab12", "ab98"}, 2, []string{"accepts 1 arg(s), received 2"}},
		{[]string{"history", "rm", "--older-than"}, 2, []string{"flag needs an argument: --older-than"}},
		{[]string{"history", "rm", "--older-than", "30d", "ab12"}, 2, []string{"not both"}},
		{[]string{"history", "lsit"}, 2, []string{`unknown command "lsit" for "moonchat history" (did you mean "list"?)`}},
		{[]string{"history", "list", "extra"}, 2, []string{"takes no arguments"}},
	} {
		r := h.run(tt.args...)
		if r.code != tt.code || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, r.code, r.stdout, r.stderr)
			continue
		}
		r.saysAll(t, tt.want...)
	}
	if r := h.run("history", "list"); strings.Count(r.stdout, "\n") != 2 {
		t.Fatalf("a failed command deleted something: %q", r.stdout)
	}
}

func TestHistoryCorruptDatabaseExits1(t *testing.T) {
	h := newHarness(t)
	path, err := history.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run("history", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "is not a valid SQLite database") ||
		!strings.Contains(r.stderr, "  hint: moonchat leaves the file as it is; to start an empty history, rename it: mv ") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != "not a database" {
		t.Fatalf("file changed: %q", data)
	}
}
