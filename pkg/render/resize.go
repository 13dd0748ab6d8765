package render

import (
	"bytes"
	"regexp"
	"sync"
)

// The live tail is a preview of the unfinished block, kept small enough to be erased after
// the terminal is resized. A terminal that reflows (tmux, VTE, kitty, iTerm2) turns each
// row of w columns into ceil(w/cols) rows when it narrows, and rows pushed off the top of
// the screen can never be erased. With rows of at most liveCols columns, a terminal of at
// least minResizeCols columns shows each tail row on at most two rows, so liveRows rows,
// plus the blank row that opens the answer, fit in a screen of minResizeRows rows.
const (
	minResizeCols = 40
	minResizeRows = 10
	liveCols      = 2*minResizeCols - 1
	liveRows      = (minResizeRows - 2) / 2
)

// tailRows is the live tail's row cap on a screen of height rows.
func tailRows(height int) int { return min(height-1, liveRows) }

// setHeight applies a terminal height: below 2 rows (or 8 columns) there is no live tail.
func (m *Markdown) setHeight(height int) {
	m.opts.Height = height
	m.live = height >= 2 && m.cols >= 8
	m.maxRows = tailRows(height)
}

// Resize tells the renderer that the terminal is now columns wide and height rows high, and
// that the answer is to be wrapped at width (0: as at the start). The live tail, which
// the terminal has reflowed by now, is erased using the geometry it was drawn with, then
// laid out again at the new size; blocks committed from now on are rendered at the new
// width. What is already committed stays as it is. A resize costs one layout of the live
// tail, never a render of the answer so far.
//
// The caller follows the terminal (SIGWINCH). Resizing a renderer made without a live tail
// (Height below 2) only changes the width of later blocks.
func (m *Markdown) Resize(width, columns, height int) error {
	m.frame.Lock()
	defer m.frame.Unlock()
	if m.done {
		return m.writeErr()
	}
	if width <= 0 {
		width = m.opts.Width
	}
	if columns <= 0 {
		columns = width
	}
	if m.live {
		m.tail.clearReflowed(&m.out, columns, height)
	}
	if width != m.opts.Width {
		opts := m.opts
		opts.Width = width
		th, err := newTheme(opts)
		if err != nil {
			return err
		}
		tr, err := th.newGlamour()
		if err != nil {
			return err
		}
		m.opts.Width, m.th, m.tr, m.marker = width, th, tr, ""
		if m.code != nil {
			m.code.th = th
		}
	}
	wasLive := m.live
	m.cols, m.opts.Columns = columns, columns
	m.setHeight(height)
	m.live = m.live && wasLive
	// Lay the tail out again from its source.
	t := &m.tail
	t.rows, t.done, t.gen, t.top = t.rows[:0], 0, -1, 0
	t.part.row = nil
	if m.live {
		m.drawTail()
	}
	m.flushOut()
	return m.writeErr()
}

// Suspend takes the live tail off the screen and holds frames until Resume, so that a line
// written to the same terminal meanwhile (a notice on stderr) lands below the committed
// output and not inside the tail. Every Suspend must be followed by one Resume.
func (m *Markdown) Suspend() {
	m.frame.Lock()
	if !m.done && m.live {
		m.tail.clear(&m.out)
		m.flushOut()
	}
}

// Resume draws the live tail again, below what was written since Suspend, and lets frames
// run.
func (m *Markdown) Resume() {
	if !m.done && m.live {
		m.drawTail()
		m.flushOut()
	}
	m.frame.Unlock()
}

// clearReflowed erases the tail after the terminal changed to cols columns and rows rows and
// reflowed it: a row of w columns now takes ceil(w/cols) rows, and the cursor, at the end of
// the last row, is (w-1)/cols rows below that row's start. It never moves above the top of
// the screen: rows already pushed into the scrollback are out of reach.
func (t *tail) clearReflowed(out *bytes.Buffer, cols, rows int) {
	if len(t.shown) == 0 {
		return
	}
	cols = max(cols, 1)
	up := 0
	for i, r := range t.shown {
		w := Width(r)
		switch {
		case i < len(t.shown)-1:
			up += max(1, (w+cols-1)/cols)
		case w > 0:
			up += (w - 1) / cols
		}
	}
	up = max(0, min(up, rows-1))
	out.WriteByte('\r')
	if up > 0 {
		cursorUp(out, up)
	}
	out.WriteString("\x1b[J")
	t.shown = t.shown[:0]
}

// emptyHeading is an ATX heading marker with nothing after it yet.
var emptyHeading = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ {0,3}#{1,6}[ \t]*$`) })

// dropEmptyHeading removes an unfinished last line that is only a heading marker.
func dropEmptyHeading(text []byte) []byte {
	i := bytes.LastIndexByte(text, '\n') + 1
	if emptyHeading().Match(text[i:]) {
		return text[:i]
	}
	return text
}

// closeInline closes a strong emphasis, strike-through or code span left open by an
// interrupted answer: unit is the unfinished block's complete lines, rest what follows. An
// opener with nothing after it is dropped instead. Inside a code fence nothing changes.
func closeInline(unit, rest []byte, inFence bool) []byte {
	if inFence || bytes.Contains(rest, []byte("```")) || bytes.Contains(rest, []byte("~~~")) {
		return rest
	}
	for _, mark := range []string{"`", "**", "~~"} {
		all := string(unit) + string(rest)
		n := countMark(all, mark)
		if n%2 == 0 {
			continue
		}
		i := bytes.LastIndex(rest, []byte(mark))
		if i >= 0 && len(bytes.TrimSpace(rest[i+len(mark):])) == 0 {
			rest = append(rest[:i:i], rest[i+len(mark):]...)
			continue
		}
		rest = append(bytes.TrimRight(rest, " \t"), mark...)
	}
	return rest
}

// countMark counts mark in s, outside code spans for the emphasis marks.
func countMark(s, mark string) int {
	n, inCode := 0, false
	for i := 0; i < len(s); {
		switch {
		case s[i] == '`':
			if mark == "`" {
				n++
			}
			inCode = !inCode
			i++
		case !inCode && mark != "`" && len(s)-i >= len(mark) && s[i:i+len(mark)] == mark:
			n++
			i += len(mark)
		default:
			i++
		}
	}
	return n
}
