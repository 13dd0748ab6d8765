//go:build unix

package chat_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/moonchat/moonchat/cmd"
	"github.com/moonchat/moonchat/internal/mcptest"
	"github.com/moonchat/moonchat/pkg/config"
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
	code := m.Run()
	mcptest.Cleanup()
	os.Exit(code)
}

// moonchat returns the command that runs `moonchat ARGS` in a process.
func moonchat(args ...string) *exec.Cmd {
	c := exec.Command(os.Args[0], args...)
	c.Env = append(os.Environ(), runMoonchat+"=1")
	return c
}

const processKey = "sk-test-process-0123456789"

// isolated starts an emulator and points a private home at it: config, data and cache in
// t.TempDir, none of the user's variables or key bindings.
func isolated(t *testing.T) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(emulator.Config{APIKey: processKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	// An empty key-binding file: the line editor would otherwise read the user's.
	if err := os.WriteFile(filepath.Join(dir, "inputrc"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range config.Keys() {
		for _, name := range k.Env {
			t.Setenv(name, "")
		}
	}
	for name, value := range map[string]string{
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"), "XDG_DATA_HOME": filepath.Join(dir, "data"),
		"XDG_CACHE_HOME": filepath.Join(dir, "cache"), "HOME": filepath.Join(dir, "home"),
		"INPUTRC": filepath.Join(dir, "inputrc"), "MOONCHAT_CONFIG": "",
		"HTTPS_PROXY": "", "HTTP_PROXY": "", "ALL_PROXY": "", "https_proxy": "", "http_proxy": "", "all_proxy": "",
		"MOONSHOT_API_BASE": srv.URL, "MOONSHOT_API_KEY": processKey,
	} {
		t.Setenv(name, value)
	}
	return srv
}

type saved struct {
	history.Conversation
	msgs []history.Message
}

// savedConversations reads every conversation the processes saved, newest first.
func savedConversations(t *testing.T) []saved {
	t.Helper()
	path, err := history.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	list, err := store.List(ctx, history.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []saved
	for _, c := range list {
		conv, msgs, err := store.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, saved{conv, msgs})
	}
	return out
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
	convs := savedConversations(t)
	var titles []string
	for _, c := range convs {
		titles = append(titles, c.Title)
		if roleList(c.msgs) != "user,assistant" || c.msgs[1].Content != "This is moonchat's offline emulator: no request left this machine.\n\nYou said: "+c.Title+"\n" {
			t.Errorf("conversation %s %q: %s %+v", c.ID, c.Title, roleList(c.msgs), c.msgs)
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

// terminal is the user's side of a pseudo-terminal: what the program drew, and the keys.
type terminal struct {
	t      *testing.T
	proc   *exec.Cmd
	pty    *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	seen   int           // expect searches after this offset
	change chan struct{} // closed and replaced on every read
	closed bool
}

func newTerminal(t *testing.T, f *os.File) *terminal {
	term := &terminal{t: t, pty: f, change: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			close(term.change)
			term.change = make(chan struct{})
			if err != nil {
				term.closed = true
			}
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return term
}

// expect waits until text appears after what earlier expectations matched.
func (term *terminal) expect(text string) {
	term.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		term.mu.Lock()
		i := bytes.Index(term.out.Bytes()[term.seen:], []byte(text))
		if i >= 0 {
			term.seen += i + len(text)
		}
		closed, change := term.closed, term.change
		term.mu.Unlock()
		if i >= 0 {
			return
		}
		if closed {
			term.t.Fatalf("the program ended before %q appeared; the screen:\n%s", text, term.screen())
		}
		select {
		case <-change:
		case <-deadline.C:
			term.t.Fatalf("%q did not appear; the screen:\n%s", text, term.screen())
		}
	}
}

func (term *terminal) typeKeys(keys string) {
	term.t.Helper()
	if _, err := term.pty.Write([]byte(keys)); err != nil {
		term.t.Fatal(err)
	}
}

var csiSeq = regexp.MustCompile(`^\x1b\[([0-9;?]*)[ -/]*([@-~])`)

func escapeAt(raw string, i int) []string {
	if raw[i] != '\x1b' {
		return nil
	}
	return csiSeq.FindStringSubmatch(raw[i:])
}

// screen is what the terminal shows after the session, as lines of text: it follows the
// cursor moves and erasures the line editor uses to redraw its line, and drops colours.
func (term *terminal) screen() string {
	term.mu.Lock()
	raw := term.out.String()
	term.mu.Unlock()
	var lines [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(lines) <= row {
			lines = append(lines, nil)
		}
		for len(lines[row]) < col {
			lines[row] = append(lines[row], ' ')
		}
		if col < len(lines[row]) {
			lines[row][col] = r
		} else {
			lines[row] = append(lines[row], r)
		}
		col++
	}
	for i := 0; i < len(raw); {
		// Only an ESC can start a sequence: trying the expression at every byte is slow on the
		// long outputs of rendered answers.
		// An operating system command (OSC 52, the clipboard) shows nothing.
		if strings.HasPrefix(raw[i:], "\x1b]") {
			if end := strings.IndexByte(raw[i:], '\a'); end >= 0 {
				i += end + 1
				continue
			}
		}
		if m := escapeAt(raw, i); m != nil {
			i += len(m[0])
			n := 1
			if v, err := strconv.Atoi(strings.TrimPrefix(m[1], "?")); err == nil && v > 0 {
				n = v
			}
			switch m[2] {
			case "A":
				row = max(row-n, 0)
			case "B":
				row += n
			case "C":
				col += n
			case "D":
				col = max(col-n, 0)
			case "K", "J":
				if row < len(lines) && col < len(lines[row]) && m[1] != "1" {
					lines[row] = lines[row][:col]
				}
				if m[2] == "J" && row+1 < len(lines) {
					lines = lines[:row+1]
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(raw[i:])
		i += size
		switch {
		case r == '\r':
			col = 0
		case r == '\n':
			row++
			col = 0
		case r == '\t':
			col = (col/8 + 1) * 8
		case r == '\x1b' || r < ' ':
		default:
			put(r)
		}
	}
	var out []string
	for _, l := range lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// startSession runs moonchat in a pseudo-terminal of 100x30.
func startSession(t *testing.T, args ...string) *terminal {
	t.Helper()
	return startTerminal(t, 100, 30, args...)
}

// wait waits for moonchat to end, which must be a success.
func (term *terminal) wait() {
	term.t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.proc.Wait() }()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	select {
	case err := <-done:
		if err != nil {
			term.t.Fatalf("moonchat ended with %v; the screen:\n%s", err, term.screen())
		}
	case <-timeout.C:
		term.t.Fatalf("moonchat did not end; the screen:\n%s", term.screen())
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
	term.typeKeys("And then?\r")
	term.expect("happily ever after")
	term.expect(" › ")
	term.typeKeys("\x04") // Ctrl-D on an empty line

	term.wait()
	t.Logf("the session, as the terminal showed it:\n%s", term.screen())

	convs := savedConversations(t)
	if len(convs) != 1 {
		t.Fatalf("%d conversations saved", len(convs))
	}
	c := convs[0]
	if roleList(c.msgs) != "user,assistant,user,assistant" {
		t.Fatalf("saved %s", roleList(c.msgs))
	}
	partial := c.msgs[1]
	if !partial.Interrupted || !strings.HasPrefix(partial.Content, "Once upon a time") || !strings.HasPrefix(story, partial.Content) || partial.Content == story {
		t.Errorf("the interrupted answer saved = %+v", partial)
	}
	if c.msgs[3].Content != "And they chatted happily ever after." || c.msgs[3].Interrupted || c.msgs[3].Incomplete {
		t.Errorf("the second answer saved = %+v", c.msgs[3])
	}
	var second []string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			second = second[:0]
			for _, m := range r.JSON()["messages"].([]any) {
				m := m.(map[string]any)
				second = append(second, fmt.Sprintf("%s: %s", m["role"], m["content"]))
			}
		}
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
	for _, r := range srv.Requests() {
		if !strings.HasSuffix(r.Path, "/chat/completions") {
			continue
		}
		msgs := r.JSON()["messages"].([]any)
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
	term.typeKeys("third line\r")
	term.expect("You said: first line")
	term.expect(" › ")
	// A bracketed paste is one message, line breaks and all.
	term.typeKeys("\x1b[200~pasted one\rpasted two\x1b[201~\r")
	term.expect("You said: pasted one")
	term.expect(" › ")
	term.typeKeys("月亮你好\r")
	term.expect("You said: 月亮你好")
	term.expect(" › ")
	term.typeKeys("\x03") // Ctrl-C on an empty line asks
	term.expect("press Ctrl-C again or Ctrl-D")
	term.expect(" › ")
	term.typeKeys("\x03") // and the second one quits
	term.wait()
	t.Logf("the session, as the terminal showed it:\n%s", term.screen())

	want := []string{"first line\nsecond line\nthird line", "pasted one\npasted two", "月亮你好"}
	if got := userMessages(srv); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("messages sent = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_DATA_HOME"), "moonchat", "input_history")); !os.IsNotExist(err) {
		t.Errorf("--no-save kept an input history: %v", err)
	}
}
