package chat

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moonchat/moonchat/pkg/emulator"
)

// What chat shows on a terminal: the rendered answer on stdout, and on stderr the spinner, the
// thinking line or the reasoning. The terminals here are buffers marked as terminals; the
// pseudo-terminal tests (pty_test.go) run the real thing.

var (
	escapeSeq = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\a\x1b]*(\a|\x1b\\))`)
	colourSeq = regexp.MustCompile(`\x1b\[[0-9;]*m`)
)

// visible is the text of terminal output without its escape sequences.
func visible(s string) string { return escapeSeq.ReplaceAllString(s, "") }

const markdownAnswer = "# Plan\n\n- alpha\n- beta\n\nSome *emphasis* and `code`.\n\n```go\nfmt.Println(\"界\")\n```\n"

func replyWith(e *testEnv, content string) {
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply { return emulator.Reply{Content: content} })
}

// Piped output is byte-exact; the unrendered answer on a terminal (--raw, --format text,
// TERM=dumb) is the same text without its escape sequences.
func TestPipedAndRawOutputIsByteExact(t *testing.T) {
	e := newTestEnv(t)
	answer := "# Title\r\n\n* a\n* b\n\n```go\nfmt.Println(\"界\")\n```\n\tend \x1b[31mwithout newline"
	onTerminal := "# Title\n\n* a\n* b\n\n```go\nfmt.Println(\"界\")\n```\n\tend without newline"
	replyWith(e, answer)
	tests := []struct {
		name string
		inv  invocation
		args []string
		want string
	}{
		{"piped", invocation{}, nil, answer},
		{"piped, stderr a terminal", invocation{stderrTTY: true}, nil, answer},
		{"--raw on a terminal", invocation{stdoutTTY: true, stderrTTY: true}, []string{"--raw"}, onTerminal},
		{"--format text on a terminal", invocation{stdoutTTY: true, stderrTTY: true}, []string{"--format", "text"}, onTerminal},
		{"piped with a wrap and a style", invocation{}, []string{"--wrap", "20", "--style", "light"}, answer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.runWith(tt.inv, append([]string{"-m", "kimi-k2-turbo-preview", "--no-save", "x"}, tt.args...)...)
			if r.code != 0 || r.stdout != tt.want+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestMarkdownOnATerminal(t *testing.T) {
	e := newTestEnv(t)
	replyWith(e, markdownAnswer)
	r := e.runWith(invocation{stdoutTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "plan")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	text := visible(r.stdout)
	for _, want := range []string{"• alpha", "• beta", "fmt.Println(\"界\")"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q not rendered in %q", want, text)
		}
	}
	if strings.Contains(text, "- alpha") || !colourSeq.MatchString(r.stdout) {
		t.Errorf("not rendered in colour: %q", r.stdout)
	}
	if !strings.HasSuffix(r.stdout, "\x1b[0m\x1b[?25h") {
		t.Errorf("the terminal is not left with colours reset and the cursor shown: %q", r.stdout)
	}
	// The renderer never asks the terminal anything (a pty that does not answer costs seconds).
	if strings.Contains(r.stdout, "\x1b]11;?") || strings.Contains(r.stdout, "\x1b[6n") {
		t.Errorf("terminal query written: %q", r.stdout)
	}
}

func TestNoColorRendersWithoutColour(t *testing.T) {
	e := newTestEnv(t)
	replyWith(e, markdownAnswer)
	for _, env := range []map[string]string{{"NO_COLOR": "1"}, {"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}} {
		r := e.runWith(invocation{stdoutTTY: true, stderrTTY: true, env: env}, "-m", "kimi-k2-turbo-preview", "--no-save", "plan")
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", env, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "• alpha") {
			t.Errorf("%v: not rendered: %q", env, r.stdout)
		}
		if m := colourSeq.FindString(r.stdout + r.stderr); m != "" {
			t.Errorf("%v: colour escape %q in stdout %q, stderr %q", env, m, r.stdout, r.stderr)
		}
	}
}

func TestForcedColourIntoAPipeRendersWithoutCursorMoves(t *testing.T) {
	e := newTestEnv(t)
	replyWith(e, markdownAnswer)
	r := e.runWith(invocation{env: map[string]string{"CLICOLOR_FORCE": "1"}}, "-m", "kimi-k2-turbo-preview", "--no-save", "plan")
	if r.code != 0 || !strings.Contains(visible(r.stdout), "• alpha") || !colourSeq.MatchString(r.stdout) {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	// Only colours: less -R shows them, and nothing else.
	if rest := colourSeq.ReplaceAllString(r.stdout, ""); strings.Contains(rest, "\x1b") {
		t.Errorf("cursor control written into a pipe: %q", rest)
	}
}

func TestWrapAndStyle(t *testing.T) {
	e := newTestEnv(t)
	replyWith(e, strings.Repeat("A sentence that is long enough to be wrapped. ", 6)+"\n")
	widest := func(s string) int {
		w := 0
		for _, l := range strings.Split(visible(s), "\n") {
			w = max(w, len(strings.TrimRight(l, " ")))
		}
		return w
	}
	r := e.runWith(invocation{stdoutTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "--wrap", "40", "x")
	if r.code != 0 || widest(r.stdout) > 40 || widest(r.stdout) < 30 {
		t.Errorf("--wrap 40: exit %d, widest line %d:\n%s", r.code, widest(r.stdout), visible(r.stdout))
	}
	// The wrap setting, from the environment, does the same.
	t.Setenv("MOONCHAT_WRAP", "50")
	r = e.runWith(invocation{stdoutTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "x")
	if r.code != 0 || widest(r.stdout) > 50 || widest(r.stdout) <= 40 {
		t.Errorf("wrap 50: exit %d, widest line %d:\n%s", r.code, widest(r.stdout), visible(r.stdout))
	}
	dark := e.runWith(invocation{stdoutTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "--style", "dark", "x")
	light := e.runWith(invocation{stdoutTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "--style", "light", "x")
	if dark.code != 0 || light.code != 0 || dark.stdout == light.stdout || visible(dark.stdout) != visible(light.stdout) {
		t.Errorf("--style dark and light: same colours or different text:\n%q\n%q", dark.stdout, light.stdout)
	}
}

func TestBadStyleIsAUsageErrorBeforeAnyRequest(t *testing.T) {
	e := newTestEnv(t)
	e.expectRefused(t, []string{"-m", "kimi-k2-turbo-preview", "x"}, []refusal{
		{"--style", invocation{stdoutTTY: true}, []string{"--style", "neon"}, "--style"},
		{"--wrap", invocation{}, []string{"--wrap", "-3"}, "--wrap"},
		{"GLAMOUR_STYLE", invocation{stdoutTTY: true, env: map[string]string{"GLAMOUR_STYLE": "/nonexistent/style.json"}}, nil, "GLAMOUR_STYLE"},
	})
}

func TestSpinnerOnlyOnAStderrTerminal(t *testing.T) {
	e := newTestEnv(t)
	replyWith(e, markdownAnswer)
	tests := []struct {
		name    string
		inv     invocation
		args    []string
		spinner bool
	}{
		{"terminal", invocation{stdoutTTY: true, stderrTTY: true}, nil, true},
		{"stdout piped", invocation{stderrTTY: true}, nil, true},
		{"json", invocation{stderrTTY: true}, []string{"--format", "json"}, true},
		{"-q", invocation{stdoutTTY: true, stderrTTY: true}, []string{"-q"}, false},
		{"stderr piped", invocation{stdoutTTY: true}, nil, false},
		{"jsonl streams to stdout at once", invocation{stderrTTY: true}, []string{"--format", "jsonl"}, false},
		{"dumb terminal", invocation{stdoutTTY: true, stderrTTY: true, env: map[string]string{"TERM": "dumb"}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.runWith(tt.inv, append([]string{"-m", "kimi-k2-turbo-preview", "--no-save", "plan"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "⠋") || strings.Contains(r.stdout, "\x1b[?25l") || strings.Contains(r.stdout, "\r") {
				t.Errorf("the spinner reached stdout: %q", r.stdout)
			}
			if got := strings.Contains(r.stderr, "⠋"); got != tt.spinner {
				t.Errorf("spinner shown: %v, want %v; stderr %q", got, tt.spinner, r.stderr)
			}
			// It disappears: erased, and the cursor shown again.
			if tt.spinner && !strings.HasSuffix(r.stderr, "\r\x1b[K\x1b[?25h") {
				t.Errorf("spinner left on stderr: %q", r.stderr)
			}
		})
	}
}

// thinkingModel answers with a reasoning first, as kimi-k2.6 does by default.
const thinkingModel = "kimi-k2.6"

var thoughtFor = regexp.MustCompile(`thought for \d+\.\ds`)

func TestThinkingLine(t *testing.T) {
	e := newTestEnv(t)
	r := e.runWith(invocation{stdoutTTY: true, stderrTTY: true}, "-m", thinkingModel, "--no-save", "ponder")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The live line shows the count, is erased, and leaves one line behind.
	thinking := strings.Index(r.stderr, "thinking… ")
	loc := thoughtFor.FindStringIndex(r.stderr)
	if thinking < 0 || loc == nil || loc[0] < thinking || !strings.Contains(r.stderr[thinking:loc[0]], "\r\x1b[K") {
		t.Fatalf("stderr %q", r.stderr)
	}
	if !regexp.MustCompile(`thinking… \d+ tokens?`).MatchString(r.stderr) {
		t.Errorf("no token count: %q", r.stderr)
	}
	if strings.Contains(r.stdout, "thinking") || strings.Contains(r.stdout, "thought") || strings.Contains(r.stdout, "offline answer") {
		t.Errorf("thinking on stdout: %q", r.stdout)
	}
	if !strings.Contains(visible(r.stdout), "You said: ponder") {
		t.Errorf("answer %q", r.stdout)
	}

	// Not on a pipe, not with -q, and no live line without streaming (the spinner covers it).
	for _, c := range []struct {
		inv  invocation
		args []string
	}{
		{invocation{stdoutTTY: true}, nil},
		{invocation{stdoutTTY: true, stderrTTY: true}, []string{"-q"}},
		{invocation{stdoutTTY: true, stderrTTY: true}, []string{"--no-stream"}},
	} {
		r := e.runWith(c.inv, append([]string{"-m", thinkingModel, "--no-save", "think"}, c.args...)...)
		if r.code != 0 || strings.Contains(r.stderr, "thinking") || strings.Contains(r.stderr, "thought") {
			t.Errorf("%+v %q: exit %d, stderr %q", c.inv, c.args, r.code, r.stderr)
		}
	}
}

func TestShowReasoningGoesToStderr(t *testing.T) {
	e := newTestEnv(t)
	const reasoning = "The user wants an offline answer."
	tests := []struct {
		name string
		inv  invocation
		args []string
		want string
	}{
		{"dimmed on a terminal", invocation{stdoutTTY: true, stderrTTY: true}, []string{"--show-reasoning"}, "\x1b[2m"},
		{"plain on a pipe", invocation{}, []string{"--show-reasoning"}, reasoning + "\n\n"},
		{"plain with NO_COLOR", invocation{stdoutTTY: true, stderrTTY: true, env: map[string]string{"NO_COLOR": "1"}}, []string{"--show-reasoning"}, reasoning + "\n"},
		{"with -q too, it was asked for", invocation{stderrTTY: true}, []string{"--show-reasoning", "-q"}, "\x1b[2m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.runWith(tt.inv, append([]string{"-m", thinkingModel, "--no-save", "think"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(visible(r.stderr), reasoning) || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want the reasoning and %q", r.stderr, tt.want)
			}
			if tt.want != "\x1b[2m" && strings.Contains(r.stderr, "\x1b[2m") {
				t.Errorf("dimmed without colour: %q", r.stderr)
			}
			if strings.Contains(r.stdout, "offline answer.") || strings.Contains(r.stderr, "thinking…") {
				t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
			}
			if !strings.Contains(visible(r.stdout), "You said: think") {
				t.Errorf("answer %q", r.stdout)
			}
		})
	}
	// The show_reasoning setting does the same.
	t.Setenv("MOONCHAT_SHOW_REASONING", "true")
	if r := e.runWith(invocation{}, "-m", thinkingModel, "--no-save", "think"); !strings.Contains(r.stderr, reasoning) {
		t.Errorf("show_reasoning=true: stderr %q", r.stderr)
	}
}

func TestSeveralAnswersRendered(t *testing.T) {
	e := newTestEnv(t)
	replyWith(e, markdownAnswer)
	r := e.runWith(invocation{stdoutTTY: true, stderrTTY: true}, "-m", "moonshot-v1-8k", "-n", "2", "--no-save", "plan")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	text := visible(r.stdout)
	one, two := strings.Index(text, "--- answer 1 ---\n"), strings.Index(text, "--- answer 2 ---\n")
	if one < 0 || two < one || strings.Count(text, "• alpha") != 2 || !strings.Contains(text[one:two], "• alpha") {
		t.Errorf("stdout %q", text)
	}
	// Nothing is drawn in place: each answer is rendered whole.
	if strings.Contains(r.stdout, "\x1b[A") || strings.Contains(r.stdout, "\x1b[J") {
		t.Errorf("cursor moves: %q", r.stdout)
	}
}

func TestPrefillAndToolCallsShowWhenRendered(t *testing.T) {
	e := newTestEnv(t)
	r := e.runWith(invocation{stdoutTTY: true, stderrTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "--prefill", "Dear reader,", "write")
	if r.code != 0 || !strings.Contains(visible(r.stdout), "Dear reader,") {
		t.Errorf("prefill: exit %d, stdout %q", r.code, r.stdout)
	}
	tools := writeTestFile(t, "tools.json", `[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]`)
	e.srv.SetReply(func(*emulator.ChatRequest) emulator.Reply {
		return emulator.Reply{Content: "Checking.", ToolCalls: []emulator.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}
	})
	r = e.runWith(invocation{stdoutTTY: true, stderrTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "--tools", tools, "weather?")
	text := visible(r.stdout)
	if r.code != 0 || !strings.Contains(text, "Checking.") || !strings.HasSuffix(text, "tool call get_weather({\"city\":\"Paris\"})\n") {
		t.Errorf("tool call: exit %d, stdout %q", r.code, text)
	}
}

// Ctrl-C in the middle of a block: the part not rendered yet is shown as text, and the
// terminal is left clean on both streams.
func TestCtrlCLeavesTheTerminalClean(t *testing.T) {
	e := newTestEnv(t)
	long := "# Story\n\n" + strings.Repeat("word ", 300) + "\n\n- never\n- rendered\n"
	replyWith(e, long)
	e.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first frame that shows some of the paragraph is Ctrl-C's cue (what the root does).
	out := &syncBuffer{mark: "word", onWrite: cancel}
	r := e.runWith(invocation{ctx: ctx, out: out, stdoutTTY: true, stderrTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save", "story")
	if r.code != 130 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "\x1b[0m\x1b[?25h") || strings.Contains(r.stdout, "rendered") {
		t.Errorf("stdout %q", r.stdout)
	}
	if i := strings.LastIndex(r.stderr, "\x1b[?25l"); i >= 0 && !strings.Contains(r.stderr[i:], "\x1b[?25h") {
		t.Errorf("the cursor is left hidden: %q", r.stderr)
	}

	// The same in the interactive session: the answer stops, the prompt comes back.
	e.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 10 * time.Millisecond})
	presses := make(chan os.Signal, 1)
	out = &syncBuffer{mark: "word", onWrite: func() { presses <- os.Interrupt }}
	r = e.runWith(invocation{editor: typed("story", "/help"), presses: presses, out: out, stderrTTY: true}, "-m", "kimi-k2-turbo-preview", "--no-save")
	if r.code != 0 || !strings.Contains(r.stderr, "(stopped)") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	answer, help, ok := strings.Cut(r.stdout, "Commands:")
	if !ok || !strings.HasSuffix(answer, "\x1b[0m\x1b[?25h\n") || strings.Contains(answer, "rendered") || strings.Contains(help, "\x1b") {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestReasoningTokenEstimate(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"The user is asking", 5},           // 18 bytes of English
		{"流式输出", 4},                         // one per Chinese character
		{"Let me check: 17 × 23 = 391.", 8}, // 27 ASCII bytes and a ×
		{strings.Repeat("word ", 200), 250}, // 1000 bytes
		{"思考 thinking… 🚀", 3 + 4},           // 10 ASCII bytes; 思, 考, … and 🚀
	}
	for _, tt := range tests {
		var whole, pieces reasoningTokens
		whole.add(tt.text)
		for _, r := range tt.text {
			pieces.add(string(r))
		}
		if whole.estimate() != tt.want || pieces.estimate() != tt.want {
			t.Errorf("%q: %d whole, %d rune by rune; want %d", tt.text, whole.estimate(), pieces.estimate(), tt.want)
		}
	}
}

// cursorMotion matches what drawing in place writes: cursor up, erase down or line, a CR.
var cursorMotion = regexp.MustCompile(`\x1b\[[0-9]*[AJK]|\r`)

// A terminal that cannot move the cursor gets finished blocks only, never a live tail, even
// when CLICOLOR_FORCE asks for rendering. The answer is paced so that frames run while it
// streams: with a live tail they would draw it.
func TestNoLiveTailWithoutCursorControl(t *testing.T) {
	e := newTestEnv(t)
	answer := "# Heading\n\n" + strings.Repeat("A paragraph that streams slowly, word by word. ", 6) + "\n\n- one\n- two\n"
	replyWith(e, answer)
	force := map[string]string{"CLICOLOR_FORCE": "1"}
	for _, tc := range []struct {
		name string
		inv  invocation
	}{
		{"TERM=dumb with CLICOLOR_FORCE", invocation{stdoutTTY: true, env: map[string]string{"TERM": "dumb", "CLICOLOR_FORCE": "1"}}},
		{"unknown TERM", invocation{stdoutTTY: true, env: map[string]string{"TERM": "hal9000"}}},
		{"CLICOLOR_FORCE into a pipe", invocation{env: force}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.Inject(emulator.Fault{Kind: emulator.Slow, Delay: 10 * time.Millisecond})
			r := e.runWith(tc.inv, "-m", "kimi-k2-turbo-preview", "--no-save", "x")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(visible(r.stdout), "• one") {
				t.Fatalf("not rendered: %q", r.stdout)
			}
			if m := cursorMotion.FindString(r.stdout); m != "" {
				t.Errorf("cursor motion %q written:\n%q", m, r.stdout)
			}
		})
	}
}
