package render

import (
	"strings"
	"unicode/utf8"
)

// Sanitize returns s made safe to print on a terminal: text that came from the network, a
// file or the history database can carry escape sequences that write the clipboard
// (ESC ] 52), set the window title (ESC ] 0), clear the screen (ESC [ 2J) or worse.
//
//   - Escape sequences are removed whole: CSI (ESC [ or U+009B, up to its final byte), OSC
//     (ESC ] or U+009D, up to BEL or ST), DCS, SOS, PM and APC strings (ESC P/X/^/_ or
//     U+0090/0098/009E/009F, up to ST), and the two-byte and nF escapes (ESC, intermediate
//     bytes, final byte). A sequence cut off by the end of s is removed too.
//   - Tab and newline are kept; a carriage return right before a newline is dropped (CRLF
//     text). Every other C0 control and DEL is shown as its Unicode control picture
//     (BEL as ␇, a lone CR as ␍), and every other C1 control as U+FFFD.
//   - Each invalid UTF-8 byte becomes U+FFFD; valid UTF-8 is otherwise left as it is.
//
// Sanitize is only for output bound to a terminal. Piped output stays byte-exact.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f, c == '\t', c == '\n':
			j := i + 1
			for j < len(s) && (s[j] >= 0x20 && s[j] < 0x7f || s[j] == '\t' || s[j] == '\n') {
				j++
			}
			b.WriteString(s[i:j])
			i = j
		case c == 0x1b:
			i = skipEscape(s, i)
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			i++
		case c < 0x20:
			b.WriteRune(0x2400 + rune(c))
			i++
		case c == 0x7f:
			b.WriteRune(0x2421)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b.WriteRune(utf8.RuneError)
				i++
			case r >= 0x80 && r <= 0x9f:
				i = skipC1(s, i, r, size)
				if i < 0 {
					// A C1 control that introduces nothing: visible, one mark for it.
					b.WriteRune(utf8.RuneError)
					i = -i
				}
			default:
				b.WriteString(s[i : i+size])
				i += size
			}
		}
	}
	return b.String()
}

// RemoveEscapes returns s without its escape sequences, each removed whole (introducer,
// parameters and body) exactly as [Sanitize] removes it, and with each invalid UTF-8 byte
// made U+FFFD (so that no two bytes around a removed sequence join into a new one); every
// other character, control or not, is left as it is. It is for text that is shortened or
// made one line before it is shown, such as a title or a search snippet: dropping only the
// control characters there would leave a sequence's body (']52;c;...') as text that no
// later Sanitize can tell from the rest.
func RemoveEscapes(s string) string {
	if strings.IndexByte(s, 0x1b) < 0 && !hasC1Introducer(s) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			i = skipEscape(s, i)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			i++
		case size == 2 && s[i] == 0xc2 && introducesC1(s[i+1]):
			i = skipC1(s, i, r, size)
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// hasC1Introducer reports whether s holds the UTF-8 form of a C1 control that starts a sequence.
func hasC1Introducer(s string) bool {
	for i := strings.IndexByte(s, 0xc2); i >= 0 && i+1 < len(s); {
		if introducesC1(s[i+1]) {
			return true
		}
		j := strings.IndexByte(s[i+1:], 0xc2)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// isClean reports whether s is valid UTF-8 with no control character but tab and newline, the
// common case, in which Sanitize returns s itself. s is a string or a byte slice (a markdown
// source line), never copied: a non-ASCII character is decoded from at most utf8.UTFMax bytes.
func isClean[T string | []byte](s T) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if (r == utf8.RuneError && size == 1) || (r >= 0x80 && r <= 0x9f) {
			return false
		}
		i += size
	}
	return true
}

// skipEscape returns the index after the escape sequence that starts with ESC at s[i].
func skipEscape(s string, i int) int {
	i++ // ESC
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']':
		return skipString(s, i+1, true)
	case 'P', 'X', '^', '_':
		return skipString(s, i+1, false)
	}
	// nF escapes (ESC, intermediates 0x20-0x2F, a final byte) and the two-byte ones.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipC1 handles the C1 control r (size bytes at s[i]): for one that introduces a sequence
// it returns the index after that sequence; for any other it returns -(i+size).
func skipC1(s string, i int, r rune, size int) int {
	switch r {
	case 0x9b: // CSI
		return skipCSI(s, i+size)
	case 0x9d: // OSC
		return skipString(s, i+size, true)
	case 0x90, 0x98, 0x9e, 0x9f: // DCS, SOS, PM, APC
		return skipString(s, i+size, false)
	}
	return -(i + size)
}

// skipCSI returns the index after a control sequence whose parameters start at s[i]:
// parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, then one final byte 0x40-0x7E.
// Anything else ends the sequence early, as terminals abort it, and is left for the caller.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after a control string whose body starts at s[i]: it ends at
// ST (ESC \ or U+009C), at BEL for OSC, or at the end of s. Terminals also abort a string at
// CAN or SUB, which are dropped with it.
func skipString(s string, i int, bel bool) int {
	for i < len(s) {
		switch c := s[i]; {
		case c == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			// ESC followed by anything else aborts the string and starts a new sequence.
			return i
		case c == 0x07 && bel, c == 0x18, c == 0x1a:
			return i + 1
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c:
			return i + 2
		case c == 0xc2 && i+1 < len(s) && introducesC1(s[i+1]):
			// As ESC does, another introducer aborts the string and starts its sequence.
			return i
		}
		i++
	}
	return i
}

// maxHeld caps what StreamSanitizer holds back waiting for the end of a sequence: a longer
// unterminated string is cut (and removed) rather than buffered without bound.
const maxHeld = 4 << 10

// StreamSanitizer applies [Sanitize] to a text that arrives in pieces, such as an answer
// printed on a terminal without the markdown renderer: an escape sequence or a UTF-8
// character cut between two pieces is held back until the next piece completes it, so
// what is printed is what Sanitize makes of the whole text. The zero value is ready.
type StreamSanitizer struct{ held string }

// Next returns the printable form of what is complete after piece.
func (z *StreamSanitizer) Next(piece string) string {
	s := z.held + piece
	k := heldFrom(s)
	if len(s)-k > maxHeld {
		k = len(s)
	}
	z.held = s[k:]
	return Sanitize(s[:k])
}

// End returns the printable form of what is still held (a cut-off sequence is removed).
func (z *StreamSanitizer) End() string {
	s := z.held
	z.held = ""
	return Sanitize(s)
}

// heldFrom returns where the possibly unfinished end of s starts: the last escape
// sequence, if one more byte could still belong to it, or a cut UTF-8 character.
func heldFrom(s string) int {
	from := max(0, len(s)-maxHeld)
	k := -1
	for i := len(s) - 1; i >= from; i-- {
		if s[i] == 0x1b {
			k = i
			break
		}
		if s[i] == 0xc2 && i+1 < len(s) {
			if introducesC1(s[i+1]) {
				k = i
				break
			}
		}
	}
	if k >= 0 {
		// '0' continues every kind of unfinished sequence (a CSI parameter, an nF final
		// byte, a string's body): if it would be taken in, the sequence is not finished.
		t := s[k:] + "0"
		var end int
		if t[0] == 0x1b {
			end = skipEscape(t, 0)
		} else {
			r, size := utf8.DecodeRuneInString(t)
			end = skipC1(t, 0, r, size)
		}
		if end == len(t) {
			return k
		}
	}
	// A CR may be the first half of a CRLF.
	if strings.HasSuffix(s, "\r") {
		return len(s) - 1
	}
	// A UTF-8 character cut at the end: its lead byte is in the last three bytes.
	for i := len(s) - 1; i >= max(0, len(s)-3); i-- {
		if c := s[i]; c >= 0xc0 {
			if !utf8.FullRuneInString(s[i:]) {
				return i
			}
			break
		} else if c < 0x80 {
			break
		}
	}
	return len(s)
}

// introducesC1 reports whether 0xC2 followed by b is a C1 control that starts a sequence:
// CSI, OSC, DCS, SOS, PM or APC.
func introducesC1(b byte) bool {
	return b == 0x9b || b == 0x9d || b == 0x90 || b == 0x98 || b == 0x9e || b == 0x9f
}
