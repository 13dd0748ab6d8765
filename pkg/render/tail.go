package render

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// tail shows the unfinished end of the answer below the committed output: plain text,
// wrapped to the terminal, redrawn in place when it changes. Every row is narrower than the
// terminal, so the terminal never wraps one by itself and the rows can be counted back up
// to erase them. The cursor rests at the end of the last row.
type tail struct {
	rows  []string // rows of the complete lines of the current unit, laid out once
	done  int      // bytes of the unit laid out so far
	gen   int      // the unit the rows belong to
	part  wrapper  // the incomplete last line
	key   int      // what the tail shows: the unit's number, or the line of an open fence
	top   int      // the first of its rows on the screen
	shown []string // rows on the screen
	buf   []string // scratch for the rows of a frame
}

// draw brings the screen from the shown rows to rows, writing as little as possible: usually
// the new end of the last row.
func (t *tail) draw(out *bytes.Buffer, rows []string) {
	old := t.shown
	i := 0
	for i < len(old) && i < len(rows) && old[i] == rows[i] {
		i++
	}
	if i == len(old) && i == len(rows) {
		return
	}
	switch {
	case len(old) == 0:
		// The cursor is at the start of an empty line.
		out.WriteString(rows[0])
		i = 1
	case i == len(old):
		// Only new rows: continue after the last one.
	case i == len(old)-1 && i < len(rows) && strings.HasPrefix(rows[i], old[i]):
		out.WriteString(rows[i][len(old[i]):])
		i++
	default:
		// Go back to the first changed row (to the last remaining one when rows only
		// shrank), erase from there down, and write the rest again.
		if i == len(rows) && i > 0 {
			i--
		}
		out.WriteByte('\r')
		if up := len(old) - 1 - i; up > 0 {
			cursorUp(out, up)
		}
		out.WriteString("\x1b[J")
		if i < len(rows) {
			out.WriteString(rows[i])
			i++
		}
	}
	for ; i < len(rows); i++ {
		out.WriteByte('\n')
		out.WriteString(rows[i])
	}
	t.shown = append(t.shown[:0], rows...)
}

// clear erases the tail from the screen, leaving the cursor where its first row began.
func (t *tail) clear(out *bytes.Buffer) {
	if len(t.shown) == 0 {
		return
	}
	out.WriteByte('\r')
	if up := len(t.shown) - 1; up > 0 {
		cursorUp(out, up)
	}
	out.WriteString("\x1b[J")
	t.shown = t.shown[:0]
}

func cursorUp(out *bytes.Buffer, n int) {
	out.WriteString("\x1b[")
	out.WriteString(strconv.Itoa(n))
	out.WriteByte('A')
}

// layout appends the rows of one complete source line.
func layout(rows []string, prefix string, line []byte, width int) []string {
	z := wrapper{prefix: prefix, width: width}
	z.add(line, true)
	rows = append(rows, z.rows...)
	return append(rows, string(z.row))
}

// wrapper lays out one source line as rows: the prefix, then the text wrapped at width
// columns at spaces (or anywhere in a longer word). Control characters are dropped, tabs
// become spaces and invalid UTF-8 becomes U+FFFD, so that the width of every row is known.
//
// Text can be added as it arrives: a finished row never changes when more text follows, so
// the incomplete last line of the answer costs only its new bytes in each frame, however
// long it grows.
type wrapper struct {
	prefix string
	width  int
	line   int      // which line of the answer this is (Markdown.lines when it began)
	done   int      // bytes of the line laid out
	rows   []string // finished rows
	row    []byte   // the row being filled, prefix included
	w      int      // its width in columns, prefix excluded
	cut    int      // length of row up to and including its last space, -1 if none
	cutW   int      // width of row up to that space
	state  int      // grapheme segmentation state
}

func (z *wrapper) reset(prefix string, width, line int) {
	*z = wrapper{prefix: prefix, width: width, line: line, rows: z.rows[:0], row: append(z.row[:0], prefix...), cut: -1, state: -1}
}

// update lays out the new bytes of a line that grows, and returns all its rows. The last
// grapheme may still grow (a combining mark or an emoji modifier may follow), so it is shown
// but laid out again in the next frame.
func (z *wrapper) update(line []byte) []string {
	z.done += z.add(line[z.done:], false)
	tmp := *z
	tmp.row = append([]byte(nil), z.row...)
	tmp.add(line[z.done:], true)
	return append(tmp.rows, string(tmp.row))
}

// add lays out text and returns how many bytes it took: all of them if final, else all but
// a last grapheme that may be incomplete.
func (z *wrapper) add(text []byte, final bool) int {
	if z.row == nil {
		z.row = append(z.row, z.prefix...)
		z.cut, z.state = -1, -1
	}
	n := 0
	for n < len(text) {
		c := text[n]
		if c < utf8.RuneSelf {
			// ASCII needs no grapheme segmentation; it is most of the text.
			n++
			switch {
			case c == '\t':
				for k := 4 - z.w%4; k > 0; k-- {
					z.push(" ", 1)
				}
			case c < 0x20 || c == 0x7f:
			default:
				z.push(asciiStrings[c], 1)
			}
			z.state = -1
			continue
		}
		rest := text[n:]
		if !final && !utf8.FullRune(rest) {
			break
		}
		r, size := utf8.DecodeRune(rest)
		if r == utf8.RuneError && size <= 1 {
			n++
			z.push("\uFFFD", 1)
			z.state = -1
			continue
		}
		if r >= 0x80 && r < 0xa0 {
			n += size // C1 control characters
			continue
		}
		g, after, gw, state := uniseg.FirstGraphemeCluster(rest, z.state)
		if !final && len(after) == 0 {
			break // the cluster may continue in the next delta
		}
		z.state = state
		n += len(g)
		if !utf8.Valid(g) {
			g = bytes.ToValidUTF8(g, []byte("\uFFFD"))
		}
		z.push(string(g), gw)
	}
	return n
}

func (z *wrapper) push(g string, gw int) {
	for z.w+gw > z.width && z.w > 0 {
		if z.cut > 0 {
			z.rows = append(z.rows, string(z.row[:z.cut]))
			rest := append([]byte(nil), z.row[z.cut:]...)
			z.row = append(append(z.row[:0], z.prefix...), rest...)
			z.w -= z.cutW
		} else {
			z.rows = append(z.rows, string(z.row))
			z.row = append(z.row[:0], z.prefix...)
			z.w = 0
		}
		z.cut = -1
	}
	z.row = append(z.row, g...)
	z.w += gw
	if g == " " {
		z.cut, z.cutW = len(z.row), z.w
	}
}

var asciiStrings = func() (t [utf8.RuneSelf]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()

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

// layoutWith lays out a line indented by indent columns.
func (m *Markdown) layoutWith(rows []string, ln []byte, indent int) []string {
	prefix, width := m.rowLayout(indent)
	return layout(rows, prefix, ln, width)
}

// rowLayout returns the prefix and text width of live rows indented by indent columns:
// within the terminal (and liveCols) and no wider than glamour's text, leaving the last column free so
// the terminal never wraps a row by itself.
func (m *Markdown) rowLayout(indent int) (string, int) {
	width := min(m.cols-1, liveCols) - indent
	if m.th.width > 0 && m.th.width < width {
		width = m.th.width
	}
	if width < 4 {
		indent, width = 0, max(1, m.cols-1)
	}
	return strings.Repeat(" ", indent), width
}
