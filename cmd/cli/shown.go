package cli

import (
	"strings"
	"unicode"
)

// Shown defangs text from outside (the network, the history database) before it is printed
// to a terminal: no control characters but line breaks and tabs, so no escape sequences.
// It is the one place the commands of this module call for it; it will defer to pkg/render's
// sanitizer when that lands.
func Shown(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// ShownLine is Shown on one line: a title or an id in a list.
func ShownLine(s string) string {
	return strings.Join(strings.Fields(Shown(strings.ReplaceAll(s, "\t", " "))), " ")
}
