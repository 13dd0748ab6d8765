//go:build unix

package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// These tests drive the session's commands in a pseudo-terminal, as a user types them, and
// check the screen and the history database after.

// chatModels are the models of the chat requests the emulator received, in order.
func chatModels(srv *emulator.Server) []string {
	var models []string
	for _, b := range srv.ChatBodies() {
		models = append(models, b["model"].(string))
	}
	return models
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
	term.enter("hello moon", "saved as conversation ")
	id := clitest.Conversations(t)[0].ID

	// A command name: one match is inserted whole, with its space.
	term.typeKeys("/mod\t")
	term.expect("/model ")
	// Model ids, with the descriptions shell completion gives them.
	term.typeKeys("kimi-k2.\t")
	spec, _ := moonshot.LookupModel("kimi-k2.6")
	term.expectScreen(cli.ModelSummary(spec), "kimi-k2.6", "kimi-k2.7-code")
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
	term.enter("again", "You said: again")
	term.quit()
	if got := chatModels(srv); strings.Join(got, ",") != "kimi-k2-turbo-preview,kimi-k2-turbo-preview" {
		t.Errorf("models asked = %q", got)
	}
	c := clitest.Conversations(t)
	if len(c) != 1 || c[0].Model != "kimi-k2-turbo-preview" || roleList(c[0].Msgs) != "user,assistant,user,assistant" {
		t.Errorf("saved %+v", c)
	}
}

// seedConversation runs `moonchat chat ARGS` once, which must succeed, and returns the
// conversation it saved (the newest).
func seedConversation(t *testing.T, args ...string) clitest.Saved {
	t.Helper()
	if out, err := moonchat(append([]string{"chat", "--raw"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("moonchat chat %q: %v\n%s", args, err, out)
	}
	return clitest.Conversations(t)[0]
}

func TestSessionResumeRecapAndNewInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	long := "First line of the answer.\n\n" + strings.Repeat("filler line\n", 20) + "LAST LINE"
	srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		if len(req.Messages) == 1 {
			return emulator.Reply{Content: long}
		}
		return emulator.Reply{Content: "short answer"}
	})
	first := seedConversation(t, "-m", "kimi-k2-turbo-preview", "Tell me about the tides")
	seedConversation(t, "-m", "kimi-k2.5", "Another topic")

	// --conversation shows the recap before the prompt: the question and the first lines
	// of the answer, not all of it.
	term := startSession(t, "chat", "--conversation", first.ID[:4])
	term.expect("continuing conversation " + first.ID)
	term.expectShown("│ Tell me about the tides") // a rendered quote
	term.expectShown("First line of the answer.")
	term.expectPrompt("kimi-k2-turbo-preview")
	if strings.Contains(term.output(), "LAST LINE") {
		t.Errorf("the recap showed the whole answer:\n%s", term.screen())
	}
	// /new starts over; /resume by title goes back, with the conversation's model.
	term.typeKeys("/new\r")
	term.expect("new conversation")
	term.typeKeys("/model kimi-k2.6\r")
	term.expect("model: kimi-k2.6")
	term.typeKeys("/resume Another topic\r")
	term.expect("resumed conversation")
	term.expectShown("│ Another topic")
	term.expectPrompt("kimi-k2.5")
	term.typeKeys("/resume " + first.ID + "\r")
	term.expect("resumed conversation " + first.ID)
	term.expectPrompt("kimi-k2-turbo-preview")
	term.typeKeys("And the moon?\r")
	term.expectShown("short answer")
	term.expect(" › ")
	term.enter("/resume nosuchthing", `no conversation matches "nosuchthing"`)
	term.quit()

	// The session added to the first.
	convs := savedN(t, 2)
	c := convs[0] // updated last
	if c.ID != first.ID || roleList(c.Msgs) != "user,assistant,user,assistant" || c.Msgs[2].Content != "And the moon?" || c.Msgs[3].Model != "kimi-k2-turbo-preview" {
		t.Errorf("the resumed conversation saved: %s %s %+v", c.ID, roleList(c.Msgs), c.Msgs)
	}
	if got := userMessages(srv); got[len(got)-1] != "And the moon?" {
		t.Errorf("last question sent = %q", got[len(got)-1])
	}
	if msgs := lastMessages(t, srv); len(msgs) != 3 || msgs[0].(map[string]any)["content"] != "Tell me about the tides" {
		t.Errorf("the resumed question was not sent after the conversation's turns: %v", msgs)
	}
}

func TestSessionUsageInAPseudoTerminal(t *testing.T) {
	isolated(t)
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw", "-u")
	term.expect(" › ")
	term.typeKeys("/usage\r")
	term.expect("conversation so far: no answers yet")
	term.enter("one", "conversation so far: 1 answer: ")
	term.enter("two", "conversation so far: 2 answers: ")
	term.enter("/usage", "conversation so far: 2 answers: ")
	term.quit()

	// The totals are those of the answers saved.
	c := clitest.Conversations(t)[0]
	var prompt, completion, cached int
	var cost float64
	spec, _ := moonshot.LookupModel("kimi-k2-turbo-preview")
	for _, m := range c.Msgs {
		if m.Role == "assistant" {
			prompt, completion, cached = prompt+m.PromptTokens, completion+m.CompletionTokens, cached+m.CachedTokens
			cost += spec.Price.Cost(&moonshot.Usage{PromptTokens: m.PromptTokens, CompletionTokens: m.CompletionTokens, CachedTokens: m.CachedTokens})
		}
	}
	if prompt == 0 || completion == 0 {
		t.Fatalf("the emulator reported no usage: %+v", c.Msgs)
	}
	want := fmt.Sprintf("conversation so far: 2 answers: %d prompt + %d completion tokens (%d cached) · ≈ USD %.6f", prompt, completion, cached, cost)
	if n := strings.Count(term.screen(), want); n != 2 {
		t.Errorf("%q shown %d times, want 2 (-u after the second answer, /usage):\n%s", want, n, term.screen())
	}
}

func TestSessionTitleAndForkInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw", "--title", "Trip plan")
	term.expect(" › ")
	term.enter("/fork", "nothing to fork yet")
	term.enter("Three days in Kyoto", "saved as conversation ")
	term.enter("/fork", "forked ")
	term.enter("Now on a budget", "You said: Now on a budget")
	term.quit()

	convs := savedN(t, 2)
	fork, orig := convs[0], convs[1]
	if orig.Title != "Trip plan" || roleList(orig.Msgs) != "user,assistant" {
		t.Errorf("the original: %q %s", orig.Title, roleList(orig.Msgs))
	}
	if fork.Title != "Trip plan (fork)" || roleList(fork.Msgs) != "user,assistant,user,assistant" ||
		fork.Msgs[0].Content != "Three days in Kyoto" || fork.Msgs[2].Content != "Now on a budget" {
		t.Errorf("the fork: %q %+v", fork.Title, fork.Msgs)
	}
	if !strings.Contains(term.screen(), "forked "+orig.ID+" into "+fork.ID) {
		t.Errorf("the note does not name both conversations:\n%s", term.screen())
	}
	// The question after /fork was sent after the conversation so far.
	if msgs := lastMessages(t, srv); len(msgs) != 3 {
		t.Errorf("the last request sent %d messages, want 3", len(msgs))
	}
}

// writePNG writes a 1×1 PNG image.
func writePNG(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSessionFileAndImageInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	dir := t.TempDir()
	notes, pic := filepath.Join(dir, "notes.txt"), filepath.Join(dir, "pic.png")
	if err := os.WriteFile(notes, []byte("the secret word is lantern\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writePNG(t, pic)
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw")
	term.expect(" › ")
	term.enter("/file "+filepath.Join(dir, "missing.txt"), "no such file or directory")
	term.enter("/file "+notes, "notes.txt attached to the next question (1 in all)")
	// An image needs a vision model: refused on this one, taken after /model.
	term.enter("/image "+pic, "does not accept images")
	term.enter("/image "+notes, "is not an image Moonshot accepts")
	term.typeKeys("/model kimi-k2.6\r")
	term.expect("model: kimi-k2.6")
	term.enter("/image "+pic, "pic.png attached to the next question (2 in all)")
	term.enter("What is the secret word?", "saved as conversation")
	// Attachments go with one question only.
	term.enter("And now?", "You said: And now?")
	term.quit()

	bodies := srv.ChatBodies()
	if len(bodies) != 2 {
		t.Fatalf("%d chat requests", len(bodies))
	}
	first, _ := json.Marshal(bodies[0]["messages"])
	if !bytes.Contains(first, []byte("the secret word is lantern")) || !bytes.Contains(first, []byte("data:image/png;base64,")) {
		t.Errorf("the first question did not carry the file and the image: %s", first)
	}
	second := bodies[1]["messages"].([]any)
	if last, _ := json.Marshal(second[len(second)-1]); bytes.Contains(last, []byte("lantern")) || bytes.Contains(last, []byte("image_url")) {
		t.Errorf("the second question carried the attachments again: %s", last)
	}
	c := clitest.Conversations(t)[0]
	if roleList(c.Msgs) != "user,assistant,user,assistant" {
		t.Fatalf("saved %s", roleList(c.Msgs))
	}
	if q := c.Msgs[0].Content; !strings.Contains(q, "[image: "+pic+"]") || !strings.Contains(q, "the secret word is lantern") || strings.Contains(q, "base64") {
		t.Errorf("saved question = %q", q)
	}
}

// writeRoles writes a config file with two roles into the isolated home.
func writeRoles(t *testing.T) {
	t.Helper()
	writeConfig(t, `roles:
  shell: Answer with one POSIX shell command.
  reviewer:
    system: You review Go code.
    model: kimi-k2.6
    temperature: 0.3
    thinking: false
`)
}

func TestSessionRolesInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	writeRoles(t)
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw", "-r", "shell")
	term.expectPrompt("kimi-k2-turbo-preview (shell)")
	term.enter("list files", "saved as conversation")
	// Tab completes role names, described by their model and system prompt.
	term.typeKeys("/role \t")
	term.expectScreen("You review Go code.", "reviewer", "shell")
	term.typeKeys("\x15/role rev\t")
	term.expect("reviewer ")
	term.typeKeys("\r")
	term.expect("role reviewer · model kimi-k2.6")
	term.expectPrompt("kimi-k2.6 (reviewer)")
	term.typeKeys("review this\r")
	// The role's model goes through the fixes, with their notices.
	term.expectShown("temperature")
	term.expectShown("You said: review this")
	term.expect(" › ")
	term.enter("/role nosuch", `no role "nosuch"; the roles are reviewer, shell`)
	term.quit()

	bodies := srv.ChatBodies()
	if len(bodies) != 2 {
		t.Fatalf("%d requests", len(bodies))
	}
	system := func(b map[string]any) any { return b["messages"].([]any)[0].(map[string]any)["content"] }
	if bodies[0]["model"] != "kimi-k2-turbo-preview" || system(bodies[0]) != "Answer with one POSIX shell command." {
		t.Errorf("first request: %v, system %v", bodies[0]["model"], system(bodies[0]))
	}
	if b := bodies[1]; b["model"] != "kimi-k2.6" || system(b) != "You review Go code." || fmt.Sprint(b["thinking"]) != "map[type:disabled]" {
		t.Errorf("second request: model %v, system %v, thinking %v", b["model"], system(b), b["thinking"])
	}
	c := clitest.Conversations(t)[0]
	if c.System != "You review Go code." || c.Model != "kimi-k2.6" || c.Msgs[3].Model != "kimi-k2.6" || c.Msgs[1].Model != "kimi-k2-turbo-preview" {
		t.Errorf("saved: system %q, model %q, answers by %q and %q", c.System, c.Model, c.Msgs[1].Model, c.Msgs[3].Model)
	}
}

func TestSessionEditConfirmAndEditLastInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	dir := t.TempDir()
	// The editor appends to what it is given, as a user would type after the text.
	editor := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nt=$(cat \"$1\")\nprintf '%s, in French' \"${t:-Count to three}\" > \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", editor)
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw")
	term.expect(" › ")
	// Closing the editor shows the text; Esc discards it.
	term.typeKeys("/edit\r")
	term.expect("Count to three, in French")
	term.expect("Enter sends · Esc discards")
	term.typeKeys("\x1b")
	term.expect("discarded; nothing sent")
	term.expect(" › ")
	// Enter sends it.
	term.typeKeys("/edit\r")
	term.expect("Enter sends · Esc discards")
	term.enter("", "You said: Count to three, in French")
	// /edit last starts from the last question and replaces its exchange.
	term.typeKeys("/edit last\r")
	term.expect("Count to three, in French, in French")
	term.expect("Enter sends · Esc discards")
	term.enter("", "You said: Count to three, in French, in French")
	term.quit()

	if got := userMessages(srv); len(got) != 2 || got[1] != "Count to three, in French, in French" {
		t.Errorf("questions sent = %q", got)
	}
	if msgs := lastMessages(t, srv); len(msgs) != 1 {
		t.Errorf("the edited question was sent after %d messages; the replaced exchange must not be", len(msgs)-1)
	}
	// The history keeps the replaced exchange, marked, before the new one.
	convs := savedN(t, 1)
	msgs := convs[0].Msgs
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%s %q replaced=%v", m.Role, m.Content[:min(len(m.Content), 36)], m.Replaced))
	}
	if roleList(msgs) != "user,assistant,user,assistant" || !msgs[0].Replaced || !msgs[1].Replaced || msgs[2].Replaced || msgs[3].Replaced ||
		msgs[0].Content != "Count to three, in French" || msgs[2].Content != "Count to three, in French, in French" {
		t.Errorf("saved:\n%s", strings.Join(got, "\n"))
	}
	// A continuation sends the conversation without the replaced exchange.
	if out, err := moonchat("chat", "--raw", "-c", "-m", "kimi-k2-turbo-preview", "and then?").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if msgs := lastMessages(t, srv); len(msgs) != 3 {
		t.Errorf("-c sent %d messages, want the new exchange and the question", len(msgs))
	}
}

func TestSessionRefusedKeyHintInAPseudoTerminal(t *testing.T) {
	isolated(t)
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong-key-0123456789")
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw")
	term.expect(" › ")
	term.typeKeys("hello\r")
	term.expect("401")
	term.expectShown("hint: the key comes from $MOONSHOT_API_KEY; check it, or set up another with `moonchat config init`.")
	term.expectShown("(api_base, from $MOONSHOT_API_BASE), which overrides the region")
	term.expect(" › ")
	term.quit()
	if strings.Contains(term.output(), "sk-wrong-key") {
		t.Error("the key was shown")
	}
	if c := clitest.Conversations(t); len(c) != 0 {
		t.Errorf("a refused question saved %d conversations", len(c))
	}
}
