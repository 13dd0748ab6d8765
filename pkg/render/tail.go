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
