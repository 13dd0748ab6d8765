package iostreams

import (
	"io"
	"strings"
	"sync"
	"time"

	"github.com/moonchat/moonchat/pkg/render"
)

// Terminal control used by the live line.
const (
	eraseLine  = "\r\x1b[K"
	hideCursor = "\x1b[?25l"
	showCursor = "\x1b[?25h"
)

// spinnerFrames are the braille dots most terminal spinners use; each is one column wide.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// spinnerInterval is fast enough to look alive and slow enough to cost nothing.
const spinnerInterval = 100 * time.Millisecond

// liveLine is the one line at the bottom of stderr that moonchat redraws in place: a spinner
// while waiting, or a status such as "thinking… 312 tokens". All writes to stderr go through
// its mutex, so the spinner goroutine and the rest of the program never interleave bytes.
type liveLine struct {
	ios *IOStreams
	w   io.Writer // the real stderr

	mu       sync.Mutex
	text     string
	spinning bool
	frame    int
	shown    string // what is on screen now; "" when nothing is
	hidden   bool   // we hid the cursor
	midLine  bool   // the last other write to stderr did not end its line
	interval time.Duration
	// susp is what is drawn in place on stdout (the renderer's live tail) when stdout and
	// stderr are one terminal; held: it is suspended while stderr is written or a live line
	// shows.
	susp Suspender
	held bool
	stop chan struct{} // closes to end the spinner goroutine
	done chan struct{} // closed by the goroutine when it has ended

	// newTicker is time.NewTicker, replaced by tests to drive the goroutine by hand.
	newTicker func(time.Duration) (<-chan time.Time, func())
}

func newLiveLine(w io.Writer, ios *IOStreams) *liveLine {
	return &liveLine{ios: ios, w: w, newTicker: func(d time.Duration) (<-chan time.Time, func()) {
		t := time.NewTicker(d)
		return t.C, t.Stop
	}}
}

// stderrWriter is IOStreams.ErrOut: it takes the live line out of the way for each write.
type stderrWriter struct{ l *liveLine }

func (w *stderrWriter) Write(p []byte) (int, error) {
	l := w.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hold()
	defer func() {
		if l.shown == "" {
			l.release()
		}
	}()
	l.eraseLocked()
	n, err := l.w.Write(p)
	if len(p) > 0 {
		l.midLine = p[len(p)-1] != '\n'
	}
	// Redraw below a finished line; after a partial one (a prompt, say) wait for the next
	// update, which starts a new line rather than erase the user's text.
	if (l.spinning || l.text != "") && !l.midLine {
		l.drawLocked()
	}
	return n, err
}

// liveEnabled: the live line needs a terminal on stderr that understands cursor control.
func (s *IOStreams) liveEnabled() bool {
	return s.ErrCanMoveCursor()
}

// StartSpinner shows an animated spinner with a label on stderr, only when stderr is a
// terminal. Calling it again while it runs changes the label. The cursor is hidden until
// StopSpinner. Stop it before writing to Out.
func (s *IOStreams) StartSpinner(label string) {
	if !s.liveEnabled() {
		return
	}
	l := s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text = sanitize(label)
	if !l.spinning {
		l.spinning, l.frame = true, 0
		if l.interval > 0 && l.stop == nil {
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			tick, stopTicker := l.newTicker(l.interval)
			go l.run(l.stop, l.done, tick, stopTicker)
		}
	}
	l.drawLocked()
}

// StopSpinner removes the live line, spinner or status, and shows the cursor again. It is safe
// to call at any time, any number of times, and returns only when the spinner goroutine has
// ended, so nothing is drawn after it.
func (s *IOStreams) StopSpinner() { s.live.clear() }

// SetStatus shows a status text on the live line, replacing a spinner or an older status, only
// when stderr is a terminal; the cursor stays hidden while it shows. Clear it with ClearStatus,
// then print any final line (e.g. "thought for 4.2s") to ErrOut.
func (s *IOStreams) SetStatus(text string) {
	if !s.liveEnabled() {
		return
	}
	text = sanitize(text)
	if text == "" {
		s.live.clear()
		return
	}
	l := s.live
	l.mu.Lock()
	stop, done := l.detachLocked()
	l.text = text
	l.spinning = false
	l.drawLocked()
	l.mu.Unlock()
	wait(stop, done)
}

// ClearStatus removes the live line; it is the same as StopSpinner.
func (s *IOStreams) ClearStatus() { s.live.clear() }

// SetSpinnerInterval sets the time between spinner frames; 0 stops the automatic animation, so
// that only TickSpinner advances it (the default of Test). It applies from the next start.
func (s *IOStreams) SetSpinnerInterval(d time.Duration) {
	s.live.mu.Lock()
	s.live.interval = max(d, 0)
	s.live.mu.Unlock()
}

// TickSpinner advances a running spinner by one frame now, as the animation does on each tick.
func (s *IOStreams) TickSpinner() {
	l := s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spinning {
		l.frame++
		l.drawLocked()
	}
}

func (l *liveLine) run(stop, done chan struct{}, tick <-chan time.Time, stopTicker func()) {
	defer close(done)
	defer stopTicker()
	for {
		select {
		case <-stop:
			return
		case <-tick:
			l.mu.Lock()
			// A tick that raced with StopSpinner must not draw again.
			if l.stop == stop && l.spinning {
				l.frame++
				l.drawLocked()
			}
			l.mu.Unlock()
		}
	}
}

func (l *liveLine) clear() {
	l.mu.Lock()
	stop, done := l.detachLocked()
	l.text, l.spinning = "", false
	l.eraseLocked()
	if l.hidden {
		l.write(showCursor)
		l.hidden = false
	}
	l.release()
	l.mu.Unlock()
	wait(stop, done)
}

// detachLocked takes the spinner goroutine's channels so that it can be stopped after the
// mutex is released (it may be waiting for the mutex to draw a frame).
func (l *liveLine) detachLocked() (stop, done chan struct{}) {
	stop, done = l.stop, l.done
	l.stop, l.done = nil, nil
	return stop, done
}

func wait(stop, done chan struct{}) {
	if stop != nil {
		close(stop)
		<-done
	}
}

func (l *liveLine) drawLocked() {
	line := l.text
	if l.spinning {
		line = spinnerFrames[l.frame%len(spinnerFrames)] + " " + line
	}
	// A line wider than the terminal would wrap, and "\r\x1b[K" would then erase only its
	// last row: keep it one column short of the edge.
	if cols, _ := l.ios.termSize(); cols > 1 {
		line = render.Truncate(line, cols-1, "…")
	}
	if line == l.shown {
		return
	}
	l.hold()
	var b strings.Builder
	if l.midLine {
		b.WriteString("\n")
		l.midLine = false
	}
	if !l.hidden {
		b.WriteString(hideCursor)
		l.hidden = true
	}
	b.WriteString(eraseLine)
	b.WriteString(line)
	l.write(b.String())
	l.shown = line
}

func (l *liveLine) eraseLocked() {
	if l.shown != "" {
		l.write(eraseLine)
		l.shown = ""
	}
}

// write ignores errors: a live line that cannot be drawn is not worth failing a request for.
func (l *liveLine) write(s string) { _, _ = io.WriteString(l.w, s) }

// sanitize keeps the live line on one line and free of escape sequences from outside.
func sanitize(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return ' '
		}
		return r
	}, render.Sanitize(s)))
}

// Suspender is something drawn in place on stdout, such as the renderer's live tail, that
// must step aside while a line is written to stderr on the same terminal: Suspend takes it
// off the screen and holds it, Resume draws it again below what was written meanwhile.
type Suspender interface {
	Suspend()
	Resume()
}

// SetSuspender registers x to be suspended around every write to ErrOut and while a live
// line (spinner, status) shows; nil removes it. It has an effect only when stdout and stderr
// are both terminals, as they are one screen then.
func (s *IOStreams) SetSuspender(x Suspender) {
	if !s.stdoutTTY || !s.stderrTTY {
		x = nil
	}
	l := s.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.susp != x {
		l.release()
		l.susp = x
	}
}

func (l *liveLine) hold() {
	if l.susp != nil && !l.held {
		l.held = true
		l.susp.Suspend()
	}
}

func (l *liveLine) release() {
	if l.held {
		l.held = false
		l.susp.Resume()
	}
}
