//go:build unix

package chat_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/cmd"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/mcptest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/history"
)

// These tests run moonchat as a process of its own: signals, the terminal and several
// processes sharing one history database are what they are about. The process is this test
// binary, which runs moonchat's real main when asked to (the re-exec trick), so nothing is
// built and the children are race-checked like the tests.

const runMoonchat = "MOONCHAT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMoonchat) == "1" {
		os.Exit(cmd.Main())
	}
	mcptest.Main(m)
}

// moonchat returns the command that runs `moonchat ARGS` in a process.
func moonchat(args ...string) *exec.Cmd {
	c := exec.Command(os.Args[0], args...)
	c.Env = append(os.Environ(), runMoonchat+"=1")
	return c
}

const processKey = "sk-test-process-0123456789"

// isolated starts an emulator and points a private home at it (clitest.Serve), with an empty
// key-binding file: the line editor would otherwise read the user's.
func isolated(t *testing.T) *emulator.Server {
	t.Helper()
	srv := clitest.Serve(t, emulator.Config{APIKey: processKey})
	inputrc := filepath.Join(t.TempDir(), "inputrc")
	clitest.WriteFile(t, inputrc, "")
	t.Setenv("INPUTRC", inputrc)
	return srv
}

// savedN is clitest.Conversations for a test that expects n of them: it fails with fewer or
// more.
func savedN(t *testing.T, n int) []clitest.Saved {
	t.Helper()
	convs := clitest.Conversations(t)
	if len(convs) != n {
		t.Fatalf("%d conversations saved, want %d", len(convs), n)
	}
	return convs
}

// lastMessages are the messages of the last chat request the emulator received.
func lastMessages(t *testing.T, srv *emulator.Server) []any {
	t.Helper()
	bodies := srv.ChatBodies()
	if len(bodies) == 0 {
		t.Fatal("no chat request was sent")
	}
	return bodies[len(bodies)-1]["messages"].([]any)
}

func roleList(msgs []history.Message) string {
	var r []string
	for _, m := range msgs {
		r = append(r, m.Role)
	}
	return strings.Join(r, ",")
}

func TestConcurrentProcessesLoseNoConversation(t *testing.T) {
	isolated(t)
	const n = 20
	var wg sync.WaitGroup
	failures := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			out, err := moonchat("chat", "-m", "kimi-k2-turbo-preview", fmt.Sprintf("question %02d", i)).CombinedOutput()
			if err != nil || !strings.Contains(string(out), fmt.Sprintf("You said: question %02d", i)) {
				failures <- fmt.Sprintf("process %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	convs := clitest.Conversations(t)
	var titles []string
	for _, c := range convs {
		titles = append(titles, c.Title)
		if roleList(c.Msgs) != "user,assistant" || c.Msgs[1].Content != "This is moonchat's offline emulator: no request left this machine.\n\nYou said: "+c.Title+"\n" {
			t.Errorf("conversation %s %q: %s %+v", c.ID, c.Title, roleList(c.Msgs), c.Msgs)
		}
	}
	sort.Strings(titles)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("question %02d", i))
	}
	if strings.Join(titles, ",") != strings.Join(want, ",") {
		t.Errorf("%d conversations saved: %q", len(convs), titles)
	}
}

func TestSessionInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	story := "Once upon a time, " + strings.Repeat("the moon listened. ", 60)
	srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		if len(req.Messages) == 1 {
			return emulator.Reply{Content: story}
		}
		return emulator.Reply{Content: "And they chatted happily ever after."}
	})
	// The first answer comes slowly, a piece every 100 ms: Ctrl-C lands in its middle.
	srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 100 * time.Millisecond})

	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw")
	term.expect("Ctrl-D quits")
	term.expect(" › ")
	term.typeKeys("Tell me a story\r")
	term.expect("Once upon a time")
	term.typeKeys("\x03") // Ctrl-C: the terminal sends SIGINT while the answer streams
	term.expect("stopped; the answer so far is saved")
	term.expect(" › ")
	term.enter("And then?", "happily ever after")
	term.quit() // Ctrl-D on an empty line

	convs := savedN(t, 1)
	c := convs[0]
	if roleList(c.Msgs) != "user,assistant,user,assistant" {
		t.Fatalf("saved %s", roleList(c.Msgs))
	}
	partial := c.Msgs[1]
	if !partial.Interrupted || !strings.HasPrefix(partial.Content, "Once upon a time") || !strings.HasPrefix(story, partial.Content) || partial.Content == story {
		t.Errorf("the interrupted answer saved = %+v", partial)
	}
	if c.Msgs[3].Content != "And they chatted happily ever after." || c.Msgs[3].Interrupted || c.Msgs[3].Incomplete {
		t.Errorf("the second answer saved = %+v", c.Msgs[3])
	}
	var second []string
	for _, m := range lastMessages(t, srv) {
		m := m.(map[string]any)
		second = append(second, fmt.Sprintf("%s: %s", m["role"], m["content"]))
	}
	if len(second) != 3 || second[1] != "assistant: "+partial.Content {
		t.Errorf("the second question was not sent after the partial answer: %q", second)
	}
	typed, err := os.ReadFile(filepath.Join(os.Getenv("XDG_DATA_HOME"), "moonchat", "input_history"))
	if err != nil || !bytes.Contains(typed, []byte("Tell me a story")) || !bytes.Contains(typed, []byte("And then?")) {
		t.Errorf("input history: %v %q", err, typed)
	}
	// The stopped answer was abandoned at the server too, not read to its end.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitCanceled(ctx, 1); err != nil {
		t.Errorf("the server did not see the first answer abandoned: %v", err)
	}
}

// userMessages returns the content of the last user message of each chat request.
func userMessages(srv *emulator.Server) []string {
	var out []string
	for _, b := range srv.ChatBodies() {
		msgs := b["messages"].([]any)
		out = append(out, fmt.Sprint(msgs[len(msgs)-1].(map[string]any)["content"]))
	}
	return out
}

func TestSessionMultiLineInputInAPseudoTerminal(t *testing.T) {
	srv := isolated(t)
	term := startSession(t, "chat", "-m", "kimi-k2-turbo-preview", "--raw", "--no-save")
	term.expect(" › ")
	// A trailing backslash, then Alt-Enter (ESC CR), continue the message on a new line.
	term.typeKeys("first line\\\r")
	term.typeKeys("second line\x1b\r")
	term.enter("third line", "You said: first line")
	// A bracketed paste is one message, line breaks and all.
	term.enter("\x1b[200~pasted one\rpasted two\x1b[201~", "You said: pasted one")
	term.enter("月亮你好", "You said: 月亮你好")
	term.typeKeys("\x03") // Ctrl-C on an empty line asks
	term.expect("press Ctrl-C again or Ctrl-D")
	term.expect(" › ")
	term.typeKeys("\x03") // and the second one quits
	term.exits(0)
	t.Logf("the session, as the terminal showed it:\n%s", term.screen())

	want := []string{"first line\nsecond line\nthird line", "pasted one\npasted two", "月亮你好"}
	if got := userMessages(srv); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("messages sent = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_DATA_HOME"), "moonchat", "input_history")); !os.IsNotExist(err) {
		t.Errorf("--no-save kept an input history: %v", err)
	}
}
