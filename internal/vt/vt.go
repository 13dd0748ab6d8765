// Package vt is a small terminal emulator for tests: the renderer's tests and the
// pseudo-terminal tests of cmd/chat read what a user would see (the screen and the
// scrollback) through it, rather than grepping bytes.
package vt

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// VT is a small terminal emulator for tests: it keeps the scrollback and the screen as one
// list of rows of cells, so that what a user would see at the end (and could scroll back to)
// can be compared. It understands exactly what a renderer may send: text, CR, LF (as a tty
// with ONLCR does: to the start of the next row), tab, SGR colours and attributes, cursor up,
// erase down/right and cursor show/hide, and the "clear" command's cursor home and erase
// screen. Anything else, terminal queries included, and any attempt to move the cursor
// above the top of the screen (into the scrollback, where nothing can be erased) is
// recorded as an error.
//
// Resize reflows as tmux, VTE, kitty or iTerm2 do: rows the terminal wrapped by itself are
// joined again and every line is wrapped at the new width, the cursor keeping its place in
// its line; the screen is the bottom of the result, lines above it go to the scrollback.
type VT struct {
	width, height int
	rows          [][]cell
	wrapped       []bool // wrapped[i]: row i was wrapped by the terminal into row i+1
	row, col      int
	top           int  // the first row on the screen
	pending       bool // the last column was written: the next character wraps
	attr          attr
	// Autowraps counts the rows the terminal wrapped by itself.
	Autowraps int
	// Errs lists what a real terminal would not have done as the program meant.
	Errs    []string
	partial []byte // an incomplete UTF-8 sequence at the end of a write
}

type cell struct {
	g    string // the grapheme; "" for the right half of a wide one
	attr attr
}

type attr struct {
	fg, bg                                                           string
	bold, faint, italic, underline, blink, reverse, strike, overline bool
}

// New returns an empty terminal of the given size, the cursor at the top left.
func New(width, height int) *VT {
	return &VT{width: width, height: height, rows: [][]cell{nil}, wrapped: []bool{false}}
}

// Row is the cursor's row, counted from the first row of the scrollback.
func (v *VT) Row() int { return v.row }

func (v *VT) fail(format string, args ...any) {
	v.Errs = append(v.Errs, fmt.Sprintf(format, args...))
}

// Write interprets p as a terminal does. It never fails.
func (v *VT) Write(p []byte) (int, error) {
	b := append(v.partial, p...)
	v.partial = nil
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == 0x1b:
			n := v.escape(b)
			if n == 0 {
				v.fail("incomplete escape sequence %q", b)
				return len(p), nil
			}
			b = b[n:]
		case c == '\r':
			v.col, v.pending = 0, false
			b = b[1:]
		case c == '\n':
			v.newline()
			b = b[1:]
		case c == '\t':
			v.col = min(v.width-1, (v.col/8+1)*8)
			v.pending = false
			b = b[1:]
		case c < 0x20 || c == 0x7f:
			v.fail("control character %#x", c)
			b = b[1:]
		default:
			n := 0
			for n < len(b) && b[n] >= 0x20 && b[n] != 0x7f {
				n++
			}
			text := b[:n]
			if n == len(b) {
				// Keep an incomplete UTF-8 sequence for the next write.
				for k := 1; k <= 3 && k <= n; k++ {
					if utf8.RuneStart(text[n-k]) {
						if !utf8.FullRune(text[n-k:]) {
							v.partial = append([]byte(nil), text[n-k:]...)
							text = text[:n-k]
						}
						break
					}
				}
			}
			v.text(string(text))
			b = b[n:]
		}
	}
	return len(p), nil
}

func (v *VT) newline() {
	v.row++
	v.col, v.pending = 0, false
	for len(v.rows) <= v.row {
		v.rows = append(v.rows, nil)
		v.wrapped = append(v.wrapped, false)
	}
	v.top = max(v.top, v.row-v.height+1)
}

func (v *VT) text(s string) {
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		cl := g.Str()
		w := g.Width()
		if w == 0 {
			// A combining character belongs to the cell before it.
			if row := v.rows[v.row]; v.col > 0 && v.col-1 < len(row) {
				row[v.col-1].g += cl
			}
			continue
		}
		if v.pending || v.col+w > v.width {
			v.Autowraps++
			v.wrapped[v.row] = true
			v.newline()
		}
		v.put(cell{g: cl, attr: v.attr})
		if w == 2 {
			v.put(cell{g: "", attr: v.attr})
		}
		if v.col == v.width {
			v.col, v.pending = v.width-1, true
		}
	}
}

func (v *VT) put(c cell) {
	row := v.rows[v.row]
	for len(row) <= v.col {
		row = append(row, cell{g: " "})
	}
	row[v.col] = c
	v.rows[v.row] = row
	v.col++
}

// escape interprets the escape sequence at the start of b and returns its length.
func (v *VT) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	if b[1] != '[' {
		v.fail("escape sequence %q (only CSI is allowed; OSC and others query or change the terminal)", b[:2])
		return 2
	}
	i := 2
	for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
		i++
	}
	if i == len(b) {
		return 0
	}
	params, final := string(b[2:i]), b[i]
	n := 1
	if params != "" && final == 'A' {
		var err error
		if n, err = strconv.Atoi(params); err != nil {
			v.fail("bad parameters in %q", b[:i+1])
		}
	}
	switch {
	case final == 'm':
		v.sgr(params)
	case final == 'A':
		if v.row-n < v.top {
			v.fail("cursor up %d from row %d goes above the screen (top row %d)", n, v.row, v.top)
			n = v.row - v.top
		}
		v.row -= n
		v.pending = false
	case final == 'J' && (params == "" || params == "0"):
		v.rows[v.row] = truncate(v.rows[v.row], v.col)
		v.rows = v.rows[:v.row+1]
		v.wrapped = v.wrapped[:v.row+1]
		v.wrapped[v.row] = false
	case final == 'J' && (params == "2" || params == "3"):
		// The clear command: the screen (2) and the scrollback (3) are erased.
		from := v.top
		if params == "3" {
			from = 0
		}
		for i := from; i < len(v.rows); i++ {
			v.rows[i], v.wrapped[i] = nil, false
		}
	case final == 'H' && (params == "" || params == "1;1"):
		v.row, v.col, v.pending = v.top, 0, false
	case final == 'K' && (params == "" || params == "0"):
		v.rows[v.row] = truncate(v.rows[v.row], v.col)
		v.wrapped[v.row] = false
	case final == 'h' && params == "?25", final == 'l' && params == "?25":
	default:
		v.fail("unexpected escape sequence %q", b[:i+1])
	}
	return i + 1
}

func truncate(row []cell, n int) []cell {
	if n < len(row) {
		return row[:n]
	}
	return row
}

func (v *VT) sgr(params string) {
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		p := ps[i]
		color := func() string {
			if i+2 < len(ps) && ps[i+1] == "5" {
				i += 2
				return "5;" + ps[i]
			}
			if i+4 < len(ps) && ps[i+1] == "2" {
				i += 4
				return "2;" + strings.Join(ps[i-2:i+1], ";")
			}
			v.fail("bad colour in SGR %q", params)
			return ""
		}
		switch p {
		case "", "0":
			v.attr = attr{}
		case "1":
			v.attr.bold = true
		case "2":
			v.attr.faint = true
		case "3":
			v.attr.italic = true
		case "4":
			v.attr.underline = true
		case "5":
			v.attr.blink = true
		case "7":
			v.attr.reverse = true
		case "9":
			v.attr.strike = true
		case "22":
			v.attr.bold, v.attr.faint = false, false
		case "23":
			v.attr.italic = false
		case "24":
			v.attr.underline = false
		case "25":
			v.attr.blink = false
		case "27":
			v.attr.reverse = false
		case "29":
			v.attr.strike = false
		case "53":
			v.attr.overline = true
		case "55":
			v.attr.overline = false
		case "38":
			v.attr.fg = color()
		case "48":
			v.attr.bg = color()
		case "39":
			v.attr.fg = ""
		case "49":
			v.attr.bg = ""
		default:
			k, err := strconv.Atoi(p)
			switch {
			case err == nil && (k >= 30 && k <= 37 || k >= 90 && k <= 97):
				v.attr.fg = p
			case err == nil && (k >= 40 && k <= 47 || k >= 100 && k <= 107):
				v.attr.bg = p
			default:
				v.fail("unknown SGR parameter %q in %q", p, params)
			}
		}
	}
}

// visible reduces a cell to what can be seen: a space shows only its background and the
// lines drawn through it.
func visible(c cell) cell {
	if c.g == " " {
		return cell{g: " ", attr: attr{bg: c.attr.bg, reverse: c.attr.reverse, underline: c.attr.underline, strike: c.attr.strike, overline: c.attr.overline}}
	}
	return c
}

// Screen returns every row (scrollback and screen) as text with canonical escape sequences,
// trailing invisible spaces removed. It can be printed to a terminal to look at it.
func (v *VT) Screen() []string {
	out := make([]string, 0, len(v.rows))
	for _, row := range v.rows {
		cells := make([]cell, len(row))
		for i, c := range row {
			cells[i] = visible(c)
		}
		for len(cells) > 0 && cells[len(cells)-1] == (cell{g: " "}) {
			cells = cells[:len(cells)-1]
		}
		var b strings.Builder
		cur := attr{}
		for _, c := range cells {
			if c.attr != cur {
				b.WriteString(sgrOf(c.attr))
				cur = c.attr
			}
			b.WriteString(c.g)
		}
		if cur != (attr{}) {
			b.WriteString("\x1b[0m")
		}
		out = append(out, b.String())
	}
	return out
}

func sgrOf(a attr) string {
	p := []string{"0"}
	flags := []struct {
		on   bool
		code string
	}{{a.bold, "1"}, {a.faint, "2"}, {a.italic, "3"}, {a.underline, "4"}, {a.blink, "5"}, {a.reverse, "7"}, {a.strike, "9"}, {a.overline, "53"}}
	for _, f := range flags {
		if f.on {
			p = append(p, f.code)
		}
	}
	if a.fg != "" {
		p = append(p, fgCode(a.fg))
	}
	if a.bg != "" {
		p = append(p, bgCode(a.bg))
	}
	return "\x1b[" + strings.Join(p, ";") + "m"
}

func fgCode(c string) string {
	if strings.Contains(c, ";") {
		return "38;" + c
	}
	return c
}

func bgCode(c string) string {
	if strings.Contains(c, ";") {
		return "48;" + c
	}
	return c
}

// Lines returns the scrollback and screen as lines, the rows the terminal wrapped by itself
// joined again: what a person copying the text would get.
func (v *VT) Lines() []string {
	rows := v.Screen()
	var out []string
	cur := ""
	for i, r := range rows {
		cur += r
		if i < len(v.wrapped) && v.wrapped[i] && i+1 < len(rows) {
			continue
		}
		out = append(out, cur)
		cur = ""
	}
	return out
}

// Resize changes the terminal's size and reflows its content (see VT).
func (v *VT) Resize(width, height int) {
	if width == v.width && height == v.height {
		return
	}
	// Logical lines, and where the cursor is in its line.
	type line struct{ cells []cell }
	var lines []line
	curLine, curOff := 0, 0
	for i := 0; i < len(v.rows); i++ {
		if i == 0 || !v.wrapped[i-1] {
			lines = append(lines, line{})
		}
		l := &lines[len(lines)-1]
		if i == v.row {
			curLine, curOff = len(lines)-1, len(l.cells)+v.col
			if v.pending {
				curOff++
			}
		}
		row := v.rows[i]
		if v.wrapped[i] {
			// A wrapped row is full: pad it (a wide character that did not fit left a gap).
			for len(row) < v.width {
				row = append(row, cell{g: " "})
			}
		}
		l.cells = append(l.cells, row...)
	}
	v.width, v.height = width, height
	v.rows, v.wrapped = v.rows[:0], v.wrapped[:0]
	for li, l := range lines {
		first := len(v.rows)
		cells := l.cells
		for {
			n := min(len(cells), width)
			// A wide character is not split: its right half goes with it.
			if n < len(cells) && n > 0 && cells[n].g == "" {
				n--
			}
			v.rows = append(v.rows, append([]cell(nil), cells[:n]...))
			v.wrapped = append(v.wrapped, false)
			cells = cells[n:]
			if len(cells) == 0 {
				break
			}
			v.wrapped[len(v.wrapped)-1] = true
		}
		if li == curLine {
			// The cursor keeps its offset in the line; right after a full last row it waits
			// there to wrap, as after writing that row.
			off, r := curOff, first
			for r < len(v.rows)-1 && off >= len(v.rows[r]) && v.wrapped[r] {
				off -= len(v.rows[r])
				r++
			}
			v.row, v.col, v.pending = r, off, false
			if v.col >= width {
				v.col, v.pending = width-1, true
			}
		}
	}
	last := max(v.row, len(v.rows)-1)
	v.top = max(0, last-height+1)
}
