package render

import (
	"bytes"
	"reflect"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	xansi "github.com/charmbracelet/x/ansi"
	"github.com/dlclark/regexp2"
)

// maxCodeWindow bounds how many lines are lexed again for one new line of a multi-line
// string or comment, and maxOpenBrackets how many lines of open brackets, so that a huge
// string or a deep nesting costs at most this factor.
const (
	maxCodeWindow   = 64
	maxOpenBrackets = 16
)

// glamour wraps its whole output with these breakpoints; code lines get the same treatment.
const wrapBreakpoints = " ,.;-+|"

// codeBlock draws one top-level fenced code block line by line, the way glamour draws the
// whole block: the block's indent, chroma's highlighting with glamour's theme and
// formatter, glamour's word wrap and the document margin.
//
// Each line is highlighted from the text up to and including it, never from later lines, so
// that what is printed does not depend on how much of the block had arrived. Lexing the
// whole block again for every line would cost O(n²), and chroma lexes only about 0.3 MB/s,
// so a line is lexed with just the context a lexer's state usually depends on: for lexers
// whose state follows brackets (JSON, TypeScript, shell), the lines that opened the
// brackets still open, so that a JSON key is coloured as a key inside an object; and, when
// the previous line ended inside a string or a comment (a Python docstring), the lines back
// to the last one that did not. Constructs that chroma only recognises by looking
// ahead for their end (a Go raw string or a C block comment spanning lines, a shell
// here-document) are coloured line by line and may differ from a one-shot render.
type codeBlock struct {
	th     *theme
	lang   string
	lexer  chroma.Lexer
	nests  bool     // the lexer's state follows brackets (see lexerNests)
	lines  []string // the block's lines so far
	since  int      // the first line after the last one that ended outside a string or comment
	open   []int    // for each bracket still open, the line that opened it
	ctx    []int    // scratch: the lines lexed before the current one
	cur    []byte   // the output line being built
	mid    bool     // cur holds a started line (its indent is written)
	wrote  bool     // at least one line was printed
	lexers map[string]chroma.Lexer
}

func newCodeBlock(th *theme, lang string, cache map[string]chroma.Lexer, out *bytes.Buffer) *codeBlock {
	c := &codeBlock{th: th, lang: lang, lexers: cache}
	c.put(out, th.code.open)
	return c
}

// line prints one complete line of code.
func (c *codeBlock) line(out *bytes.Buffer, src []byte) {
	c.put(out, c.highlight(string(src)))
	c.put(out, "\n")
}

// close prints the end of the block.
func (c *codeBlock) close(out *bytes.Buffer) {
	c.put(out, c.th.code.close)
	if c.mid {
		c.endLine(out)
	}
}

// put writes rendered text the way glamour's indent writer does: the block's indent goes
// before the first character of every line.
func (c *codeBlock) put(out *bytes.Buffer, s string) {
	for s != "" {
		if !c.mid {
			c.cur = append(c.cur, c.th.code.indent...)
			c.mid = true
		}
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			c.cur = append(c.cur, s...)
			return
		}
		c.cur = append(c.cur, s[:i]...)
		c.endLine(out)
		s = s[i+1:]
	}
}

// endLine wraps the finished line as glamour wraps its document and adds the margin.
func (c *codeBlock) endLine(out *bytes.Buffer) {
	s := xansi.Wordwrap(string(c.cur), c.th.width, wrapBreakpoints)
	for {
		i := strings.IndexByte(s, '\n')
		out.WriteString(c.th.margin)
		if i < 0 {
			out.WriteString(s)
			out.WriteByte('\n')
			break
		}
		out.WriteString(s[:i+1])
		s = s[i+1:]
	}
	c.cur = c.cur[:0]
	c.mid = false
	c.wrote = true
}

func (c *codeBlock) highlight(line string) string {
	cs := &c.th.code
	if cs.escapes == nil {
		return styleText(c.th.profile, cs.text, glamourUnescape.Replace(line))
	}
	if c.lexer == nil {
		c.lexer, c.nests = c.pickLexer(line)
	}
	k := len(c.lines)
	c.lines = append(c.lines, line)

	// The context: the lines holding the brackets still open, and the lines since the last
	// one that ended outside a string or comment, in order and each once.
	ctx := c.ctx[:0]
	for _, o := range c.open {
		if len(ctx) == 0 || ctx[len(ctx)-1] < o {
			ctx = append(ctx, o)
		}
	}
	for i := c.since; i < k; i++ {
		if len(ctx) == 0 || ctx[len(ctx)-1] < i {
			ctx = append(ctx, i)
		}
	}
	c.ctx = ctx
	var text strings.Builder
	for _, i := range ctx {
		text.WriteString(c.lines[i])
		text.WriteByte('\n')
	}
	text.WriteString(line)
	text.WriteByte('\n')
	it, err := c.lexer.Tokenise(nil, text.String())
	if err != nil {
		c.since = k + 1
		return styleText(c.th.profile, cs.text, line)
	}

	var b strings.Builder
	emit := func(t chroma.TokenType, v string) {
		if v == "" {
			return
		}
		if c.nests {
			c.brackets(t, v, k)
		}
		esc, ok := cs.escapes[t]
		if !ok {
			esc = cs.escapes[chroma.Text]
		}
		if esc == "" {
			b.WriteString(v)
			return
		}
		b.WriteString(esc)
		b.WriteString(v)
		b.WriteString("\x1b[0m")
	}
	skip := len(ctx)   // lines of context before this one
	end := chroma.Text // the type of the token holding this line's newline
tokens:
	for tok := it(); tok != chroma.EOF; tok = it() {
		v := tok.Value
		for v != "" {
			i := strings.IndexByte(v, '\n')
			if skip > 0 {
				if i < 0 {
					break
				}
				skip--
				v = v[i+1:]
				continue
			}
			if i < 0 {
				emit(tok.Type, v)
				break
			}
			emit(tok.Type, v[:i])
			end = tok.Type
			break tokens
		}
	}
	if !(end.InSubCategory(chroma.LiteralString) || end.InCategory(chroma.Comment)) || k+1-c.since >= maxCodeWindow {
		c.since = k + 1
	}
	return b.String()
}

// brackets keeps the stack of open brackets (as the lines that opened them) from the tokens
// of line k, except strings and comments.
func (c *codeBlock) brackets(t chroma.TokenType, v string, k int) {
	if t.InSubCategory(chroma.LiteralString) || t.InCategory(chroma.Comment) {
		return
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '{', '[', '(':
			if len(c.open) < maxOpenBrackets {
				c.open = append(c.open, k)
			}
		case '}', ']', ')':
			if len(c.open) > 0 {
				c.open = c.open[:len(c.open)-1]
			}
		}
	}
}

// pickLexer chooses the lexer as glamour does: by the fence's language, else by analysing
// the code. Only the first line is known when the choice must be made.
func (c *codeBlock) pickLexer(first string) (chroma.Lexer, bool) {
	if l, ok := c.lexers[c.lang]; ok && c.lang != "" {
		return l, lexerNests(l)
	}
	l := lexers.Get(c.lang)
	known := l != nil
	if l == nil {
		l = lexers.Analyse(first)
	}
	if l == nil {
		l = lexers.Fallback
	}
	nests := lexerNests(l)
	l = chroma.Coalesce(l)
	if known {
		c.lexers[c.lang] = l
	}
	return l, nests
}

var nestCache sync.Map // lexer name -> bool

// lexerNests reports whether a lexer changes state on an opening bracket (JSON objects and
// arrays, TypeScript blocks, shell $( and ${). Lines of such languages are lexed with the
// lines that opened their brackets; other lexers (Go, Python) are left alone, since the
// extra lexing would double their cost for nothing. A lexer that cannot be inspected is
// assumed to nest.
func lexerNests(l chroma.Lexer) bool {
	name := l.Config().Name
	if v, ok := nestCache.Load(name); ok {
		return v.(bool)
	}
	nests := true
	if rl, ok := l.(*chroma.RegexLexer); ok {
		if rules, err := rl.Rules(); err == nil {
			nests = rulesNest(rules)
		}
	}
	nestCache.Store(name, nests)
	return nests
}

func rulesNest(rules chroma.Rules) bool {
	for name, state := range rules {
		if strings.Contains(name, "string") || strings.Contains(name, "comment") {
			continue // brackets inside strings and comments are text
		}
		for _, r := range state {
			if r.Pattern == "" || !pushes(r.Mutator) {
				continue
			}
			re, err := regexp2.Compile(`^(?:`+r.Pattern+`)`, 0)
			if err != nil {
				continue
			}
			for _, probe := range []string{"{", "[", "(", "${", "$("} {
				if m, err := re.FindStringMatch(probe); err == nil && m != nil {
					return true
				}
			}
		}
	}
	return false
}

// pushes reports whether a chroma mutator pushes a state. A list of mutators pushes if one
// of them does; its items are only reachable by reflection.
// That reflection, like every copy of glamour's and chroma's internals here, is listed in
// mirror_test.go, which fails when either library's version changes.
func pushes(m chroma.Mutator) bool {
	sm, ok := m.(chroma.SerialisableMutator)
	if !ok {
		return m != nil // a mutator function may do anything
	}
	switch sm.MutatorKind() {
	case "push", "combined":
		return true
	case "mutators":
		ms := reflect.ValueOf(sm).Elem().FieldByName("Mutators")
		for i := 0; ms.IsValid() && i < ms.Len(); i++ {
			if mm, ok := ms.Index(i).Interface().(chroma.Mutator); ok && pushes(mm) {
				return true
			}
		}
	}
	return false
}

// glamourUnescape is what glamour applies to code it does not highlight (its escapeReplacer).
var glamourUnescape = strings.NewReplacer(
	"\\\\", "\\", "\\`", "`", "\\*", "*", "\\_", "_", "\\{", "{", "\\}", "}", "\\[", "[",
	"\\]", "]", "\\<", "<", "\\>", ">", "\\(", "(", "\\)", ")", "\\#", "#", "\\+", "+",
	"\\-", "-", "\\.", ".", "\\!", "!", "\\|", "|",
)
