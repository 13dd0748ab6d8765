package chat

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/internal/clitest"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

const testKey = "sk-test-chat-0123456789"

// testEnv is an emulator on loopback and a private home: config, data and cache
// directories in t.TempDir, no variable of the user's leaking in.
type testEnv struct {
	t   *testing.T
	srv *emulator.Server
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return &testEnv{t: t, srv: clitest.Serve(t, emulator.Config{APIKey: testKey})}
}

// invocation describes how a command runs: its standard streams and its context.
type invocation struct {
	stdin     string
	in        io.Reader // stdin itself, instead of the text in stdin
	piped     bool      // stdin is a pipe
	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	out       *syncBuffer       // stdout, when the test watches it while the command runs
	env       map[string]string // variables the streams see (iostreams.SetEnv): NO_COLOR, TERM…
	ctx       context.Context
	// session: stdin and stdout are terminals, the editor is scripted, Ctrl-C arrives on
	// presses (through cli.Factory.Interrupts).
	editor  lineEditor
	presses chan os.Signal
}

type outcome struct {
	stdout, stderr string
	code           int
	err            error
}

func (e *testEnv) run(args ...string) outcome {
	e.t.Helper()
	return e.runWith(invocation{}, args...)
}

// runWith runs `moonchat chat ARGS` as the root would, and reports what it printed and the
// exit code it would end with.
func (e *testEnv) runWith(inv invocation, args ...string) outcome {
	e.t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(inv.stdin)
	ios.SetStdinPipeOrFile(inv.piped)
	ios.SetStderrTTY(inv.stderrTTY)
	ios.SetStdinTTY(inv.stdinTTY)
	ios.SetStdoutTTY(inv.stdoutTTY)
	for k, v := range inv.env {
		ios.SetEnv(k, v)
	}
	if inv.out != nil {
		ios.Out = inv.out
	}
	if inv.in != nil {
		ios.In = inv.in
	}
	f := cli.New(ios)
	f.RetryBaseDelay, f.MaxRetryDelay = time.Millisecond, 5*time.Millisecond
	ctx := inv.ctx
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
	}
	var runF func(*Options) error
	if inv.editor != nil {
		ios.SetStdinTTY(true)
		ios.SetStdoutTTY(true)
		ios.SetStdinPipeOrFile(false)
		presses := inv.presses
		f.Interrupts = func() (<-chan os.Signal, func()) { return presses, func() {} }
		runF = func(opts *Options) error {
			opts.newEditor = func(path string) (lineEditor, error) {
				if se, ok := inv.editor.(*scriptedEditor); ok {
					se.historyPath = path
				}
				return inv.editor, nil
			}
			return chatRun(ctx, opts)
		}
	}
	cmd := NewCmdChat(f, runF)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	err := cmd.ExecuteContext(ctx)
	if cerr := f.Close(); cerr != nil {
		e.t.Errorf("closing the factory: %v", cerr)
	}
	code := cli.ReportError(f, err)
	o := outcome{stderr: errOut.String(), code: code, err: err}
	if inv.out != nil {
		o.stdout = inv.out.String()
	} else {
		o.stdout = out.String()
	}
	return o
}

// lastMessages returns the messages of the last chat request.
func (e *testEnv) lastMessages() []map[string]any {
	e.t.Helper()
	bodies := e.srv.ChatBodies()
	if len(bodies) == 0 {
		e.t.Fatal("no chat request was sent")
	}
	var out []map[string]any
	for _, m := range bodies[len(bodies)-1]["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// refusal is a run that must end as a usage error (exit 2) whose message has want.
type refusal struct {
	name string
	inv  invocation
	args []string
	want string
}

// expectRefused runs `moonchat chat PREFIX ARGS` for each case, as a subtest, and then checks
// that none of them sent a request.
func (e *testEnv) expectRefused(t *testing.T, prefix []string, cases []refusal) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := e.runWith(tt.inv, append(slices.Clone(prefix), tt.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	if n := len(e.srv.ChatBodies()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// syncBuffer is a stdout that the test reads while the command writes, and that calls
// onWrite (once) as soon as what was written contains mark.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	mark    string
	onWrite func()
	fired   bool
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.buf.Write(p)
	fire := !b.fired && b.onWrite != nil && strings.Contains(b.buf.String(), b.mark)
	if fire {
		b.fired = true
	}
	b.mu.Unlock()
	if fire {
		b.onWrite()
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// roles lists the roles of messages, for compact assertions.
func roles(msgs []history.Message) string {
	var r []string
	for _, m := range msgs {
		r = append(r, m.Role)
	}
	return strings.Join(r, ",")
}

func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// scriptedEditor plays what a user types in a session, one step per prompt; then Ctrl-D.
type scriptedEditor struct {
	steps       []step
	prompts     []string
	historyPath string // what the session asked the editor to keep the input in
}

type step struct {
	text string
	err  error  // errLineInterrupted for Ctrl-C
	do   func() // runs when the prompt shows, before the step is typed
}

func typed(lines ...string) *scriptedEditor {
	e := &scriptedEditor{}
	for _, l := range lines {
		e.steps = append(e.steps, step{text: l})
	}
	return e
}

func (e *scriptedEditor) ReadLine(prompt string) (string, error) {
	e.prompts = append(e.prompts, prompt)
	if len(e.steps) == 0 {
		return "", io.EOF
	}
	s := e.steps[0]
	e.steps = e.steps[1:]
	if s.do != nil {
		s.do()
	}
	return s.text, s.err
}
