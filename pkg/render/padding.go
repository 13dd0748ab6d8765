package render

import (
	"bytes"
	"strings"
)

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
