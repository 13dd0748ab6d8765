package cli

import (
	"fmt"
	"strings"
)

// Doc removes the indentation that help texts carry in the source, so that they can be written
// as indented raw strings:
//
//	Long: cli.Doc(`
//		First line.
//		  An indented line keeps its two extra spaces.
//	`),
//
// A leading newline is dropped; otherwise the first line is kept as it is. The common
// indentation (leading spaces and tabs) of the lines that have text is removed from every line,
// and a last line of only blanks becomes empty, so the text ends with one newline. Every
// command is built at every start of moonchat, so this makes one allocation per text.
func Doc(raw string) string {
	keepFirst := true
	if strings.HasPrefix(raw, "\n") {
		raw, keepFirst = raw[1:], false
	}
	indent := -1
	for i, line := range lines(raw) {
		if i == 0 && keepFirst {
			continue
		}
		if n := blanks(line); n < len(line) && (indent < 0 || n < indent) {
			indent = n
		}
	}
	last := strings.Count(raw, "\n")
	var b strings.Builder
	b.Grow(len(raw))
	for i, line := range lines(raw) {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case i == 0 && keepFirst:
		case i == last && blanks(line) == len(line):
			line = "" // the indentation before the closing backquote
		case indent > 0 && len(line) >= indent:
			line = line[indent:]
		}
		b.WriteString(line)
	}
	return b.String()
}

// Docf is Doc, then fmt.Sprintf with args.
func Docf(raw string, args ...any) string {
	return fmt.Sprintf(Doc(raw), args...)
}

// lines yields the lines of s, split at "\n" (a final "\n" yields a last, empty line).
func lines(s string) func(func(int, string) bool) {
	return func(yield func(int, string) bool) {
		for i := 0; ; i++ {
			line, rest, more := strings.Cut(s, "\n")
			if !yield(i, line) || !more {
				return
			}
			s = rest
		}
	}
}

// blanks counts the spaces and tabs that start line.
func blanks(line string) int {
	n := 0
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	return n
}
