package render

import (
	"bytes"
	"fmt"
	"strings"
)

// unitMarker separates the units of one frame in the document handed to glamour, so that the
// rendering of each unit can be cut out of the single result. It is a paragraph of its own,
// between blank lines, so it cannot continue any block before it. It is a link because a
// link is rendered differently from its source: if a unit left something open that took
// the marker in (a fence or an HTML block that CommonMark does not close where the splitter
// thought), the marker shows up as source text, the cut is refused, and the units are
// rendered one by one.
const (
	unitMarker     = "[qmcunitbreak](q)"
	unitMarkerWord = "qmcunitbreak"
)

// renderUnits renders the units with one glamour call and returns each unit's lines, with
// the blank lines around them removed.
func (m *Markdown) renderUnits(units [][]byte) [][]byte {
	if len(units) == 0 {
		return nil
	}
	for _, u := range units {
		// A link reference definition would resolve links in the other units of the call,
		// which they do not see when they are rendered in another frame.
		if bytes.Contains(u, []byte(unitMarkerWord)) || bytes.Contains(u, []byte("]:")) {
			return m.renderEach(units)
		}
	}
	m.batch.Reset()
	for i, u := range units {
		if i > 0 {
			m.batch.WriteString("\n" + unitMarker + "\n\n")
		}
		m.batch.Write(u)
	}
	out, err := m.glamour(m.batch.Bytes())
	if err != nil {
		return m.renderEach(units)
	}
	segs := cutAtMarkers(out, len(units), m.markerLine())
	if segs == nil {
		return m.renderEach(units)
	}
	return segs
}

// renderEach renders the units one glamour call each: the fallback when the marker cannot
// be used. A unit glamour fails on is printed as plain text.
func (m *Markdown) renderEach(units [][]byte) [][]byte {
	segs := make([][]byte, len(units))
	for i, u := range units {
		out, err := m.glamour(u)
		if err != nil {
			var rows []string
			for _, ln := range bytes.SplitAfter(u, []byte("\n")) {
				if len(ln) > 0 {
					rows = m.layoutText(rows, trimEOL(ln))
				}
			}
			out = []byte(strings.Join(rows, "\n") + "\n")
		}
		segs[i] = tidy(out)
	}
	return segs
}

// glamour renders src with the reused TermRenderer. A panic inside glamour or chroma must
// not take the program down with the user's terminal in a mess: it becomes an error, and
// the renderer, whose state may be broken, is replaced.
func (m *Markdown) glamour(src []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render: glamour panicked: %v", r)
			if tr, e := m.th.newGlamour(); e == nil {
				m.tr = tr
			}
		}
	}()
	return m.tr.RenderBytes(src)
}

// markerLine returns the text of the marker's rendering, learnt from glamour the first time.
func (m *Markdown) markerLine() string {
	if m.marker == "" {
		out, err := m.glamour([]byte(unitMarker + "\n"))
		if err != nil {
			return "\x00" // matches nothing: units are rendered one by one
		}
		m.marker = strings.TrimSpace(stripEscapes(tidy(out)))
	}
	return m.marker
}

// cutAtMarkers splits glamour's output at the n-1 lines that render the marker as marker.
// It returns nil if the markers are not all there, rendered as they should be.
func cutAtMarkers(out []byte, n int, marker string) [][]byte {
	segs := make([][]byte, 0, n)
	from := 0
	for len(segs) < n-1 {
		i := bytes.Index(out[from:], []byte(unitMarkerWord))
		if i < 0 {
			return nil
		}
		i += from
		lineStart := bytes.LastIndexByte(out[:i], '\n') + 1
		lineEnd := len(out)
		if j := bytes.IndexByte(out[i:], '\n'); j >= 0 {
			lineEnd = i + j + 1
		}
		if strings.TrimSpace(stripEscapes(out[lineStart:lineEnd])) != marker {
			return nil
		}
		segs = append(segs, tidy(out[from:lineStart]))
		from = lineEnd
	}
	if bytes.Contains(out[from:], []byte(unitMarkerWord)) {
		return nil
	}
	return append(segs, tidy(out[from:]))
}
