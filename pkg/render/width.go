package render

import xansi "github.com/charmbracelet/x/ansi"

// Width is the number of terminal cells s takes: escape sequences take none, and each grapheme
// cluster (a letter with its combining marks, an emoji with its skin tone, flag pairs, ZWJ
// sequences) takes one or two, two for East Asian wide and fullwidth characters and emoji.
// Every width moonchat measures goes through here or through the same grapheme rules
// (glamour's wrapping, the live tail's cells, the test terminal), so a table, the live line
// and the rendered markdown agree on CJK and emoji. go-runewidth, which it replaces, counted
// per rune, and East Asian ambiguous characters as two under a CJK locale.
func Width(s string) int { return xansi.StringWidth(s) }

// Truncate cuts s to at most w cells, ending it with tail (counted in the w) when it had to;
// escape sequences are kept and a wide character is never split.
func Truncate(s string, w int, tail string) string { return xansi.Truncate(s, w, tail) }
