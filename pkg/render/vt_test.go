package render

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// vt is a small terminal emulator for tests: it keeps the scrollback and the screen as one
// list of rows of cells, so that what a user would see at the end (and could scroll back to)
// can be compared. It understands exactly what a renderer may send: text, CR, LF (as a tty
// with ONLCR does: to the start of the next row), tab, SGR colours and attributes, cursor up,
// erase down/right and cursor show/hide. Anything else, terminal queries included, and any
// attempt to move the cursor above the top of the screen (into the scrollback, where nothing
// can be erased) is recorded as an error.
type vt struct {
	width, height int
	rows          [][]cell
	row, col      int
	top           int  // the first row on the screen
	pending       bool // the last column was written: the next character wraps
	attr          attr
	autowraps     int
	errs          []string
	partial       []byte // an incomplete UTF-8 sequence at the end of a write
}

type cell struct {
	g    string // the grapheme; "" for the right half of a wide one
	attr attr
}

type attr struct {
	fg, bg                                                           string
	bold, faint, italic, underline, blink, reverse, strike, overline bool
}

func newVT(width, height int) *vt {
	return &vt{width: width, height: height, rows: [][]cell{nil}}
}

func (v *vt) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func (v *vt) Write(p []byte) (int, error) {
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

func (v *vt) newline() {
	v.row++
	v.col, v.pending = 0, false
	for len(v.rows) <= v.row {
		v.rows = append(v.rows, nil)
	}
	v.top = max(v.top, v.row-v.height+1)
}

func (v *vt) text(s string) {
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
			v.autowraps++
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

func (v *vt) put(c cell) {
	row := v.rows[v.row]
	for len(row) <= v.col {
		row = append(row, cell{g: " "})
	}
	row[v.col] = c
	v.rows[v.row] = row
	v.col++
}

// escape interprets the escape sequence at the start of b and returns its length.
func (v *vt) escape(b []byte) int {
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
	if params != "" && final != 'm' && !strings.HasPrefix(params, "?") {
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
	case final == 'K' && (params == "" || params == "0"):
		v.rows[v.row] = truncate(v.rows[v.row], v.col)
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

func (v *vt) sgr(params string) {
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

// screen returns every row (scrollback and screen) as text with canonical escape sequences,
// trailing invisible spaces removed. It can be printed to a terminal to look at it.
func (v *vt) screen() []string {
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

// normalized is screen with runs of blank rows collapsed to one and blank rows at both ends
// removed: the comparison "up to runs of blank lines and trailing spaces".
func normalized(rows []string) string {
	var b strings.Builder
	blank := false
	started := false
	for _, r := range rows {
		if r == "" {
			blank = started
			continue
		}
		if blank {
			b.WriteString("\n")
		}
		b.WriteString(r)
		b.WriteString("\n")
		blank, started = false, true
	}
	return b.String()
}

// nonBlank is screen without its blank rows: how streamed output is compared with a one-shot
// render. Markdown separates every block by exactly one blank line, while glamour's spacing
// varies (it puts none after an HTML block); the golden files pin the spacing separately.
func nonBlank(rows []string) string {
	var b strings.Builder
	for _, r := range rows {
		if r != "" {
			b.WriteString(r)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// emulate runs output through a fresh terminal of the given size.
func emulate(output []byte, width, height int) *vt {
	v := newVT(width, height)
	v.Write(output)
	return v
}
