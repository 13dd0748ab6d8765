package vt

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Hostile is text an upstream, a file or the history database could hold: a clipboard write
// (OSC 52), a window title (OSC 0), a screen clear, C1 forms of CSI and OSC, a lone C1
// control, a DCS string and bells. "pwn" and "end" show that the text around them is kept.
const Hostile = "pwn\x1b]52;c;Y2xpcA==\a\x1b]0;title\x1b\\\x1b[2J\x1b[H\u009b2J\u009d0;t\a\u0085\x1bP0;1|x\x1b\\\a end"

// HostileBodies are the bodies of Hostile's clipboard write, window title and DCS string.
// Text showing one lost a sequence's introducer but kept its body: it holds no control
// character, yet prints the sequence's insides (a one-line summary that dropped the ESC
// before the sanitizer saw it).
var HostileBodies = []string{"52;c;Y2xpcA==", "0;title", "0;1|x"}

// HostileBody returns the first of HostileBodies in s, or "".
func HostileBody(s string) string {
	for _, b := range HostileBodies {
		if strings.Contains(s, b) {
			return b
		}
	}
	return ""
}

// ownCodes are the only escape sequences moonchat itself writes to a terminal: SGR colours,
// cursor up, erase line and display, column, and hide/show cursor.
var ownCodes = regexp.MustCompile(`^\x1b\[(?:[0-9;]*m|\?25[lh]|[0-9]*[AJKG])`)

// ForeignControl returns the first control sequence or character in s that moonchat does
// not write itself (anything but its own codes, tab, newline and carriage return), or "".
func ForeignControl(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			m := ownCodes.FindString(s[i:])
			if m == "" {
				return s[i:min(len(s), i+12)]
			}
			i += len(m)
			continue
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r >= 0x7f && r <= 0x9f:
			return s[i:min(len(s), i+12)]
		case r == utf8.RuneError && size == 1:
			return s[i : i+1]
		}
		i += size
	}
	return ""
}
