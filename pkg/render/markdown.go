package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/charmbracelet/glamour"
)

// unitMarker separates the units of one frame in the document handed to glamour, so that the
// rendering of each unit can be cut out of the single result. It is a paragraph of its own,
// between blank lines, so it cannot continue any block before it. It is a link because a
// link is rendered differently from its source: if a unit left something open that took
// the marker in (a fence or an HTML block that CommonMark does not close where the splitter
// thought), the marker shows up as source text, the cut is refused, and the units are
// rendered one by one.
const (
	unitMarker     = "[qmcunitbreak](q)"
	unitMarkerWord = "qmcunitbreak"
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
	th      *theme
	tr      *glamour.TermRenderer
	color   bool
	live    bool // a live tail is shown (Height >= 2)
	maxRows int  // the live tail's row cap: Height-1
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
		th:     th,
		tr:     tr,
		color:  opts.Color,
		cols:   opts.Columns,
		lexers: map[string]chroma.Lexer{},
	}
	if m.cols <= 0 {
		m.cols = opts.Width
	}
	// A live tail needs room for at least one row and a few columns of text.
	m.live = opts.Height >= 2 && m.cols >= 8
	m.maxRows = opts.Height - 1
	m.stop = opts.Clock.Every(opts.FrameInterval, m.tick)
	return m, nil
}

// Write appends a delta of the answer; it never renders. It returns an error after Close or
// Interrupt, or once writing to the terminal has failed.
func (m *Markdown) Write(p []byte) (int, error) {
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

// WriteString is Write for a string, without a copy.
func (m *Markdown) WriteString(s string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	if m.closed {
		return 0, ErrClosed
	}
	m.in = append(m.in, s...)
	return len(s), nil
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
func (m *Markdown) Close() error {
	m.stop()
	m.frame.Lock()
	defer m.frame.Unlock()
	if m.done {
		return m.writeErr()
	}
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.runFrame(true)
	m.finish()
	return m.writeErr()
}

// Interrupt ends the answer at once (Ctrl-C). What is already rendered stays; the text not
// rendered yet (the live tail and anything that arrived since the last frame) is printed as
// the plain text the live tail showed, in full, instead of being rendered. Rendering half a
// block would show something the answer never said (a half table, a list cut short as if
// complete), and an interrupt must not wait for glamour. Colours are reset and the cursor
// is left visible, on a line of its own.
func (m *Markdown) Interrupt() error {
	m.stop()
	m.frame.Lock()
	defer m.frame.Unlock()
	if m.done {
		return m.writeErr()
	}
	m.mu.Lock()
	m.closed = true
	m.line = append(m.line, m.in...)
	m.in = nil
	m.mu.Unlock()

	var rows []string
	if m.split.top != nil {
		for _, ln := range bytes.SplitAfter(m.line, []byte("\n")) {
			if len(ln) > 0 {
				rows = m.layoutCode(rows, trimEOL(ln))
			}
		}
	} else {
		m.updateUnitRows()
		rows = append(rows, m.tail.rows...)
		for range m.split.blanks {
			rows = append(rows, "")
		}
		for _, ln := range bytes.SplitAfter(m.line, []byte("\n")) {
			if len(ln) > 0 {
				rows = m.layoutText(rows, trimEOL(ln))
			}
		}
	}
	m.tail.clear(&m.out)
	if len(rows) > 0 {
		m.begin()
		for _, r := range rows {
			m.out.WriteString(strings.TrimRight(r, " "))
			m.out.WriteByte('\n')
		}
	}
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

// renderUnits renders the units with one glamour call and returns each unit's lines, with
// the blank lines around them removed.
func (m *Markdown) renderUnits(units [][]byte) [][]byte {
	if len(units) == 0 {
		return nil
	}
	for _, u := range units {
		// A link reference definition would resolve links in the other units of the call,
		// which they do not see when they are rendered in another frame.
		if bytes.Contains(u, []byte(unitMarkerWord)) || bytes.Contains(u, []byte("]:")) {
			return m.renderEach(units)
		}
	}
	m.batch.Reset()
	for i, u := range units {
		if i > 0 {
			m.batch.WriteString("\n" + unitMarker + "\n\n")
		}
		m.batch.Write(u)
	}
	out, err := m.glamour(m.batch.Bytes())
	if err != nil {
		return m.renderEach(units)
	}
	segs := cutAtMarkers(out, len(units), m.markerLine())
	if segs == nil {
		return m.renderEach(units)
	}
	return segs
}

// renderEach renders the units one glamour call each: the fallback when the marker cannot
// be used. A unit glamour fails on is printed as plain text.
func (m *Markdown) renderEach(units [][]byte) [][]byte {
	segs := make([][]byte, len(units))
	for i, u := range units {
		out, err := m.glamour(u)
		if err != nil {
			var rows []string
			for _, ln := range bytes.SplitAfter(u, []byte("\n")) {
				if len(ln) > 0 {
					rows = m.layoutText(rows, trimEOL(ln))
				}
			}
			out = []byte(strings.Join(rows, "\n") + "\n")
		}
		segs[i] = tidy(out)
	}
	return segs
}

// glamour renders src with the reused TermRenderer. A panic inside glamour or chroma must
// not take the program down with the user's terminal in a mess: it becomes an error, and
// the renderer, whose state may be broken, is replaced.
func (m *Markdown) glamour(src []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render: glamour panicked: %v", r)
			if tr, e := m.th.newGlamour(); e == nil {
				m.tr = tr
			}
		}
	}()
	return m.tr.RenderBytes(src)
}

// markerLine returns the text of the marker's rendering, learnt from glamour the first time.
func (m *Markdown) markerLine() string {
	if m.marker == "" {
		out, err := m.glamour([]byte(unitMarker + "\n"))
		if err != nil {
			return "\x00" // matches nothing: units are rendered one by one
		}
		m.marker = strings.TrimSpace(stripEscapes(tidy(out)))
	}
	return m.marker
}

// cutAtMarkers splits glamour's output at the n-1 lines that render the marker as marker.
// It returns nil if the markers are not all there, rendered as they should be.
func cutAtMarkers(out []byte, n int, marker string) [][]byte {
	segs := make([][]byte, 0, n)
	from := 0
	for len(segs) < n-1 {
		i := bytes.Index(out[from:], []byte(unitMarkerWord))
		if i < 0 {
			return nil
		}
		i += from
		lineStart := bytes.LastIndexByte(out[:i], '\n') + 1
		lineEnd := len(out)
		if j := bytes.IndexByte(out[i:], '\n'); j >= 0 {
			lineEnd = i + j + 1
		}
		if strings.TrimSpace(stripEscapes(out[lineStart:lineEnd])) != marker {
			return nil
		}
		segs = append(segs, tidy(out[from:lineStart]))
		from = lineEnd
	}
	if bytes.Contains(out[from:], []byte(unitMarkerWord)) {
		return nil
	}
	return append(segs, tidy(out[from:]))
}

// tidy prepares glamour's rendering of a unit for the terminal: the padding at the end of
// every line goes (see trimPadding), and so do the blank lines at both ends. It returns nil
// if nothing is left.
func tidy(b []byte) []byte {
	var out []byte
	blanks := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = trimPadding(line)
		if len(line) == 0 {
			blanks++
			continue
		}
		if len(out) > 0 {
			for ; blanks > 0; blanks-- {
				out = append(out, '\n')
			}
		}
		blanks = 0
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

// trimPadding cuts the invisible ends of a rendered line. glamour pads every line to the wrap
// width with spaces, each in its own colour escape: most of its output bytes. On a
// terminal they only cost time, get copied with the text, and, where glamour measured a tab
// as zero columns, overflow the line so the terminal wraps it into an extra blank row.
// Spaces that show (a background colour, reverse video, underline or strike-through) are
// kept. At the start of a line, escapes up to the last reset are dropped: glamour carries
// styles over from the line before, which depends on what else was in the same call, and
// every line here starts and ends with the default style. An empty result means the line
// was blank.
func trimPadding(line []byte) []byte {
	var st, atCut spaceStyle
	start, cut := 0, 0
	printed := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == 0x1b && i+1 < len(line) && line[i+1] == '[' {
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			if j < len(line) && line[j] == 'm' {
				st.apply(line[i+2 : j])
				if !printed && !st.styled {
					start = j + 1
				}
			}
			i = j
			continue
		}
		printed = true
		if c != ' ' && c != '\r' || st.visible() {
			cut = i + 1
			atCut = st
		}
	}
	if cut <= start {
		return nil
	}
	if start == 0 && cut == len(line) && !st.styled {
		return line
	}
	out := line[start:cut:cut]
	if atCut.styled {
		out = append(out, "\x1b[0m"...)
	}
	return out
}

// spaceStyle is the part of the SGR state that decides whether a space can be seen.
type spaceStyle struct {
	styled                                   bool // anything but the default is set
	bg, reverse, underline, strike, overline bool
}

func (s *spaceStyle) visible() bool {
	return s.bg || s.reverse || s.underline || s.strike || s.overline
}

func (s *spaceStyle) apply(params []byte) {
	skip := 0 // sub-parameters of a 38 or 48 colour still to pass over
	next := func() string {
		i := bytes.IndexByte(params, ';')
		if i < 0 {
			i = len(params)
		}
		p := params[:i]
		params = params[min(i+1, len(params)):]
		return string(p)
	}
	for first := true; first || len(params) > 0; first = false {
		p := next()
		if skip > 0 {
			if skip == 9 { // the colour's kind: 5 (indexed) or 2 (RGB)
				skip = 1
				if p == "2" {
					skip = 3
				}
				continue
			}
			skip--
			continue
		}
		if p == "" || p == "0" {
			*s = spaceStyle{}
			continue
		}
		s.styled = true
		switch {
		case p == "38":
			skip = 9
		case p == "48":
			s.bg, skip = true, 9
		case p == "49":
			s.bg = false
		case len(p) == 2 && p[0] == '4' && p[1] <= '7' || len(p) == 3 && p[:2] == "10":
			s.bg = true
		case p == "7":
			s.reverse = true
		case p == "27":
			s.reverse = false
		case p == "4" || strings.HasPrefix(p, "4:"):
			s.underline = p != "4:0"
		case p == "24":
			s.underline = false
		case p == "9":
			s.strike = true
		case p == "29":
			s.strike = false
		case p == "53":
			s.overline = true
		case p == "55":
			s.overline = false
		}
	}
}

// stripEscapes removes CSI escape sequences.
func stripEscapes(b []byte) string {
	var s strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '[' {
			i += 2
			for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
				i++
			}
			continue
		}
		s.WriteByte(b[i])
	}
	return s.String()
}

// drawTail shows the unfinished unit (or the incomplete line of an open fence) as plain text.
//
// A tail taller than the screen shows its newest rows. When it needs to scroll, it scrolls
// by half the window at once, so that the window is redrawn once per half a screen of new
// rows rather than for every row; in between, new text is only appended. Only the rows that
// are shown are gathered, so a frame costs the same however long the unit is.
func (m *Markdown) drawTail() {
	t := &m.tail
	var part []string
	if len(m.line) > 0 {
		indent := m.th.marginWidth
		if m.split.top != nil {
			indent += m.th.code.indentWidth
		}
		prefix, width := m.rowLayout(indent)
		z := &t.part
		if z.line != m.lines || z.prefix != prefix || z.row == nil {
			z.reset(prefix, width, m.lines)
		}
		part = z.update(trimEOL(m.line))
	}
	var unit []string
	blanks := 0
	key := -1 - m.lines // an open fence shows one line at a time
	if m.split.top == nil {
		m.updateUnitRows()
		unit, blanks, key = t.rows, m.split.blanks, m.split.gen
	}
	total := len(unit) + blanks + len(part)
	if key != t.key || total <= m.maxRows {
		t.key, t.top = key, 0
	}
	if total-t.top > m.maxRows {
		t.top = total - max(1, (m.maxRows+1)/2)
	}
	rows := t.buf[:0]
	if t.top < len(unit) {
		rows = append(rows, unit[t.top:]...)
	}
	for i := len(unit); i < len(unit)+blanks; i++ {
		if i >= t.top {
			rows = append(rows, "")
		}
	}
	rows = append(rows, part[max(0, t.top-len(unit)-blanks):]...)
	if !m.started && len(rows) > 0 {
		// The blank line that will open the answer, shown but not yet committed: what
		// stays on the screen must not depend on whether a tail was ever drawn.
		rows = append(rows[:1], rows...)
		rows[0] = ""
		if len(rows) > m.maxRows {
			rows = rows[1:]
		}
	}
	t.buf = rows[:0]
	t.draw(&m.out, rows)
}

// updateUnitRows lays out the lines of the unfinished unit that are new since the last frame.
func (m *Markdown) updateUnitRows() {
	t := &m.tail
	if t.gen != m.split.gen || t.done > len(m.split.unit) {
		t.rows, t.done, t.gen = t.rows[:0], 0, m.split.gen
	}
	u := m.split.unit
	for t.done < len(u) {
		i := bytes.IndexByte(u[t.done:], '\n')
		t.rows = m.layoutText(t.rows, u[t.done:t.done+i])
		t.done += i + 1
	}
}

func (m *Markdown) layoutText(rows []string, ln []byte) []string {
	return m.layoutWith(rows, ln, m.th.marginWidth)
}

func (m *Markdown) layoutCode(rows []string, ln []byte) []string {
	return m.layoutWith(rows, ln, m.th.marginWidth+m.th.code.indentWidth)
}

// layoutWith lays out a line indented by indent columns.
func (m *Markdown) layoutWith(rows []string, ln []byte, indent int) []string {
	prefix, width := m.rowLayout(indent)
	return layout(rows, prefix, ln, width)
}

// rowLayout returns the prefix and text width of live rows indented by indent columns:
// within the terminal and no wider than glamour's text, leaving the last column free so
// the terminal never wraps a row by itself.
func (m *Markdown) rowLayout(indent int) (string, int) {
	width := m.cols - 1 - indent
	if m.th.width > 0 && m.th.width < width {
		width = m.th.width
	}
	if width < 4 {
		indent, width = 0, max(1, m.cols-1)
	}
	return strings.Repeat(" ", indent), width
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
	if isCleanBytes(ln) {
		return ln
	}
	return []byte(Sanitize(string(ln)))
}

// trimEOL drops the line ending ("\n" or "\r\n") of a line, and a lone CR at its end.
func trimEOL(ln []byte) []byte {
	ln = bytes.TrimSuffix(ln, []byte("\n"))
	return bytes.TrimSuffix(ln, []byte("\r"))
}
