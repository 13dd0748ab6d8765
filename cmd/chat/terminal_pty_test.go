//go:build unix

package chat_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
)

// terminal is the user's side of a pseudo-terminal running moonchat: the keys typed, what
// the program drew, waiting for text to appear, the screen as it shows, and the end.

// patience is how long a step waits for the program before the test fails with the screen.
const patience = 20 * time.Second

type terminal struct {
	t    *testing.T
	proc *exec.Cmd
	pty  *os.File
	seen int // expect searches after this offset of the output

	mu     sync.Mutex
	out    strings.Builder // appended to only, so a string taken from it stays valid
	change chan struct{}   // closed and replaced on every read
	closed bool
}

// startTerminal runs `moonchat ARGS` in a pseudo-terminal of the given size.
func startTerminal(t *testing.T, cols, rows uint16, args ...string) *terminal {
	t.Helper()
	proc := moonchat(args...)
	proc.Env = append(proc.Env, "TERM=xterm-256color", "NO_COLOR=", "CLICOLOR_FORCE=", "GLAMOUR_STYLE=", "COLORFGBG=")
	f, err := pty.StartWithSize(proc, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, proc: proc, pty: f, change: make(chan struct{})}
	go term.read()
	t.Cleanup(func() {
		if t.Failed() {
			_ = proc.Process.Kill()
		}
		f.Close()
	})
	return term
}

// startSession runs moonchat in a pseudo-terminal of 100x30.
func startSession(t *testing.T, args ...string) *terminal {
	t.Helper()
	return startTerminal(t, 100, 30, args...)
}

// read keeps what the program writes until the pty reports the end of the output, which it
// does once no process has the terminal open.
func (term *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := term.pty.Read(buf)
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
}

// waitFor waits until done holds for the output so far (and whether it has ended), checked
// after every read. It fails the test, showing the screen, when the output ends first or
// the program keeps the test waiting.
func (term *terminal) waitFor(what string, done func(out string, ended bool) bool) {
	term.t.Helper()
	deadline := time.NewTimer(patience)
	defer deadline.Stop()
	for {
		term.mu.Lock()
		out, closed, change := term.out.String(), term.closed, term.change
		term.mu.Unlock()
		if done(out, closed) {
			return
		}
		if closed {
			term.t.Fatalf("the program ended before %s; the screen:\n%s", what, screenOf(out))
		}
		select {
		case <-change:
		case <-deadline.C:
			term.t.Fatalf("no %s after %v; the screen:\n%s", what, patience, screenOf(out))
		}
	}
}

// expect waits until text appears after what earlier expectations matched.
func (term *terminal) expect(text string) {
	term.t.Helper()
	term.waitFor(strconv.Quote(text), func(out string, _ bool) bool {
		i := strings.Index(out[term.seen:], text)
		if i >= 0 {
			term.seen += i + len(text)
		}
		return i >= 0
	})
}

// expectShown waits until text appears anywhere on the terminal, escape sequences aside (a
// rendered "• alpha" has a colour change after the bullet).
func (term *terminal) expectShown(text string) {
	term.t.Helper()
	term.waitFor(strconv.Quote(text), func(out string, _ bool) bool {
		return strings.Contains(ansiSeq.ReplaceAllString(out, ""), text)
	})
}

// expectScreen waits for text to appear, then until the screen, as a VT shows it, has every
// one of want: a menu is drawn in several writes, and the first entry is not all of it.
func (term *terminal) expectScreen(text string, want ...string) {
	term.t.Helper()
	term.expectShown(text)
	term.waitFor(fmt.Sprintf("%q on the screen", want), func(out string, _ bool) bool {
		screen := screenOf(out)
		for _, w := range want {
			if !strings.Contains(screen, w) {
				return false
			}
		}
		return true
	})
}

// expectPrompt waits for the next prompt and checks that it names model.
func (term *terminal) expectPrompt(model string) {
	term.t.Helper()
	term.expect(" › ")
	lines := strings.Split(term.screen(), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last+" ", model+" › ") {
		term.t.Errorf("the prompt is %q, want the model %s", last, model)
	}
}

func (term *terminal) typeKeys(keys string) {
	term.t.Helper()
	if _, err := term.pty.Write([]byte(keys)); err != nil {
		term.t.Fatal(err)
	}
}

// enter types line and Enter, waits for want, then for the next prompt.
func (term *terminal) enter(line, want string) {
	term.t.Helper()
	term.typeKeys(line + "\r")
	term.expect(want)
	term.expect(" › ")
}

// resize sets the terminal's size and returns the offset of the output at which it changed;
// expect searches from there.
func (term *terminal) resize(cols, rows uint16) int {
	term.t.Helper()
	term.seen = len(term.output())
	if err := pty.Setsize(term.pty, &pty.Winsize{Cols: cols, Rows: rows}); err != nil {
		term.t.Fatal(err)
	}
	return term.seen
}

// output is everything the program wrote to the terminal so far.
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// exitCode waits for moonchat to end and for the last of its output to be read, and returns
// its exit code.
func (term *terminal) exitCode() int {
	term.t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.proc.Wait() }()
	timeout := time.NewTimer(3 * patience)
	defer timeout.Stop()
	var err error
	select {
	case err = <-done:
	case <-timeout.C:
		term.t.Fatalf("moonchat did not end; the screen:\n%s", term.screen())
	}
	term.waitFor("the end of the output", func(_ string, ended bool) bool { return ended })
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		term.t.Fatal(err)
	}
	return 0
}

// exits waits for moonchat to end with the exit status code.
func (term *terminal) exits(code int) {
	term.t.Helper()
	if got := term.exitCode(); got != code {
		term.t.Fatalf("moonchat ended with exit status %d, want %d; the screen:\n%s", got, code, term.screen())
	}
}

// quit ends the session with Ctrl-D on an empty line, and logs the session as the terminal
// showed it.
func (term *terminal) quit() {
	term.t.Helper()
	term.typeKeys("\x04")
	term.exits(0)
	term.t.Logf("the session, as the terminal showed it:\n%s", term.screen())
}

// screen is what the terminal shows, as lines of text.
func (term *terminal) screen() string { return screenOf(term.output()) }

var csiSeq = regexp.MustCompile(`^\x1b\[([0-9;?]*)[ -/]*([@-~])`)

func escapeAt(raw string, i int) []string {
	if raw[i] != '\x1b' {
		return nil
	}
	return csiSeq.FindStringSubmatch(raw[i:])
}

// screenOf is what a terminal shows after output raw, as lines of text: it follows the
// cursor moves and erasures the line editor uses to redraw its line, and drops colours.
func screenOf(raw string) string {
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
