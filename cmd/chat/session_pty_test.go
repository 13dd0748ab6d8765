//go:build unix

package chat_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// These tests drive the session's commands in a pseudo-terminal, as a user types them, and
// check the screen and the history database after.

// chatModels are the models of the chat requests the emulator received, in order.
func chatModels(srv *emulator.Server) []string {
	var models []string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			models = append(models, r.JSON()["model"].(string))
		}
	}
	return models
}

// expectScreen waits for text to appear, then checks that the screen, as a VT shows it, has
// every one of want.
func (term *terminal) expectScreen(text string, want ...string) {
	term.t.Helper()
	term.expectShown(text)
	screen := term.screen()
	for _, w := range want {
		if !strings.Contains(screen, w) {
			term.t.Errorf("the screen lacks %q:\n%s", w, screen)
		}
	}
}

func TestSessionTabCompletionInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	dir := t.TempDir()
	for _, name := range []string{"notes.txt", "photo.png", "sub/inner.go"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw")
	term.expect(" › ")
	term.typeKeys("hello moon\r")
	term.expect("saved as conversation ")
	term.expect(" › ")
	id := savedConversations(t)[0].ID

	// A command name: one match is inserted whole, with its space.
	term.typeKeys("/mod\t")
	term.expect("/model ")
	// Model ids, with the descriptions shell completion gives them.
	term.typeKeys("kimi-k2.\t")
	spec, _ := moonshot.LookupModel("kimi-k2.6")
	term.expectScreen(cli.ModelSummary(spec), "kimi-k2.5", "kimi-k2.6", "kimi-k2.7-code")
	term.typeKeys("\x15") // Ctrl-U drops the line and the menu
	// Conversation ids with their titles.
	term.typeKeys("/resume \t")
	term.expectScreen(id, "hello moon")
	term.typeKeys("\x15")
	// Paths: /file takes any file, /image only images (and directories to go on).
	term.typeKeys("/file " + dir + "/no\t")
	term.expect("notes.txt ")
	term.typeKeys("\x15/image " + dir + "/\t")
	term.expectScreen("photo.png", "sub/")
	if strings.Contains(term.screen(), "notes.txt") {
		t.Errorf("/image offered a text file:\n%s", term.screen())
	}
	term.typeKeys("\x15")

	// An unknown model is refused, and the session stays on its model.
	term.typeKeys("/model gpt-4o\r")
	term.expect("unknown model")
	term.expect("still on kimi-k2-turbo-preview")
	term.typeKeys("again\r")
	term.expect("You said: again")
	term.expect(" › ")
	term.typeKeys("\x04")
	term.wait()
	t.Logf("the session, as the terminal showed it:\n%s", term.screen())
	if got := chatModels(srv); strings.Join(got, ",") != "kimi-k2-turbo-preview,kimi-k2-turbo-preview" {
		t.Errorf("models asked = %q", got)
	}
	c := savedConversations(t)
	if len(c) != 1 || c[0].Model != "kimi-k2-turbo-preview" || roleList(c[0].msgs) != "user,assistant,user,assistant" {
		t.Errorf("saved %+v", c)
	}
}
