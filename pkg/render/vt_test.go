package render

import (
	"strings"

	"github.com/moonchat/moonchat/internal/vt"
)

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
func emulate(output []byte, width, height int) *vt.VT {
	v := vt.New(width, height)
	v.Write(output)
	return v
}
