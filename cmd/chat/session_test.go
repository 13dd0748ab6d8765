package chat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/internal/vt"
	"github.com/moonchat/moonchat/pkg/emulator"
)

// contents lists "role: content" of each message of a request, for compact assertions.
func contents(msgs []map[string]any) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("%s: %v", m["role"], m["content"]))
	}
	return out
}

func TestSessionStartsOnlyOnATerminal(t *testing.T) {
	e := newTestEnv(t)
	e.expectRefused(t, nil, []refusal{
		{"no prompt, output piped", invocation{stdinTTY: true}, nil, "no prompt"},
		{"no prompt, input not a terminal", invocation{stdoutTTY: true}, nil, "no prompt"},
		{"--interactive, output piped", invocation{stdinTTY: true}, []string{"--interactive", "hi"}, "--interactive needs a terminal"},
	})
	for _, args := range [][]string{{"--format", "json"}, {"-m", "moonshot-v1-8k", "-n", "2"}} {
		r := e.runWith(invocation{editor: typed("hi")}, args...)
		if r.code != 2 {
			t.Errorf("session with %q: exit %d, %q", args, r.code, r.stderr)
		}
	}
	if n := len(e.srv.ChatBodies()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestSessionKeepsOneConversation(t *testing.T) {
	e := newTestEnv(t)
	ed := typed("First question", "/model moonshot-v1-8k", "Second question", "/system Be brief.", "Third question")
	r := e.runWith(invocation{editor: ed}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, q := range []string{"First", "Second", "Third"} {
		if !strings.Contains(visible(r.stdout), "You said: "+q+" question") {
			t.Errorf("answer to %q not shown: %q", q, r.stdout)
		}
	}
	bodies := e.srv.ChatBodies()
	if len(bodies) != 3 {
		t.Fatalf("%d requests", len(bodies))
	}
	if bodies[0]["model"] != "kimi-k2-turbo-preview" || bodies[1]["model"] != "moonshot-v1-8k" {
		t.Errorf("models = %v, %v", bodies[0]["model"], bodies[1]["model"])
	}
	third := contents(e.lastMessages())
	if len(third) != 6 || third[0] != "system: Be brief." || third[1] != "user: First question" ||
		third[3] != "user: Second question" || third[5] != "user: Third question" {
		t.Errorf("third request = %q", third)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 1 {
		t.Fatalf("%d conversations", len(convs))
	}
	c := convs[0]
	if roles(c.Msgs) != "user,assistant,user,assistant,user,assistant" || c.Model != "moonshot-v1-8k" || c.System != "Be brief." || c.Title != "First question" {
		t.Errorf("saved %+v: %s", c.Conversation, roles(c.Msgs))
	}
	if len(ed.prompts) != 6 || !strings.Contains(ed.prompts[0], "kimi-k2-turbo-preview") || !strings.Contains(ed.prompts[2], "moonshot-v1-8k") {
		t.Errorf("prompts = %q", ed.prompts)
	}
}

func TestSessionCtrlCStopsTheAnswerNotTheSession(t *testing.T) {
	e := newTestEnv(t)
	full := strings.Repeat("word ", 200)
	e.srv.SetReply(func(req *emulator.ChatRequest) emulator.Reply {
		if len(req.Messages) == 1 {
			return emulator.Reply{Content: full}
		}
		return emulator.Reply{Content: "The end."}
	})
	e.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 20 * time.Millisecond})
	presses := make(chan os.Signal, 1)
	out := &syncBuffer{mark: "word", onWrite: func() { presses <- os.Interrupt }}
	r := e.runWith(invocation{editor: typed("Tell me a long story", "And then?"), presses: presses, out: out}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "stopped; the answer so far is saved") {
		t.Errorf("stderr = %q", r.stderr)
	}
	c := clitest.Conversations(t)[0]
	if roles(c.Msgs) != "user,assistant,user,assistant" {
		t.Fatalf("saved %s", roles(c.Msgs))
	}
	partial := c.Msgs[1]
	if !partial.Interrupted || partial.Content == "" || !strings.HasPrefix(full, partial.Content) || partial.Content == full {
		t.Errorf("partial answer saved = %+v", partial)
	}
	if c.Msgs[3].Content != "The end." || c.Msgs[3].Interrupted {
		t.Errorf("second answer = %+v", c.Msgs[3])
	}
	second := contents(e.lastMessages())
	if len(second) != 3 || second[1] != "assistant: "+partial.Content {
		t.Errorf("the second question was not sent after the partial answer: %q", second)
	}
}

func TestSessionCtrlCAndCtrlDAtThePrompt(t *testing.T) {
	e := newTestEnv(t)
	ed := &scriptedEditor{steps: []step{
		{text: "half typed", err: errLineInterrupted}, // drops the line
		{err: errLineInterrupted},                     // asks to confirm
		{text: "hello"},                               // a question resets it
		{err: errLineInterrupted},
		{err: errLineInterrupted}, // quits
		{text: "never read"},
	}}
	r := e.runWith(invocation{editor: ed}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "press Ctrl-C again or Ctrl-D"); n != 2 {
		t.Errorf("confirmation shown %d times: %q", n, r.stderr)
	}
	if len(ed.steps) != 1 {
		t.Errorf("the session did not quit on the second Ctrl-C")
	}
	if bodies := e.srv.ChatBodies(); len(bodies) != 1 {
		t.Errorf("%d requests, want only the one for hello", len(bodies))
	}
}

func TestSessionClearStartsANewConversation(t *testing.T) {
	e := newTestEnv(t)
	r := e.runWith(invocation{editor: typed("one", "/clear", "two")}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := contents(e.lastMessages()); len(got) != 1 || got[0] != "user: two" {
		t.Errorf("after /clear the request was %q", got)
	}
	convs := clitest.Conversations(t)
	if len(convs) != 2 || convs[0].Title != "two" || convs[1].Title != "one" {
		t.Errorf("conversations = %d", len(convs))
	}
}

func TestSessionRetry(t *testing.T) {
	e := newTestEnv(t)
	var n atomic.Int32
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: fmt.Sprintf("answer %d", n.Add(1))}
	})
	r := e.runWith(invocation{editor: typed("/retry", "question", "/retry", "follow-up")}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "no answer to retry") {
		t.Errorf("/retry with nothing to retry: %q", r.stderr)
	}
	bodies := e.srv.ChatBodies()
	if len(bodies) != 3 {
		t.Fatalf("%d requests", len(bodies))
	}
	if a, b := fmt.Sprint(bodies[0]["messages"]), fmt.Sprint(bodies[1]["messages"]); a != b {
		t.Errorf("/retry sent %s, first %s", b, a)
	}
	if got := contents(e.lastMessages()); strings.Join(got, "|") != "user: question|assistant: answer 2|user: follow-up" {
		t.Errorf("after /retry: %q", got)
	}
	c := clitest.Conversations(t)[0]
	if roles(c.Msgs) != "user,assistant,user,assistant" || c.Msgs[1].Content != "answer 2" {
		t.Errorf("saved %s: %q", roles(c.Msgs), c.Msgs[1].Content)
	}
}

func TestSessionEdit(t *testing.T) {
	e := newTestEnv(t)
	script := writeTestFile(t, "editor.sh", "#!/bin/sh\nprintf ' and more from the editor' >> \"$1\"\n")
	if err := os.Chmod(script, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", script)
	// The text is shown for a last look: an empty line (Enter) sends it, anything else
	// discards it.
	r := e.runWith(invocation{editor: typed("/edit Start", "no")}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 || len(e.srv.ChatBodies()) != 0 || !strings.Contains(r.stderr, "discarded; nothing sent") {
		t.Fatalf("a discarded edit: exit %d, %d requests: %s", r.code, len(e.srv.ChatBodies()), r.stderr)
	}
	r = e.runWith(invocation{editor: typed("/edit Start", "")}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := contents(e.lastMessages()); len(got) != 1 || got[0] != "user: Start and more from the editor" {
		t.Errorf("sent %q", got)
	}

	t.Setenv("VISUAL", "true") // an editor that writes nothing
	before := len(e.srv.ChatBodies())
	r = e.runWith(invocation{editor: typed("/edit")}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 || len(e.srv.ChatBodies()) != before || !strings.Contains(r.stderr, "nothing sent") {
		t.Errorf("an empty edit: exit %d, %d requests, %q", r.code, len(e.srv.ChatBodies())-before, r.stderr)
	}
}

func TestSessionCommandsAndSlashes(t *testing.T) {
	e := newTestEnv(t)
	old := seed(t, e, "-m", "kimi-k2-turbo-preview", "An older conversation")
	r := e.runWith(invocation{editor: typed("/help", "/bogus", "//etc/hosts is what?", "/history", "/model", "/exit", "not sent")}, "-m", "kimi-k2-turbo-preview")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"/retry", "/edit"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("/help does not mention %s", want)
		}
	}
	if !strings.Contains(r.stderr, "unknown command /bogus") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if got := contents(e.lastMessages()); got[len(got)-1] != "user: /etc/hosts is what?" {
		t.Errorf("// did not send a message starting with /: %q", got)
	}
	current := clitest.Conversations(t)[0]
	if !strings.Contains(r.stdout, "* "+current.ID) || !strings.Contains(r.stdout, "  "+old.ID) || !strings.Contains(r.stdout, "An older conversation") {
		t.Errorf("/history output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "\nkimi-k2-turbo-preview\n") {
		t.Errorf("/model did not show the model:\n%s", r.stdout)
	}
	if n := len(e.srv.ChatBodies()); n != 2 {
		t.Errorf("%d requests; /exit should have ended the session", n)
	}
}

func TestSessionModelCheckedBeforeUse(t *testing.T) {
	e := newTestEnv(t)
	// --no-thinking holds for the whole session: a model that always thinks is refused.
	r := e.runWith(invocation{editor: typed("/model kimi-k2-thinking", "hello")}, "-m", "kimi-k2.6", "--no-thinking")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "--no-thinking") {
		t.Errorf("switching to a model that cannot stop thinking was not refused: %q", r.stderr)
	}
	if body := e.srv.ChatBodies()[0]; body["model"] != "kimi-k2.6" {
		t.Errorf("model = %v", body["model"])
	}
}

func TestSessionWithAnInitialPromptAndContinue(t *testing.T) {
	e := newTestEnv(t)
	c := seed(t, e, "-m", "kimi-k2-turbo-preview", "Earlier")
	ed := typed("Later")
	r := e.runWith(invocation{editor: ed}, "-c", "--interactive", "Now")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "continuing conversation "+c.ID) {
		t.Errorf("stderr = %q", r.stderr)
	}
	got := contents(e.lastMessages())
	if len(got) != 5 || got[0] != "user: Earlier" || got[2] != "user: Now" || got[4] != "user: Later" {
		t.Errorf("last request = %q", got)
	}
	if convs := clitest.Conversations(t); len(convs) != 1 || len(convs[0].Msgs) != 6 {
		t.Errorf("saved %d conversations", len(convs))
	}
}

func TestSessionInputHistoryFile(t *testing.T) {
	e := newTestEnv(t)
	ed := typed()
	if r := e.runWith(invocation{editor: ed}); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := filepath.Join(os.Getenv("XDG_DATA_HOME"), "moonchat", "input_history")
	if ed.historyPath != want {
		t.Errorf("input history at %q, want %q", ed.historyPath, want)
	}
	st, err := os.Stat(want)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("input history file: %v, mode %v", err, st.Mode())
	}

	ed = typed("private")
	if r := e.runWith(invocation{editor: ed}, "--no-save", "-m", "kimi-k2-turbo-preview"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if ed.historyPath != "" {
		t.Errorf("--no-save kept the input in %q", ed.historyPath)
	}
	if convs := clitest.Conversations(t); len(convs) != 0 {
		t.Errorf("--no-save session saved %d conversations", len(convs))
	}
}

func TestSessionRetryAfterAFailedQuestion(t *testing.T) {
	e := newTestEnv(t)
	notes := writeTestFile(t, "notes.txt", "the attachment\n")
	e.srv.Inject(emulator.Fault{Kind: emulator.Quota})
	r := e.runWith(invocation{editor: typed("/retry")}, "-m", "kimi-k2-turbo-preview", "-f", notes, "--interactive", "Read this")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "hint: your quota") {
		t.Errorf("the failure was not reported: %q", r.stderr)
	}
	bodies := e.srv.ChatBodies()
	if len(bodies) != 2 || fmt.Sprint(bodies[0]["messages"]) != fmt.Sprint(bodies[1]["messages"]) {
		t.Fatalf("/retry after a failure sent %d requests: %v", len(bodies), bodies)
	}
	c := clitest.Conversations(t)
	if len(c) != 1 || roles(c[0].Msgs) != "user,assistant" || !strings.Contains(c[0].Msgs[0].Content, "the attachment") {
		t.Errorf("saved %d conversations: %+v", len(c), c)
	}
}

// The interactive session prints outside text too: the answer, the reasoning, a stored
// system prompt (/system), stored titles (/history). On a terminal none of it may carry an
// escape sequence to the screen.
func TestSessionKeepsOutsideEscapesOffTheTerminal(t *testing.T) {
	e := newTestEnv(t)
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "answer " + vt.Hostile + "\n", Reasoning: "think " + vt.Hostile}
	})
	seed(t, e, "-m", "kimi-k2.6", "-s", "system "+vt.Hostile, "question "+vt.Hostile)
	r := e.runWith(invocation{stderrTTY: true, editor: typed("/system", "/history", "again")}, "-m", "kimi-k2.6", "--show-reasoning", "-c")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "system pwn") || !strings.Contains(r.stderr, "think pwn") || !strings.Contains(visible(r.stdout), "answer pwn") {
		t.Fatalf("the outside text was not shown: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if bad := vt.ForeignControl(r.stdout); bad != "" {
		t.Errorf("stdout holds %q:\n%q", bad, r.stdout)
	}
	if bad := vt.ForeignControl(r.stderr); bad != "" {
		t.Errorf("stderr holds %q:\n%q", bad, r.stderr)
	}
	if body := vt.HostileBody(r.stdout + r.stderr); body != "" {
		t.Errorf("a sequence's body %q is shown as text: stdout %q stderr %q", body, r.stdout, r.stderr)
	}
}
