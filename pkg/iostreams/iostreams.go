// Package iostreams holds the process's standard streams and the terminal policy built on them:
// which streams are terminals, whether to use colour and render markdown, the width to wrap at,
// the markdown style, and a live line on stderr (spinner or status).
//
// System is the only place in moonchat that looks at os.Stdin, os.Stdout and os.Stderr.
// Test gives buffers with every property settable, and reads no environment variable unless
// the test sets it with SetEnv, so a developer's NO_COLOR or COLUMNS cannot change a result.
//
// Policy:
//   - Colour (ColorEnabled for stdout, ErrColorEnabled for stderr): off when NO_COLOR is
//     non-empty; otherwise on when CLICOLOR_FORCE is non-empty and not "0"; otherwise on when
//     the stream is a terminal and TERM is not "dumb".
//   - Rendering markdown by default (RenderEnabled): stdout is a terminal and TERM is not "dumb",
//     or CLICOLOR_FORCE forces it. NO_COLOR keeps the rendering and drops the colour.
//   - Width: SetWrap(n) when n > 0, else the terminal width capped at 120, else COLUMNS, else 80.
//   - Style: decided once, never by querying the terminal (see Style).
//   - The live line (spinner, status) is drawn only when stderr is a terminal that understands
//     cursor control, and never touches stdout. CanMoveCursor says the same of stdout, for the
//     renderer's live tail: not TERM=dumb, not a TERM without terminfo, not a pipe.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// MaxWidth caps the wrap width taken from the terminal: longer lines are hard to read.
const MaxWidth = 120

// Fallback size when it cannot be detected (not a terminal and no COLUMNS/LINES).
const (
	DefaultWidth  = 80
	DefaultHeight = 40
)

// IOStreams is the set of standard streams plus what is known about them.
type IOStreams struct {
	In  io.Reader
	Out io.Writer
	// ErrOut is stderr. Writes through it are serialised with the live line, which is erased
	// before and redrawn after them, so warnings never mix with a spinner.
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	stdinPipeOrFile                bool
	stdinFd                        int // -1 when In is not a real terminal

	// size reports the terminal's columns and rows, ok=false when unknown.
	size func() (cols, rows int, ok bool)
	wrap int

	// terminfoDirs lists where to look for a terminfo entry (see CanMoveCursor); nil: nowhere.
	terminfoDirs func() []string

	envMu  sync.RWMutex
	env    map[string]string   // overrides set with SetEnv
	getenv func(string) string // the environment behind them

	styleMu   sync.Mutex
	stylePref string
	style     string // "" until detected

	live   *liveLine
	resize resizeWatchers
}

// System returns the process's streams. It detects which are terminals, but queries sizes
// lazily so that a resized terminal is followed.
func System() *IOStreams {
	stdin, stdout, stderr := os.Stdin, os.Stdout, os.Stderr
	s := &IOStreams{
		In:              stdin,
		Out:             stdout,
		stdinTTY:        isTerminal(stdin),
		stdoutTTY:       isTerminal(stdout),
		stderrTTY:       isTerminal(stderr),
		stdinPipeOrFile: isPipeOrFile(stdin),
		stdinFd:         -1,
		getenv:          os.Getenv,
	}
	if s.stdinTTY {
		s.stdinFd = int(stdin.Fd())
	}
	s.size = func() (int, int, bool) {
		// Prefer stdout; when it is piped (e.g. CLICOLOR_FORCE into less -R), the terminal
		// on stderr is still the one the output will be read on.
		for _, f := range []struct {
			tty bool
			f   *os.File
		}{{s.stdoutTTY, stdout}, {s.stderrTTY, stderr}} {
			if f.tty {
				if w, h, err := term.GetSize(int(f.f.Fd())); err == nil && w > 0 && h > 0 {
					return w, h, true
				}
			}
		}
		return 0, 0, false
	}
	s.terminfoDirs = s.systemTerminfoDirs
	s.live = newLiveLine(stderr, s)
	s.live.interval = spinnerInterval
	s.ErrOut = &stderrWriter{l: s.live}
	return s
}

func isTerminal(f *os.File) bool {
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// isPipeOrFile is crush's check: only a pipe or a regular file is read as input. A terminal
// would wait for typing and an idle socket (as some CI runners and IDEs give) would hang.
func isPipeOrFile(f *os.File) bool {
	info, err := f.Stat()
	if err != nil {
		return false
	}
	m := info.Mode()
	return m&os.ModeNamedPipe != 0 || m.IsRegular()
}

// Test returns streams backed by buffers: no stream is a terminal, stdin counts as a pipe, the
// size is unknown (80x40), the environment is empty and the spinner only moves on TickSpinner.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	s := &IOStreams{
		In:              in,
		Out:             out,
		stdinPipeOrFile: true,
		stdinFd:         -1,
		getenv:          func(string) string { return "" },
		size:            func() (int, int, bool) { return 0, 0, false },
	}
	s.live = newLiveLine(errOut, s)
	s.ErrOut = &stderrWriter{l: s.live}
	return s, in, out, errOut
}

// SetStdinTTY, SetStdoutTTY and SetStderrTTY override the detection, mostly for tests.
func (s *IOStreams) SetStdinTTY(v bool)  { s.stdinTTY = v }
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// SetStdinPipeOrFile overrides StdinIsPipeOrFile, for tests.
func (s *IOStreams) SetStdinPipeOrFile(v bool) { s.stdinPipeOrFile = v }

// SetSize fixes the terminal size, for tests.
func (s *IOStreams) SetSize(cols, rows int) {
	s.size = func() (int, int, bool) { return cols, rows, cols > 0 && rows > 0 }
}

// SetEnv overrides one environment variable for these streams only (tests use it to exercise
// the colour and style policy; an empty value counts as unset).
func (s *IOStreams) SetEnv(key, value string) {
	s.envMu.Lock()
	if s.env == nil {
		s.env = map[string]string{}
	}
	s.env[key] = value
	s.envMu.Unlock()
	s.styleMu.Lock()
	s.style = ""
	s.styleMu.Unlock()
}

func (s *IOStreams) lookupEnv(key string) string {
	s.envMu.RLock()
	v, ok := s.env[key]
	s.envMu.RUnlock()
	if ok {
		return v
	}
	return s.getenv(key)
}

// IsStdinTTY, IsStdoutTTY and IsStderrTTY report which streams are terminals; each is detected
// on its own, since any of them may be redirected.
func (s *IOStreams) IsStdinTTY() bool  { return s.stdinTTY }
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// StdinIsPipeOrFile reports whether stdin is a pipe or a regular file, the only kinds of stdin
// that may be read as input. A terminal or an idle socket is never read.
func (s *IOStreams) StdinIsPipeOrFile() bool { return s.stdinPipeOrFile }

// CanPrompt reports whether the user can be asked something: stdin and stdout are terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// SetWrap sets the width to wrap at (--wrap N); 0 or less goes back to the terminal width.
func (s *IOStreams) SetWrap(n int) { s.wrap = max(n, 0) }

// Width is the width to wrap rendered output at: the --wrap value, else the terminal width
// capped at MaxWidth, else COLUMNS (capped too), else DefaultWidth.
func (s *IOStreams) Width() int {
	if s.wrap > 0 {
		return s.wrap
	}
	if cols, _ := s.termSize(); cols > 0 {
		return min(cols, MaxWidth)
	}
	return DefaultWidth
}

// Height is the number of terminal rows (for the renderer's live area), else LINES, else
// DefaultHeight.
func (s *IOStreams) Height() int {
	if _, rows := s.termSize(); rows > 0 {
		return rows
	}
	return DefaultHeight
}

// termSize returns the detected size, falling back to COLUMNS and LINES; 0 means unknown.
func (s *IOStreams) termSize() (cols, rows int) {
	if c, r, ok := s.size(); ok {
		return c, r
	}
	return envInt(s.lookupEnv("COLUMNS")), envInt(s.lookupEnv("LINES"))
}

func envInt(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
