package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-test-0123456789"

// run executes moonchat with args against the given environment and returns stdout, stderr
// and the exit code, as Main would.
type run struct {
	stdout, stderr string
	code           int
}

type harness struct {
	t     *testing.T
	srv   *emulator.Server
	stdin string
	piped bool // stdin is a pipe
	tty   bool // stdout and stderr are terminals
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, srv: clitest.Serve(t, emulator.Config{APIKey: testKey})}
}

// saysAll checks that stderr has each of want.
func (r run) saysAll(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

// failingHarness is a harness with the variables of env set and, unless fault is nil, the
// fault injected in its emulator.
func failingHarness(t *testing.T, fault *emulator.Fault, env map[string]string) *harness {
	t.Helper()
	h := newHarness(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	if fault != nil {
		h.srv.Inject(*fault)
	}
	return h
}

func (h *harness) run(args ...string) run {
	h.t.Helper()
	return h.runWith(nil, args...)
}

// runWith is run with the factory adjusted by configure (nil for none) before the command is
// built.
func (h *harness) runWith(configure func(*cli.Factory), args ...string) run {
	h.t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(h.stdin)
	ios.SetStdinPipeOrFile(h.piped)
	ios.SetStdoutTTY(h.tty)
	ios.SetStderrTTY(h.tty)
	f := cli.New(ios)
	f.RetryBaseDelay = time.Millisecond
	f.MaxRetryDelay = 5 * time.Millisecond
	if configure != nil {
		configure(f)
	}
	root := NewCmdRoot(f)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	// As Main does: the history database is opened lazily by the command and closed here.
	if cerr := f.Close(); cerr != nil {
		h.t.Errorf("closing the factory after %q: %v", args, cerr)
	}
	code := cli.ReportError(f, err)
	return run{stdout: out.String(), stderr: errOut.String(), code: code}
}

// chatBodies returns the JSON bodies of the chat requests the emulator received.
func (h *harness) chatBodies() []map[string]any { return h.srv.ChatBodies() }

func TestAcceptanceFixesArriveAtTheAPI(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, body map[string]any)
	}{
		{"temperature 1.5 arrives as 1", []string{"-m", "kimi-k2-turbo-preview", "--temperature", "1.5"},
			func(t *testing.T, body map[string]any) {
				if body["temperature"] != 1.0 {
					t.Fatalf("temperature = %v", body["temperature"])
				}
			}},
		{"-n 2 --temperature 0.1 arrives as 0.3", []string{"-m", "moonshot-v1-8k", "-n", "2", "--temperature", "0.1"},
			func(t *testing.T, body map[string]any) {
				if body["temperature"] != 0.3 || body["n"] != 2.0 {
					t.Fatalf("temperature = %v, n = %v", body["temperature"], body["n"])
				}
			}},
		{"kimi-k2.6 receives no temperature", []string{"-m", "kimi-k2.6", "--temperature", "0.7"},
			func(t *testing.T, body map[string]any) {
				if _, ok := body["temperature"]; ok {
					t.Fatalf("temperature sent: %v", body["temperature"])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.run(append([]string{"chat"}, append(tt.args, "hello")...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			bodies := h.chatBodies()
			if len(bodies) != 1 {
				t.Fatalf("%d requests", len(bodies))
			}
			tt.check(t, bodies[0])
			if !strings.Contains(r.stderr, "moonchat: temperature") {
				t.Fatalf("adjustment not reported on stderr: %q", r.stderr)
			}
			if strings.Contains(r.stdout, "temperature") {
				t.Fatalf("notice leaked to stdout: %q", r.stdout)
			}
		})
	}
}

func TestQuietSilencesNotices(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "-q", "-m", "kimi-k2.6", "--temperature", "0.7", "hi")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		fault    *emulator.Fault
		env      map[string]string
		args     []string
		code     int
		requests int
		stderr   string
	}{
		// Moonshot's documented error answers: TestDocumentedErrorExitCodes (fixtures).
		{"5xx after retries", &emulator.Fault{Kind: emulator.ServerError, Status: 503, Times: 5}, nil, []string{"--max-retries", "1"}, 75, 2, "503"},
		{"wrong key", nil, map[string]string{"MOONSHOT_API_KEY": "sk-wrong"}, nil, 3, 1, "the key comes from $MOONSHOT_API_KEY; check it, or set up another with `moonchat config init`. Requests go to "},
		{"missing key", nil, map[string]string{"MOONSHOT_API_KEY": ""}, nil, 3, 0, "hint: run `moonchat config init` to set one up"},
		{"unknown model", nil, nil, []string{"-m", "no-such-model"}, 5, 1, "moonchat models"},
		{"rejected by the API with fixes in place", nil, nil, []string{"-m", "moonshot-v1-8k", "--max-tokens", "9000"}, 5, 1, "token limit"},
		{"bad flag", nil, nil, []string{"--temperature", "hot"}, 2, 0, "invalid argument"},
		{"invalid locally", nil, nil, []string{"--stop", "a", "--stop", "b", "--stop", "c", "--stop", "d", "--stop", "e", "--stop", "f"}, 2, 0, "at most 5 stop"},
		{"cut stream", &emulator.Fault{Kind: emulator.CutStream, AfterChunks: 2}, nil, nil, 75, 1, "incomplete"},
		{"in-stream error", &emulator.Fault{Kind: emulator.StreamError, AfterChunks: 1}, nil, nil, 75, 1, "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := failingHarness(t, tt.fault, tt.env)
			r := h.run(append(append([]string{"chat", "-m", "kimi-k2-turbo-preview"}, tt.args...), "hello")...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if n := len(h.chatBodies()); n != tt.requests {
				t.Fatalf("%d requests, want %d", n, tt.requests)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("stderr %q does not mention %q", r.stderr, tt.stderr)
			}
			if strings.Contains(r.stderr, testKey) || strings.Contains(r.stdout, testKey) {
				t.Fatal("the API key was printed")
			}
		})
	}
}

func TestCutStreamKeepsPartialAnswer(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "first part, second part, third part"}
	})
	h.srv.Inject(emulator.Fault{Kind: emulator.CutStream, AfterChunks: 2})
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "hello")
	if r.code != 75 {
		t.Fatalf("exit %d", r.code)
	}
	if r.stdout == "" || !strings.HasPrefix("first part, second part, third part", strings.TrimSuffix(r.stdout, "\n")) {
		t.Fatalf("partial answer not printed: %q", r.stdout)
	}
}

func TestPipedStdinAndPrompt(t *testing.T) {
	h := newHarness(t)
	h.stdin, h.piped = "line one\nline two\n", true
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "summarize", "this")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	msgs := h.chatBodies()[0]["messages"].([]any)
	got := msgs[len(msgs)-1].(map[string]any)["content"]
	if got != "summarize this\n\nline one\nline two\n" {
		t.Fatalf("content = %q", got)
	}
}

func TestStdinOnlyAndTerminalStdinIgnored(t *testing.T) {
	h := newHarness(t)
	h.stdin, h.piped = "just stdin", true
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	msgs := h.chatBodies()[0]["messages"].([]any)
	if got := msgs[0].(map[string]any)["content"]; got != "just stdin" {
		t.Fatalf("content = %q", got)
	}
	// A terminal on stdin is never read: with no prompt it is a usage error.
	h2 := newHarness(t)
	h2.stdin, h2.piped = "must not be read", false
	r := h2.run("chat", "-m", "kimi-k2-turbo-preview")
	if r.code != 2 || len(h2.chatBodies()) != 0 || !strings.Contains(r.stderr, "no prompt") {
		t.Fatalf("exit %d, %d requests, stderr %q", r.code, len(h2.chatBodies()), r.stderr)
	}
}

func TestOutputIsByteExact(t *testing.T) {
	h := newHarness(t)
	answer := "# Title\n\n* a\n* b\n\n```go\nfmt.Println(\"界\")\n```\n\tend without newline"
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: answer} })
	r := h.run("chat", "-m", "kimi-k2-turbo-preview", "x")
	if r.stdout != answer+"\n" {
		t.Fatalf("stdout = %q", r.stdout)
	}
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: "ends\n"} })
	if r := h.run("chat", "-m", "kimi-k2-turbo-preview", "x"); r.stdout != "ends\n" {
		t.Fatalf("extra newline added: %q", r.stdout)
	}
}

func TestSeveralAnswers(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "-m", "moonshot-v1-8k", "-n", "2", "--temperature", "0.5", "hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "--- answer 1 ---\n") || !strings.Contains(r.stdout, "\n--- answer 2 ---\n") {
		t.Fatalf("stdout = %q", r.stdout)
	}
}

func TestDryRun(t *testing.T) {
	h := newHarness(t)
	r := h.run("chat", "--dry-run", "-m", "moonshot/kimi-k2-turbo-preview", "--temperature", "1.5", "hi")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(h.srv.Requests()) != 0 {
		t.Fatal("dry run sent a request")
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil {
		t.Fatalf("stdout is not the JSON body: %q", r.stdout)
	}
	if body["temperature"] != 1.0 || body["model"] != "kimi-k2-turbo-preview" || body["stream"] != true {
		t.Fatalf("body = %v", body)
	}
	if !strings.Contains(r.stderr, "POST "+h.srv.URL+"/chat/completions") {
		t.Fatalf("URL not on stderr: %q", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, testKey) {
		t.Fatal("dry run showed the key")
	}
}

func TestOfflineNeedsNoKeyNorNetwork(t *testing.T) {
	clitest.Isolate(t)
	t.Setenv("MOONSHOT_API_BASE", "http://127.0.0.1:1/v1") // would fail if used
	h := &harness{t: t}
	r := h.run("chat", "--offline", "hello")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "offline") || !strings.Contains(r.stdout, "hello") {
		t.Fatalf("stdout = %q", r.stdout)
	}
	// Deterministic: a second run prints the same.
	if r2 := h.run("chat", "--offline", "hello"); r2.stdout != r.stdout {
		t.Fatalf("offline answer changed: %q vs %q", r2.stdout, r.stdout)
	}
}

func TestNoStreamAnswer(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: "whole"} })
	r := h.run("chat", "--no-stream", "-m", "kimi-k2-turbo-preview", "x")
	if r.code != 0 || r.stdout != "whole\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if h.chatBodies()[0]["stream"] != nil {
		t.Fatal("stream sent with --no-stream")
	}
}

func TestTimeoutExits75(t *testing.T) {
	h := newHarness(t)
	h.srv.Inject(emulator.Fault{Kind: emulator.Hang})
	r := h.run("chat", "--timeout", "200ms", "-m", "kimi-k2-turbo-preview", "x")
	if r.code != 75 || !strings.Contains(r.stderr, "--timeout") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}

func TestInterruptExits130(t *testing.T) {
	h := newHarness(t)
	h.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "partial answer that keeps going"}
	})
	h.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: time.Hour})
	ios, _, out, errOut := iostreams.Test()
	f := cli.New(ios)
	root := NewCmdRoot(f)
	root.SetArgs([]string{"chat", "-m", "kimi-k2-turbo-preview", "x"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- cli.ReportError(f, root.ExecuteContext(ctx)) }()
	if err := h.srv.WaitRequests(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel() // what Ctrl-C does through signal.NotifyContext
	if code := <-done; code != 130 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix([]byte("partial answer that keeps going"), bytes.TrimSuffix(out.Bytes(), []byte("\n"))) {
		t.Fatalf("stdout = %q", out.String())
	}
}

func TestVersion(t *testing.T) {
	clitest.Isolate(t)
	h := &harness{t: t}
	r := h.run("version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "moonchat ") || !strings.Contains(r.stdout, "go") {
		t.Fatalf("%+v", r)
	}
	if r2 := h.run("--version"); r2.stdout != r.stdout {
		t.Fatalf("--version differs: %q", r2.stdout)
	}
}
