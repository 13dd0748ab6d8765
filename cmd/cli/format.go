package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
	"github.com/moonchat/moonchat/pkg/render"
)

// ModelSummary describes a model in a few words: its context and capabilities.
func ModelSummary(m moonshot.ModelSpec) string {
	parts := []string{FormatTokens(m.Context) + " context"}
	return strings.Join(append(parts, Capabilities(m)...), ", ")
}

// Capabilities lists what a model can do beyond text in, text out.
func Capabilities(m moonshot.ModelSpec) []string {
	var caps []string
	if m.Tools {
		caps = append(caps, "tools")
	}
	if m.Vision {
		caps = append(caps, "vision")
	}
	if m.Video {
		caps = append(caps, "video")
	}
	if m.Thinking != moonshot.ThinkingNone {
		caps = append(caps, "thinking")
	}
	return caps
}

// FormatTokens shows a token count in a compact form: 8k, 128k, 256k, 1.5M (powers of 1024,
// as model names count them), or the plain number when it is not a round size.
func FormatTokens(n int) string {
	switch {
	case n <= 0:
		return "unknown"
	case n >= 1<<20 && n%(1<<19) == 0:
		if n%(1<<20) == 0 {
			return strconv.Itoa(n>>20) + "M"
		}
		return strconv.Itoa(n>>20) + ".5M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "k"
	}
	return FormatInt(n)
}

// FormatInt writes n with thousands separators: 262,144.
func FormatInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteTable prints rows as columns separated by two spaces, each as wide as its widest cell.
// Columns listed in right are aligned right (numbers); the last column is never padded.
//
// A table is for a terminal: cells hold model ids, file names and titles from outside, so
// each goes through render.Sanitize.
func WriteTable(w io.Writer, rows [][]string, right ...int) error {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			cell = strings.NewReplacer("\n", " ", "\t", " ").Replace(render.Sanitize(cell))
			row[i] = cell
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], render.Width(cell))
		}
	}
	alignRight := map[int]bool{}
	for _, c := range right {
		alignRight[c] = true
	}
	var b strings.Builder
	for _, row := range rows {
		line := make([]string, len(row))
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-render.Width(cell))
			switch {
			case alignRight[i]:
				line[i] = pad + cell
			case i < len(row)-1:
				line[i] = cell + pad
			default:
				line[i] = cell
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// FormatSize is a byte count for people: 512 B, 1.4 KB, 12.0 MB.
func FormatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}
