package history

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moonchat/moonchat/pkg/render"
)

// maxTitleRunes bounds a title, ellipsis included, so `history list` stays
// one line per conversation.
const maxTitleRunes = 60

// titleScanBytes bounds how much of a prompt TitleFromPrompt reads: the title is
// its first non-blank line, and a piped prompt can be megabytes long. 64 KB
// holds any first line worth a title, past a long escape sequence before it.
const titleScanBytes = 64 << 10

// TitleFromPrompt makes a conversation title from a prompt: its first
// non-blank line, with whitespace collapsed and escape sequences and control
// characters removed, cut to 60 runes ending in "…" when longer. Append
// applies it to the first user message of an untitled conversation.
func TitleFromPrompt(prompt string) string {
	// Sequences go before the text is cut into lines: an OSC body can hold a
	// newline, and its second half would otherwise be a line of its own.
	// A sequence cut at the bound is removed whole, as one cut off at the end.
	if len(prompt) > titleScanBytes {
		cut := titleScanBytes
		for cut > 0 && !utf8.RuneStart(prompt[cut]) {
			cut--
		}
		prompt = prompt[:cut]
	}
	for line := range strings.Lines(render.RemoveEscapes(prompt)) {
		t := oneLine(line)
		if t == "" {
			continue
		}
		if utf8.RuneCountInString(t) <= maxTitleRunes {
			return t
		}
		r := []rune(t)[:maxTitleRunes-1]
		return strings.TrimRight(string(r), " ") + "…"
	}
	return ""
}

// oneLine collapses all whitespace to single spaces and drops control
// characters, so stored text printed in a list cannot move the cursor or send
// escape sequences to the terminal. s must already be without its escape
// sequences (render.RemoveEscapes), which both callers remove before they cut
// the text: dropping only the controls would leave a sequence's body
// (']52;c;...' of a clipboard write) for the display sanitizer to print, since
// without its ESC it is plain text.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// prefixFold reports how many bytes at the start of s match prefix, ignoring
// case the way the trigram index does (simple lower-casing), or 0.
func prefixFold(s, prefix string) int {
	n := 0
	for _, pr := range prefix {
		if n >= len(s) {
			return 0
		}
		r, size := utf8.DecodeRuneInString(s[n:])
		if r != pr && unicode.ToLower(r) != unicode.ToLower(pr) {
			return 0
		}
		n += size
	}
	return n
}

// findFold returns the byte ranges of the non-overlapping occurrences of
// sub in s, ignoring case.
func findFold(s, sub string) []Span {
	var out []Span
	for i := 0; i < len(s); {
		if n := prefixFold(s[i:], sub); n > 0 {
			out = append(out, Span{Start: i, End: i + n})
			i += n
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return out
}
