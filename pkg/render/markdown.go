package render

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/charmbracelet/glamour"
)

// Markdown renders a streamed markdown answer with glamour, block by block, as described in
// the package documentation.
//
// What ends in the scrollback equals a one-shot glamour render of the whole answer (with the
// same Options) up to the blank lines between blocks and trailing spaces, with these
// exceptions:
//   - line endings are normalised: glamour prints the CR of CRLF input inside code blocks,
//     which blanks the line on a terminal; Markdown drops it;
//   - each line goes through Sanitize, so that an answer cannot send escape sequences to
//     the terminal: sequences are removed, other control characters but tab made visible,
//     invalid UTF-8 becomes U+FFFD;
//   - glamour's padding of every line to the full width is not written (see trimPadding);
//   - a reference link whose definition is in a different block stays unresolved;
//   - in a top-level code fence each line is coloured from the lines up to it (see
//     codeBlock), and a fence without a known language gets its lexer from its first line.
//
// Close or Interrupt must be called; until then a goroutine runs frames.
type Markdown struct {
	mu     sync.Mutex // guards in, closed and err: all that Write touches
	in     []byte     // written since the last frame
	closed bool
	err    error // the first error writing to w; Write reports it

	frame   sync.Mutex // one frame at a time; guards everything below
	w       io.Writer
	opts    Options // as given, with Width, Columns and Height following Resize
	th      *theme
	tr      *glamour.TermRenderer
	color   bool
	live    bool // a live tail is shown (Height >= 2)
	maxRows int  // the live tail's row cap (see tailRows)
	cols    int  // terminal columns, for the live tail
	split   splitter
	line    []byte // the incomplete last line
	lines   int    // complete lines so far
	spare   []byte // the previous input buffer, reused for the next one
	code    *codeBlock
	lexers  map[string]chroma.Lexer
	tail    tail
	batch   bytes.Buffer // the markdown of a frame's units, for glamour
	out     bytes.Buffer // the bytes of a frame, written to w in one call
	marker  string       // the text of the unit marker's rendering
	started bool         // something was written
	done    bool
	stop    func()
}

// NewMarkdown returns a Markdown writing to w, which should be a terminal. The first frame
// runs one FrameInterval later.
func NewMarkdown(w io.Writer, opts Options) (*Markdown, error) {
	if opts.Width <= 0 {
		opts.Width = 80
	}
	if opts.FrameInterval <= 0 {
		opts.FrameInterval = DefaultFrameInterval
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	th, err := newTheme(opts)
	if err != nil {
		return nil, err
	}
	tr, err := th.newGlamour()
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	m := &Markdown{
		w:      w,
		opts:   opts,
		th:     th,
		tr:     tr,
		color:  opts.Color,
		cols:   opts.Columns,
		lexers: map[string]chroma.Lexer{},
	}
	if m.cols <= 0 {
		m.cols = opts.Width
	}
	m.setHeight(opts.Height)
	m.stop = opts.Clock.Every(opts.FrameInterval, m.tick)
	return m, nil
}

// Write appends a delta of the answer; it never renders. It returns an error after Close or
// Interrupt, or once writing to the terminal has failed.
func (m *Markdown) Write(p []byte) (int, error) { return takeDelta(m, p) }

// WriteString is Write for a string, without a copy.
func (m *Markdown) WriteString(s string) (int, error) { return takeDelta(m, s) }

// takeDelta is Write and WriteString: p joins the text the next frame takes.
func takeDelta[T string | []byte](m *Markdown, p T) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	if m.closed {
		return 0, ErrClosed
	}
	m.in = append(m.in, p...)
	return len(p), nil
}

// Flush runs a frame now: everything final is rendered and the live tail brought up to date.
func (m *Markdown) Flush() error {
	m.frame.Lock()
	defer m.frame.Unlock()
	if !m.done {
		m.runFrame(false)
	}
	return m.writeErr()
}

// Close renders everything written, including an unfinished last block or an unclosed
// fence, removes the live tail, and leaves the colours reset and the cursor visible.
func (m *Markdown) Close() error { return m.end(nil) }

// Interrupt ends the answer early (Ctrl-C): what has arrived is rendered once, as if it
// were the whole answer, so that the screen shows rendered text and not a half-drawn
// source line. An unfinished last line that is only a heading marker ("##") is left out,
// and an emphasis or code span left open in the unfinished block is closed, so that the
// rendering shows text rather than markup. Colours are reset and the cursor is left
// visible, on a line of its own. The text given to Write is not changed: what a caller
// saves stays exactly what arrived.
func (m *Markdown) Interrupt() error {
	return m.end(func() {
		rest := append(append([]byte(nil), m.line...), m.in...)
		m.line = m.line[:0]
		m.in = closeInline(m.split.unit, dropEmptyHeading(rest), m.split.top != nil)
	})
}

// end is Close and Interrupt: the frame clock stops, no more writes are taken, and a final
// frame renders what is left. cut, when not nil, trims the unrendered text first, under the
// same lock that refuses writes, so that nothing slips in between. A second end does nothing.
func (m *Markdown) end(cut func()) error {
	m.stop()
	m.frame.Lock()
	defer m.frame.Unlock()
	if m.done {
		return m.writeErr()
	}
	m.mu.Lock()
	m.closed = true
	if cut != nil {
		cut()
	}
	m.mu.Unlock()
	m.runFrame(true)
	m.finish()
	return m.writeErr()
}

func (m *Markdown) tick() {
	m.frame.Lock()
	defer m.frame.Unlock()
	if !m.done {
		m.runFrame(false)
	}
}

// runFrame takes what was written since the last frame, commits every unit and code line
// that became final, and redraws the live tail. The final frame also commits what is left.
func (m *Markdown) runFrame(final bool) {
	m.mu.Lock()
	in := m.in
	m.in = m.spare[:0]
	m.mu.Unlock()
	if len(in) == 0 && !final {
		m.spare = in
		return
	}
	scan := len(m.line)
	m.line = append(m.line, in...)
	m.spare = in[:0]

	start := 0
	for {
		i := bytes.IndexByte(m.line[scan:], '\n')
		if i < 0 {
			break
		}
		end := scan + i
		m.split.feed(clean(trimEOL(m.line[start:end])))
		m.lines++
		start, scan = end+1, end+1
	}
	if final {
		if start < len(m.line) {
			m.split.feed(clean(trimEOL(m.line[start:])))
			start = len(m.line)
		}
		m.split.finish()
	}
	// Events point into m.line: commit before moving the incomplete line to the front.
	m.commit(final)
	m.line = m.line[:copy(m.line, m.line[start:])]
	if m.live && !final {
		m.drawTail()
	}
	m.flushOut()
}

// commit prints the frame's final units, all rendered by one glamour call, and the lines of
// the open code fence.
func (m *Markdown) commit(final bool) {
	evs := m.split.events
	if final && m.live {
		m.tail.clear(&m.out)
	}
	if len(evs) == 0 {
		return
	}
	var units [][]byte
	for _, e := range evs {
		if e.kind == evUnit {
			units = append(units, e.text)
		}
	}
	segs := m.renderUnits(units)
	if m.live {
		m.tail.clear(&m.out)
	}
	m.begin()
	for _, e := range evs {
		switch e.kind {
		case evUnit:
			// Every block is followed by one blank line, whatever glamour put around it, so
			// the output does not depend on which blocks shared a frame.
			if seg := segs[0]; len(seg) > 0 {
				m.out.Write(seg)
				m.out.WriteByte('\n')
			}
			segs = segs[1:]
		case evCodeOpen:
			m.code = newCodeBlock(m.th, e.lang, m.lexers, &m.out)
		case evCodeLine:
			m.code.line(&m.out, e.text)
		case evCodeClose:
			m.code.close(&m.out)
			if m.code.wrote {
				m.out.WriteByte('\n')
			}
			m.code = nil
		}
	}
	clear(evs) // drop references to the units' text
	m.split.events = evs[:0]
}

func (m *Markdown) begin() {
	if !m.started {
		m.started = true
		m.out.WriteByte('\n')
	}
}

// finish leaves the terminal clean and marks the renderer done.
func (m *Markdown) finish() {
	if m.started {
		if m.color {
			m.out.WriteString("\x1b[0m")
		}
		if m.live {
			m.out.WriteString("\x1b[?25h")
		}
	}
	m.flushOut()
	m.done = true
}

func (m *Markdown) flushOut() {
	if m.out.Len() == 0 {
		return
	}
	if m.writeErr() == nil {
		if _, err := m.w.Write(m.out.Bytes()); err != nil {
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
		}
	}
	m.out.Reset()
}

func (m *Markdown) writeErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// clean makes a line safe for the terminal with Sanitize: text from a model must not be
// able to send escape sequences to the terminal.
func clean(ln []byte) []byte {
	if isClean(ln) {
		return ln
	}
	return []byte(Sanitize(string(ln)))
}

// trimEOL drops the line ending ("\n" or "\r\n") of a line, and a lone CR at its end.
func trimEOL(ln []byte) []byte {
	ln = bytes.TrimSuffix(ln, []byte("\n"))
	return bytes.TrimSuffix(ln, []byte("\r"))
}
