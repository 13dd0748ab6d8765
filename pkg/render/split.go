package render

import (
	"bytes"
)

// The splitter cuts the answer, one complete line at a time, into units: runs of top-level
// markdown blocks that can be rendered on their own and give the same result as inside the
// whole document. It only has to be right about where units end. When in doubt it keeps
// lines together, because a unit that is too long only commits later, while a boundary that
// CommonMark does not have changes the rendering (a loose list cut at a blank line restarts
// its numbering at "1.").
//
// Top-level fenced code blocks are not units: their lines are handed out one by one so that
// the renderer can print each line as soon as it is complete.

type eventKind uint8

const (
	evUnit      eventKind = iota // text is a final unit: complete lines, each ending in "\n"
	evCodeOpen                   // a top-level fence opened; lang is its language
	evCodeLine                   // text is one line of the open fence, without "\n"
	evCodeClose                  // the fence closed, or the answer ended inside it
)

type event struct {
	kind eventKind
	text []byte
	lang string
}

// fence is an open fenced code block: its character, the length of its opening run and the
// indentation of the opening line.
type fence struct {
	char   byte
	n      int
	indent int
}

func (f fence) open() bool { return f.n > 0 }

// htmlKind is the CommonMark HTML block type (1-7) of an open HTML block, 0 if none.
// Types 1-5 run until an end marker, across blank lines; types 6 and 7 end at a blank line.
type htmlKind uint8

type splitter struct {
	unit   []byte // the unfinished unit: complete lines, each ending in "\n"
	gen    int    // counts units handed out, so the live tail knows when to start over
	blanks int    // blank lines after the unit; they join it only if the next line continues it
	// list is the marker of the unit's top-level list ('-', '*', '+', '.' or ')'), 0 if the
	// unit has none: a later item with the same marker continues the list across blank lines.
	list       byte
	lastIndent int      // indentation of the unit's last non-blank line
	inner      fence    // a fence inside the unit (indented, e.g. in a list item)
	html       htmlKind // an HTML block inside the unit
	top        *fence   // the open top-level fence, streamed line by line
	events     []event
}

// feed takes one complete line, without its line ending.
func (s *splitter) feed(ln []byte) {
	if s.top != nil {
		if s.top.closes(ln) {
			s.top = nil
			s.events = append(s.events, event{kind: evCodeClose})
			return
		}
		s.events = append(s.events, event{kind: evCodeLine, text: ln})
		return
	}
	if isBlank(ln) {
		switch {
		case len(s.unit) == 0:
			// Blank lines between units belong to nobody.
		case s.inner.open() || (s.html >= 1 && s.html <= 5):
			s.appendLine(ln)
		default:
			s.blanks++
			s.html = 0 // HTML blocks of types 6 and 7 end at a blank line
		}
		return
	}
	ind, skip := indentOf(ln)
	if len(s.unit) > 0 && s.blanks > 0 && !s.continues(ln, ind, skip) {
		s.flushUnit()
	}
	if s.inner.open() {
		switch {
		case s.inner.closesNested(ln):
			s.inner = fence{}
			s.appendLine(ln)
			return
		case ind == 0 && s.list != 0:
			// An unindented line ends the list item, and with it the fence inside it; unless
			// it is the next item, it ends the list too.
			s.inner = fence{}
			if listMarker(ln) != s.list || isThematicBreak(ln) {
				s.list = 0
			}
		default:
			s.appendLine(ln)
			return
		}
	}
	if s.html >= 1 && s.html <= 5 {
		s.appendLine(ln)
		if htmlEnds(s.html, ln) {
			s.html = 0
		}
		return
	}
	t := ln[skip:]
	if ind == 0 && s.html == 0 {
		if f, lang, ok := openFence(t); ok {
			s.flushUnit()
			s.top = &f
			s.events = append(s.events, event{kind: evCodeOpen, lang: lang})
			return
		}
		if isATXHeading(t) {
			// A heading is one line: it is final as soon as it is complete.
			s.flushUnit()
			s.appendLine(ln)
			s.flushUnit()
			return
		}
	}
	s.classify(t, ind)
	s.appendLine(ln)
}

// finish ends the answer: an open fence is closed and the unfinished unit becomes final.
func (s *splitter) finish() {
	if s.top != nil {
		s.top = nil
		s.events = append(s.events, event{kind: evCodeClose})
	}
	s.flushUnit()
}

// continues reports whether a non-blank line that follows blank lines still belongs to the
// unit. Only constructs that CommonMark continues across blank lines count; everything else
// starts a new unit.
func (s *splitter) continues(ln []byte, ind, skip int) bool {
	t := ln[skip:]
	if s.list != 0 {
		// An indented line may be a later paragraph of an item; a sibling item makes the
		// list loose but keeps it one list, numbering included.
		if ind > 0 {
			return true
		}
		if listMarker(t) == s.list && !isThematicBreak(t) {
			return true
		}
	}
	if s.lastIndent >= 4 && ind >= 4 {
		return true // an indented code block spans blank lines
	}
	// A definition list (goldmark's extension) allows a blank line before ": definition".
	return ind <= 3 && len(t) >= 2 && t[0] == ':' && (t[1] == ' ' || t[1] == '\t')
}

// classify updates what the unit's context says about the lines that follow.
func (s *splitter) classify(t []byte, ind int) {
	if s.html != 0 {
		return // inside an HTML block of type 6 or 7 nothing is markdown
	}
	if ind <= 3 {
		if k := htmlStart(t, len(s.unit) == 0); k != 0 {
			s.html = k
			if k <= 5 && htmlEnds(k, t) {
				s.html = 0
			}
			return
		}
	}
	if f, _, ok := openFence(t); ok {
		f.indent = ind
		s.inner = f
		return
	}
	if ind <= 3 && !isThematicBreak(t) {
		if m := listMarker(t); m != 0 && (s.list == 0 || ind == 0) {
			s.list = m
		}
	}
}

func (s *splitter) appendLine(ln []byte) {
	for ; s.blanks > 0; s.blanks-- {
		s.unit = append(s.unit, '\n')
	}
	s.unit = append(s.unit, ln...)
	s.unit = append(s.unit, '\n')
	if !isBlank(ln) {
		s.lastIndent, _ = indentOf(ln)
	}
}

func (s *splitter) flushUnit() {
	if len(s.unit) > 0 {
		s.events = append(s.events, event{kind: evUnit, text: s.unit})
		s.unit = nil
		s.gen++
	}
	s.blanks = 0
	s.list = 0
	s.lastIndent = 0
	s.inner = fence{}
	s.html = 0
}

// indentOf returns the indentation of ln in columns (tabs stop every 4 columns, as in
// CommonMark) and the number of bytes it takes.
func indentOf(ln []byte) (cols, n int) {
	for n < len(ln) {
		switch ln[n] {
		case ' ':
			cols++
		case '\t':
			cols += 4 - cols%4
		default:
			return cols, n
		}
		n++
	}
	return cols, n
}

func isBlank(ln []byte) bool {
	for _, c := range ln {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// openFence recognises an opening code fence in t (a line without its indentation) and
// returns the fence and the language of its info string.
func openFence(t []byte) (fence, string, bool) {
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return fence{}, "", false
	}
	c := t[0]
	n := 0
	for n < len(t) && t[n] == c {
		n++
	}
	if n < 3 {
		return fence{}, "", false
	}
	info := bytes.TrimSpace(t[n:])
	if c == '`' && bytes.IndexByte(info, '`') >= 0 {
		return fence{}, "", false // an inline code span, not a fence
	}
	lang := info
	if i := bytes.IndexAny(info, " \t"); i >= 0 {
		lang = info[:i]
	}
	return fence{char: c, n: n}, string(lang), true
}

// closes reports whether ln is a closing fence for f: up to three spaces of indentation, at
// least as many fence characters as the opening, then only whitespace.
func (f fence) closes(ln []byte) bool { return f.closesWithin(ln, 3) }

// closesNested is closes for a fence inside a container (a list item), whose closing line
// is indented like its opening line rather than by at most three spaces.
func (f fence) closesNested(ln []byte) bool { return f.closesWithin(ln, f.indent+3) }

// closesWithin is closes with at most maxIndent columns of indentation.
func (f fence) closesWithin(ln []byte, maxIndent int) bool {
	ind, skip := indentOf(ln)
	if ind > maxIndent {
		return false
	}
	t := ln[skip:]
	n := 0
	for n < len(t) && t[n] == f.char {
		n++
	}
	return n >= f.n && isBlank(t[n:])
}

func isATXHeading(t []byte) bool {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	return n >= 1 && n <= 6 && (n == len(t) || t[n] == ' ' || t[n] == '\t')
}

func isThematicBreak(t []byte) bool {
	if len(t) == 0 || (t[0] != '-' && t[0] != '*' && t[0] != '_') {
		return false
	}
	n := 0
	for _, c := range t {
		switch c {
		case t[0]:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// listMarker returns the marker of a list item starting t: the bullet character, or the
// delimiter ('.' or ')') of an ordered item. 0 if t does not start a list item.
func listMarker(t []byte) byte {
	if len(t) == 0 {
		return 0
	}
	switch t[0] {
	case '-', '*', '+':
		if len(t) == 1 || t[1] == ' ' || t[1] == '\t' {
			return t[0]
		}
		return 0
	}
	n := 0
	for n < len(t) && n < 10 && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n == 0 || n > 9 || n == len(t) || (t[n] != '.' && t[n] != ')') {
		return 0
	}
	if n+1 == len(t) || t[n+1] == ' ' || t[n+1] == '\t' {
		return t[n]
	}
	return 0
}

var htmlBlockTags = map[string]bool{
	"address": true, "article": true, "aside": true, "base": true, "basefont": true,
	"blockquote": true, "body": true, "caption": true, "center": true, "col": true,
	"colgroup": true, "dd": true, "details": true, "dialog": true, "dir": true, "div": true,
	"dl": true, "dt": true, "fieldset": true, "figcaption": true, "figure": true,
	"footer": true, "form": true, "frame": true, "frameset": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "head": true, "header": true, "hr": true,
	"html": true, "iframe": true, "legend": true, "li": true, "link": true, "main": true,
	"menu": true, "menuitem": true, "nav": true, "noframes": true, "ol": true,
	"optgroup": true, "option": true, "p": true, "param": true, "search": true,
	"section": true, "summary": true, "table": true, "tbody": true, "td": true,
	"tfoot": true, "th": true, "thead": true, "title": true, "tr": true, "track": true,
	"ul": true,
}

// htmlStart returns the CommonMark HTML block type that t starts, 0 if none. Type 7 (any
// other complete tag alone on its line) cannot interrupt a paragraph, so it only counts at
// the start of a unit.
func htmlStart(t []byte, atStart bool) htmlKind {
	if len(t) < 2 || t[0] != '<' {
		return 0
	}
	lower := bytes.ToLower(t[:min(len(t), 12)])
	for _, tag := range []string{"<script", "<pre", "<style", "<textarea"} {
		if bytes.HasPrefix(lower, []byte(tag)) {
			rest := lower[len(tag):]
			if len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '>' {
				return 1
			}
		}
	}
	switch {
	case bytes.HasPrefix(t, []byte("<!--")):
		return 2
	case bytes.HasPrefix(t, []byte("<?")):
		return 3
	case bytes.HasPrefix(t, []byte("<![CDATA[")):
		return 5
	case len(t) > 2 && t[1] == '!' && isASCIILetter(t[2]):
		return 4
	}
	name := t[1:]
	closing := false
	if len(name) > 0 && name[0] == '/' {
		name, closing = name[1:], true
	}
	n := 0
	for n < len(name) && (isASCIILetter(name[n]) || (n > 0 && (name[n] == '-' || (name[n] >= '0' && name[n] <= '9')))) {
		n++
	}
	if n == 0 {
		return 0
	}
	rest := name[n:]
	if htmlBlockTags[string(bytes.ToLower(name[:n]))] {
		if len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '>' || bytes.HasPrefix(rest, []byte("/>")) {
			return 6
		}
		return 0
	}
	// Type 7: a complete tag and nothing else on the line.
	if !atStart {
		return 0
	}
	end := bytes.IndexByte(rest, '>')
	if end < 0 || !isBlank(rest[end+1:]) || (closing && !isBlank(bytes.TrimSuffix(rest[:end], []byte("/")))) {
		return 0
	}
	return 7
}

// htmlEnds reports whether ln contains the end marker of an HTML block of type k (1-5).
func htmlEnds(k htmlKind, ln []byte) bool {
	switch k {
	case 1:
		l := bytes.ToLower(ln)
		for _, end := range []string{"</script>", "</pre>", "</style>", "</textarea>"} {
			if bytes.Contains(l, []byte(end)) {
				return true
			}
		}
		return false
	case 2:
		return bytes.Contains(ln, []byte("-->"))
	case 3:
		return bytes.Contains(ln, []byte("?>"))
	case 4:
		return bytes.IndexByte(ln, '>') >= 0
	case 5:
		return bytes.Contains(ln, []byte("]]>"))
	}
	return false
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
