package iostreams

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// screen replays what a terminal would show for the bytes the live line writes: it knows
// carriage return, newline, erase-to-end-of-line and cursor show/hide, and fails on any other
// escape sequence, so a stray sequence cannot go unnoticed.
type screen struct {
	lines         [][]rune
	row, col      int
	cursorVisible bool
}

func replay(t *testing.T, out string) *screen {
	t.Helper()
	s := &screen{lines: [][]rune{nil}, cursorVisible: true}
	for i := 0; i < len(out); {
		switch {
		case strings.HasPrefix(out[i:], "\x1b[K"):
			s.lines[s.row] = s.lines[s.row][:min(s.col, len(s.lines[s.row]))]
			i += 3
		case strings.HasPrefix(out[i:], hideCursor):
			s.cursorVisible = false
			i += len(hideCursor)
		case strings.HasPrefix(out[i:], showCursor):
			s.cursorVisible = true
			i += len(showCursor)
		case out[i] == '\x1b':
			t.Fatalf("unexpected escape sequence at %d in %q", i, out)
		case out[i] == '\r':
			s.col = 0
			i++
		case out[i] == '\n':
			s.row++
			s.col = 0
			if s.row == len(s.lines) {
				s.lines = append(s.lines, nil)
			}
			i++
		default:
			r := []rune(out[i:])[0]
			line := s.lines[s.row]
			for len(line) < s.col {
				line = append(line, ' ')
			}
			if s.col < len(line) {
				line[s.col] = r
			} else {
				line = append(line, r)
			}
			s.lines[s.row] = line
			s.col++
			i += len(string(r))
		}
	}
	return s
}

func (s *screen) text() string {
	var b strings.Builder
	for i, l := range s.lines {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(string(l))
	}
	return b.String()
}

// liveTest gives streams where stdout and stderr are 80x24 terminals, and the two outputs.
func liveTest(t *testing.T) (*IOStreams, func() string, func() string) {
	t.Helper()
	ios, _, out, errOut := Test()
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
	ios.SetSize(80, 24)
	return ios, out.String, errOut.String
}

func TestSpinnerFramesAndErase(t *testing.T) {
	ios, out, errOut := liveTest(t)
	ios.StartSpinner("waiting")
	ios.TickSpinner()
	ios.TickSpinner()
	ios.StopSpinner()

	want := hideCursor + eraseLine + "⠋ waiting" + eraseLine + "⠙ waiting" + eraseLine + "⠹ waiting" + eraseLine + showCursor
	if got := errOut(); got != want {
		t.Errorf("stderr = %q\nwant     %q", got, want)
	}
	if out() != "" {
		t.Errorf("the spinner wrote to stdout: %q", out())
	}
	s := replay(t, errOut())
	if s.text() != "" || !s.cursorVisible {
		t.Errorf("after StopSpinner the screen shows %q, cursor visible %v", s.text(), s.cursorVisible)
	}
}

func TestSpinnerIdempotent(t *testing.T) {
	ios, _, errOut := liveTest(t)
	ios.StopSpinner() // stopping what never started does nothing
	ios.StartSpinner("one")
	ios.StartSpinner("two") // relabels, no second cursor hide
	ios.StopSpinner()
	ios.StopSpinner()
	ios.ClearStatus()
	want := hideCursor + eraseLine + "⠋ one" + eraseLine + "⠋ two" + eraseLine + showCursor
	if got := errOut(); got != want {
		t.Errorf("stderr = %q\nwant     %q", got, want)
	}
	ios.TickSpinner() // a stopped spinner does not draw
	if got := errOut(); got != want {
		t.Errorf("TickSpinner after stop drew: %q", got)
	}
}

func TestLiveLineOnlyOnCapableStderr(t *testing.T) {
	for _, tt := range []struct {
		name      string
		stderrTTY bool
		term      string
	}{
		{"stderr piped", false, ""},
		{"dumb terminal", true, "dumb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := Test()
			ios.SetStdoutTTY(true)
			ios.SetStderrTTY(tt.stderrTTY)
			ios.SetEnv("TERM", tt.term)
			ios.StartSpinner("waiting")
			ios.TickSpinner()
			ios.SetStatus("thinking… 3 tokens")
			ios.StopSpinner()
			ios.ClearStatus()
			if out.Len() != 0 || errOut.Len() != 0 {
				t.Errorf("wrote out %q err %q", out, errOut)
			}
		})
	}
}

func TestStatusLine(t *testing.T) {
	ios, out, errOut := liveTest(t)
	ios.StartSpinner("waiting")
	ios.SetStatus("thinking… 1 tokens")
	ios.SetStatus("thinking… 312 tokens")
	ios.SetStatus("thinking… 312 tokens") // unchanged: no redraw
	ios.TickSpinner()                     // the status replaced the spinner
	ios.ClearStatus()
	fmt.Fprintln(ios.ErrOut, "thought for 4.2s")

	want := hideCursor + eraseLine + "⠋ waiting" + eraseLine + "thinking… 1 tokens" + eraseLine + "thinking… 312 tokens" +
		eraseLine + showCursor + "thought for 4.2s\n"
	if got := errOut(); got != want {
		t.Errorf("stderr = %q\nwant     %q", got, want)
	}
	s := replay(t, errOut())
	if s.text() != "thought for 4.2s\n" || !s.cursorVisible {
		t.Errorf("screen = %q, cursor visible %v", s.text(), s.cursorVisible)
	}
	if out() != "" {
		t.Errorf("status wrote to stdout: %q", out())
	}
	ios.SetStatus("  ") // an empty status clears
	if errOut() != want {
		t.Errorf("empty status drew: %q", errOut())
	}
}

func TestErrOutWritesAroundLiveLine(t *testing.T) {
	ios, _, errOut := liveTest(t)
	ios.StartSpinner("waiting")
	fmt.Fprintln(ios.ErrOut, "warning: temperature 1.5 → 1")
	ios.TickSpinner()
	s := replay(t, errOut())
	if got := s.text(); got != "warning: temperature 1.5 → 1\n⠙ waiting" {
		t.Errorf("screen = %q", got)
	}

	// A partial line (a prompt) is not erased by the next frame: the spinner moves below it.
	fmt.Fprint(ios.ErrOut, "Key: ")
	ios.TickSpinner()
	ios.StopSpinner()
	s = replay(t, errOut())
	if got := s.text(); got != "warning: temperature 1.5 → 1\nKey: \n" || !s.cursorVisible {
		t.Errorf("screen = %q, cursor visible %v", got, s.cursorVisible)
	}
}

func TestLiveLineSanitisedAndFitted(t *testing.T) {
	ios, _, errOut := liveTest(t)
	ios.SetSize(20, 10)
	ios.SetStatus("evil\x1b[31m\nlabel that is much too long for the terminal")
	ios.ClearStatus()
	replay(t, errOut()) // fails on any escape sequence that is not ours
	shown := strings.TrimSuffix(strings.TrimPrefix(errOut(), hideCursor+eraseLine), eraseLine+showCursor)
	if w := len([]rune(shown)); w > 19 || !strings.HasPrefix(shown, "evil label") || !strings.HasSuffix(shown, "…") {
		t.Errorf("status drawn as %q (%d columns), want at most 19 columns ending in …, no controls", shown, w)
	}
}

// The animation goroutine, driven by a hand-fed ticker: frames appear in order, and nothing is
// drawn once StopSpinner has returned.
func TestSpinnerGoroutine(t *testing.T) {
	ios, out, errOut := liveTest(t)
	tick := make(chan time.Time)
	stopped := make(chan struct{})
	ios.live.newTicker = func(time.Duration) (<-chan time.Time, func()) {
		return tick, func() { close(stopped) }
	}
	ios.SetSpinnerInterval(time.Hour)
	ios.StartSpinner("waiting")
	// An unbuffered send completes only when the goroutine is back in its loop, so after the
	// third send the frames for the first two are on screen.
	for range 3 {
		tick <- time.Time{}
	}
	ios.StopSpinner()
	<-stopped

	got := errOut()
	prefix := hideCursor + eraseLine + "⠋ waiting" + eraseLine + "⠙ waiting" + eraseLine + "⠹ waiting"
	end := eraseLine + showCursor
	if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, end) {
		t.Fatalf("stderr = %q", got)
	}
	if middle := strings.TrimSuffix(strings.TrimPrefix(got, prefix), end); middle != "" && middle != eraseLine+"⠸ waiting" {
		t.Errorf("unexpected frames: %q", middle)
	}
	if out() != "" {
		t.Errorf("stdout = %q", out())
	}
}

// Real tickers, concurrent writers and repeated start/stop: must be race-free (go test -race)
// and always leave a clean screen.
func TestSpinnerConcurrentUse(t *testing.T) {
	ios, out, errOut := liveTest(t)
	// Frames fast enough to interleave with the writes, not so fast that the ticker starves them.
	ios.SetSpinnerInterval(50 * time.Microsecond)
	var wg sync.WaitGroup
	var written atomic.Int32
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				switch i % 4 {
				case 0:
					ios.StartSpinner(fmt.Sprintf("worker %d", w))
				case 1:
					fmt.Fprintf(ios.ErrOut, "line %d-%d\n", w, i)
					written.Add(1)
				case 2:
					ios.SetStatus(fmt.Sprintf("status %d", i))
				case 3:
					ios.StopSpinner()
				}
			}
		}()
	}
	wg.Wait()
	ios.StopSpinner()
	s := replay(t, errOut())
	if !s.cursorVisible {
		t.Error("cursor left hidden")
	}
	for _, line := range s.lines {
		l := string(line)
		if l != "" && !strings.HasPrefix(l, "line ") {
			t.Errorf("leftover on screen: %q", l)
		}
	}
	if got := strings.Count(s.text(), "line "); got != int(written.Load()) {
		t.Errorf("%d warning lines on screen, want %d", got, written.Load())
	}
	if out() != "" {
		t.Errorf("stdout = %q", out())
	}
}
