package render

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/formatters"
	chromastyles "github.com/alecthomas/chroma/v2/styles"
	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/glamour/ansi"
	glamourstyles "github.com/charmbracelet/glamour/styles"
	xansi "github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// theme is everything derived from Options that rendering needs: the glamour style handed
// to the TermRenderer and the layout glamour gives a top-level code block, which Markdown
// reproduces line by line.
type theme struct {
	cfg     ansi.StyleConfig
	profile termenv.Profile
	wrap    int    // glamour's word-wrap width (Options.Width)
	width   int    // the document's text width: glamour wraps every line of it to this
	margin  string // the document's left margin, as glamour's margin writer writes it
	// marginWidth is the margin's width in columns.
	marginWidth int
	code        codeStyle
}

// codeStyle is how glamour draws a fenced code block with this style.
type codeStyle struct {
	// escapes maps each chroma token type to the escape sequence that chroma's terminal256
	// formatter (glamour's) writes before such a token; nil when code is not highlighted.
	escapes map[chroma.TokenType]string
	indent  string // the block's margin and indent, written at the start of every line
	// indentWidth is the indent's width in columns.
	indentWidth int
	open        string // written before the first line (the style's block prefix)
	close       string // written after the last line
	// Unhighlighted code is one styled text, with markdown escapes removed as glamour does.
	text ansi.StylePrimitive
}

// builtinColorful are glamour's built-in styles that only make sense with colours.
var builtinColorful = map[string]bool{"dark": true, "light": true, "dracula": true, "pink": true, "tokyo-night": true}

func newTheme(opts Options) (*theme, error) {
	cfg, err := loadStyle(opts.Style, opts.Color)
	if err != nil {
		return nil, err
	}
	th := &theme{cfg: cfg, profile: termenv.Ascii, wrap: opts.Width}
	if opts.Color {
		// 256 colours: what glamour's built-in styles are written in and what chroma's
		// terminal256 formatter (used by glamour for code) emits anyway.
		th.profile = termenv.ANSI256
		name, style, err := codeTheme(cfg.CodeBlock)
		if err != nil {
			return nil, err
		}
		if style != nil {
			th.cfg.CodeBlock.Chroma = nil
			th.cfg.CodeBlock.Theme = name
			if th.code.escapes, err = ttyEscapes(name, style); err != nil {
				return nil, err
			}
		}
	} else {
		th.cfg.CodeBlock.Chroma = nil
		th.cfg.CodeBlock.Theme = ""
	}

	doc := th.cfg.Document
	docIndent, docMargin := uintOr(doc.Indent), uintOr(doc.Margin)
	th.width = max(0, opts.Width-int(docIndent)-2*int(docMargin))
	token := " "
	if doc.IndentToken != nil {
		token = *doc.IndentToken
	}
	th.margin = strings.Repeat(token, int(docIndent+docMargin))
	th.marginWidth = xansi.StringWidth(th.margin)

	cb := th.cfg.CodeBlock
	th.code.indentWidth = int(uintOr(cb.Indent) + uintOr(cb.Margin))
	th.code.indent = strings.Repeat(styleText(th.profile, doc.StylePrimitive, " "), th.code.indentWidth)
	if th.code.escapes != nil {
		th.code.open = styleText(th.profile, doc.StylePrimitive, cb.BlockPrefix)
		th.code.close = styleText(th.profile, doc.StylePrimitive, cb.BlockSuffix)
	} else {
		// glamour's fallback for code it does not highlight renders the code as one text.
		st := cascade(doc.StylePrimitive, cb.StylePrimitive)
		th.code.text = st
		th.code.open = styleText(th.profile, doc.StylePrimitive, st.BlockPrefix) + styleText(th.profile, st, st.Prefix)
		th.code.close = styleText(th.profile, st, st.Suffix) + styleText(th.profile, doc.StylePrimitive, st.BlockSuffix)
	}
	return th, nil
}

// newGlamour returns the one TermRenderer a Markdown reuses for all its frames.
func (th *theme) newGlamour() (*glamour.TermRenderer, error) {
	return glamour.NewTermRenderer(
		glamour.WithStyles(th.cfg),
		glamour.WithWordWrap(th.wrap),
		glamour.WithColorProfile(th.profile),
	)
}

// loadStyle resolves a style name or JSON file to a glamour style. Without colour every
// colour and text attribute is removed, because glamour writes bold, italic and underline
// escapes even with termenv's Ascii profile.
func loadStyle(name string, color bool) (ansi.StyleConfig, error) {
	switch name {
	case "", "auto":
		name = "dark"
	}
	if !color && builtinColorful[name] {
		name = "notty"
	}
	var cfg ansi.StyleConfig
	if s, ok := glamourstyles.DefaultStyles[name]; ok {
		cfg = *s
	} else {
		b, err := os.ReadFile(name)
		if err != nil {
			return cfg, fmt.Errorf("render: style %q is neither a built-in style (dark, light, notty, ascii, dracula, pink, tokyo-night) nor a readable JSON file: %w", name, err)
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("render: style file %s: %w", name, err)
		}
	}
	if !color {
		return withoutAttributes(cfg)
	}
	return cfg, nil
}

// withoutAttributes drops colours and text attributes from every element of a style. A JSON
// round trip reaches every nested element without listing them.
func withoutAttributes(cfg ansi.StyleConfig) (ansi.StyleConfig, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return cfg, err
	}
	var tree map[string]any
	if err := json.Unmarshal(b, &tree); err != nil {
		return cfg, err
	}
	var strip func(any)
	strip = func(v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, k := range []string{"color", "background_color", "bold", "italic", "underline", "crossed_out", "faint", "conceal", "overlined", "inverse", "blink", "chroma", "theme"} {
			delete(m, k)
		}
		for _, child := range m {
			strip(child)
		}
	}
	strip(tree)
	if b, err = json.Marshal(tree); err != nil {
		return cfg, err
	}
	var out ansi.StyleConfig
	return out, json.Unmarshal(b, &out)
}

// themeMu guards chroma's global style registry while we add to it.
var themeMu sync.Mutex

// codeTheme returns the chroma style glamour would use for code blocks, with the error token
// stripped of its background: half-streamed code is full of "errors" (an unclosed string)
// and must not flash red. The style is registered with chroma under a name derived from its
// content, so that glamour, which looks themes up by name, draws nested code blocks with
// the same colours. It returns a nil style when the code block is not highlighted.
//
// Registering writes chroma's global map; it happens when a Markdown is created, so do not
// create one with a new style while another renders in a different goroutine.
func codeTheme(cb ansi.StyleCodeBlock) (string, *chroma.Style, error) {
	var (
		key   string
		build func() (*chroma.Style, error)
	)
	switch {
	case cb.Chroma != nil:
		c := *cb.Chroma
		c.Error.BackgroundColor = nil
		b, err := json.Marshal(c)
		if err != nil {
			return "", nil, err
		}
		key = string(b)
		build = func() (*chroma.Style, error) { return chromaFromGlamour(&c) }
	case cb.Theme != "":
		key = "theme:" + cb.Theme
		build = func() (*chroma.Style, error) {
			b := chromastyles.Get(cb.Theme).Builder()
			e := b.Get(chroma.Error)
			e.Background = 0
			b.AddEntry(chroma.Error, e)
			return b.Build()
		}
	default:
		return "", nil, nil
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	name := fmt.Sprintf("moonchat-%016x", h.Sum64())

	themeMu.Lock()
	defer themeMu.Unlock()
	if s, ok := chromastyles.Registry[name]; ok {
		return name, s, nil
	}
	s, err := build()
	if err == nil {
		s, err = snapped(s)
	}
	if err != nil {
		return "", nil, fmt.Errorf("render: code style: %w", err)
	}
	s.Name = name
	chromastyles.Register(s)
	return name, s, nil
}

// snapped replaces the colours of a style by the nearest of the 256 colours that chroma's
// terminal256 formatter knows, measured as chroma measures. The formatter looks the nearest
// colour up by ranging over a map, so when two are equally near (glamour's dark comments,
// #676767, sit halfway between 241 and 242) it picks one at random on every call; an exact
// match is unique, so the colours stop changing from one render to the next.
func snapped(s *chroma.Style) (*chroma.Style, error) {
	// Entries come back with what they inherit filled in. The background they inherit from
	// the Background entry must stay inherited: the formatter drops it by clearing that entry.
	bg := s.Get(chroma.Background).Background
	b := s.Builder()
	for _, t := range s.Types() {
		e := s.Get(t)
		if t != chroma.Background && e.Background == bg {
			e.Background = 0
		}
		b.AddEntry(t, snapToPalette(e))
	}
	return b.Build()
}

func snapToPalette(e chroma.StyleEntry) chroma.StyleEntry {
	if e.Colour.IsSet() {
		e.Colour = nearestXterm(e.Colour)
	}
	if e.Background.IsSet() {
		e.Background = nearestXterm(e.Background)
	}
	return e
}

// xtermPalette is built on first use: chroma.NewColour formats and parses each of the 256
// colours, work that every start of moonchat did before main, though only 256-colour
// terminals need it.
var xtermPalette = sync.OnceValue(func() []chroma.Colour {
	p := []chroma.Colour{}
	for _, s := range []string{"#000000", "#800000", "#008000", "#808000", "#000080", "#800080", "#008080", "#c0c0c0",
		"#808080", "#ff0000", "#00ff00", "#ffff00", "#0000ff", "#ff00ff", "#00ffff", "#ffffff"} {
		p = append(p, chroma.MustParseColour(s))
	}
	levels := []uint8{0, 0x5f, 0x87, 0xaf, 0xd7, 0xff}
	for _, r := range levels {
		for _, g := range levels {
			for _, b := range levels {
				p = append(p, chroma.NewColour(r, g, b))
			}
		}
	}
	for i := 0; i < 24; i++ {
		v := uint8(8 + 10*i)
		p = append(p, chroma.NewColour(v, v, v))
	}
	return p
})

func nearestXterm(c chroma.Colour) chroma.Colour {
	palette := xtermPalette()
	best, dist := palette[0], c.Distance(palette[0])
	for _, p := range palette[1:] {
		if d := c.Distance(p); d < dist {
			best, dist = p, d
		}
	}
	return best
}

// chromaFromGlamour builds a chroma style from a glamour chroma config, entry for entry as
// glamour does for its "charm" theme.
func chromaFromGlamour(c *ansi.Chroma) (*chroma.Style, error) {
	return chroma.NewStyle("moonchat", chroma.StyleEntries{
		chroma.Text:                chromaEntry(c.Text),
		chroma.Error:               chromaEntry(c.Error),
		chroma.Comment:             chromaEntry(c.Comment),
		chroma.CommentPreproc:      chromaEntry(c.CommentPreproc),
		chroma.Keyword:             chromaEntry(c.Keyword),
		chroma.KeywordReserved:     chromaEntry(c.KeywordReserved),
		chroma.KeywordNamespace:    chromaEntry(c.KeywordNamespace),
		chroma.KeywordType:         chromaEntry(c.KeywordType),
		chroma.Operator:            chromaEntry(c.Operator),
		chroma.Punctuation:         chromaEntry(c.Punctuation),
		chroma.Name:                chromaEntry(c.Name),
		chroma.NameBuiltin:         chromaEntry(c.NameBuiltin),
		chroma.NameTag:             chromaEntry(c.NameTag),
		chroma.NameAttribute:       chromaEntry(c.NameAttribute),
		chroma.NameClass:           chromaEntry(c.NameClass),
		chroma.NameConstant:        chromaEntry(c.NameConstant),
		chroma.NameDecorator:       chromaEntry(c.NameDecorator),
		chroma.NameException:       chromaEntry(c.NameException),
		chroma.NameFunction:        chromaEntry(c.NameFunction),
		chroma.NameOther:           chromaEntry(c.NameOther),
		chroma.Literal:             chromaEntry(c.Literal),
		chroma.LiteralNumber:       chromaEntry(c.LiteralNumber),
		chroma.LiteralDate:         chromaEntry(c.LiteralDate),
		chroma.LiteralString:       chromaEntry(c.LiteralString),
		chroma.LiteralStringEscape: chromaEntry(c.LiteralStringEscape),
		chroma.GenericDeleted:      chromaEntry(c.GenericDeleted),
		chroma.GenericEmph:         chromaEntry(c.GenericEmph),
		chroma.GenericInserted:     chromaEntry(c.GenericInserted),
		chroma.GenericStrong:       chromaEntry(c.GenericStrong),
		chroma.GenericSubheading:   chromaEntry(c.GenericSubheading),
		chroma.Background:          chromaEntry(c.Background),
	})
}

func chromaEntry(p ansi.StylePrimitive) string {
	var parts []string
	if p.Color != nil {
		parts = append(parts, *p.Color)
	}
	if p.BackgroundColor != nil {
		parts = append(parts, "bg:"+*p.BackgroundColor)
	}
	if p.Italic != nil && *p.Italic {
		parts = append(parts, "italic")
	}
	if p.Bold != nil && *p.Bold {
		parts = append(parts, "bold")
	}
	if p.Underline != nil && *p.Underline {
		parts = append(parts, "underline")
	}
	return strings.Join(parts, " ")
}

var escapeCache sync.Map // style name -> map[chroma.TokenType]string

// ttyEscapes returns, for every chroma token type, the escape sequence that the terminal256
// formatter writes before a token of that type with this style. The formatter recomputes
// its colour table on every call (about 0.1 ms), far too slow to call once per code line, so
// it is called once with one token of every type and the answer is read off its output.
func ttyEscapes(name string, style *chroma.Style) (map[chroma.TokenType]string, error) {
	if m, ok := escapeCache.Load(name); ok {
		return m.(map[chroma.TokenType]string), nil
	}
	types := chroma.TokenTypeValues()
	i := 0
	it := func() chroma.Token {
		if i == len(types) {
			return chroma.EOF
		}
		i++
		return chroma.Token{Type: types[i-1], Value: "\x00"}
	}
	var b strings.Builder
	if err := formatters.TTY256.Format(&b, style, it); err != nil {
		return nil, err
	}
	// The output is esc(t0) NUL reset? esc(t1) NUL reset? ..., where the reset follows a
	// token only if it had an escape.
	parts := strings.Split(b.String(), "\x00")
	if len(parts) != len(types)+1 {
		return nil, fmt.Errorf("render: unexpected output from chroma's terminal256 formatter")
	}
	m := make(map[chroma.TokenType]string, len(types))
	prev := ""
	for k, t := range types {
		p := parts[k]
		if prev != "" {
			p = strings.TrimPrefix(p, "\x1b[0m")
		}
		m[t] = p
		prev = p
	}
	escapeCache.Store(name, m)
	return m, nil
}

// styleText is glamour's renderText: s in the colours and attributes of st.
func styleText(p termenv.Profile, st ansi.StylePrimitive, s string) string {
	if s == "" {
		return ""
	}
	switch {
	case st.Upper != nil && *st.Upper:
		s = cases.Upper(language.English).String(s)
	case st.Lower != nil && *st.Lower:
		s = cases.Lower(language.English).String(s)
	case st.Title != nil && *st.Title:
		s = cases.Title(language.English).String(s)
	}
	out := termenv.String(s)
	if st.Color != nil {
		out = out.Foreground(p.Color(*st.Color))
	}
	if st.BackgroundColor != nil {
		out = out.Background(p.Color(*st.BackgroundColor))
	}
	if isTrue(st.Underline) {
		out = out.Underline()
	}
	if isTrue(st.Bold) {
		out = out.Bold()
	}
	if isTrue(st.Italic) {
		out = out.Italic()
	}
	if isTrue(st.CrossedOut) {
		out = out.CrossOut()
	}
	if isTrue(st.Overlined) {
		out = out.Overline()
	}
	if isTrue(st.Inverse) {
		out = out.Reverse()
	}
	if isTrue(st.Blink) {
		out = out.Blink()
	}
	return out.String()
}

// cascade is glamour's cascadeStylePrimitive for a child element: the child's settings
// override the parent's colours and attributes; prefixes and suffixes are the child's.
// Mirrored code: see mirror_test.go, which pins glamour's version.
func cascade(parent, child ansi.StylePrimitive) ansi.StylePrimitive {
	s := child
	pick := func(c, p *bool) *bool {
		if c != nil {
			return c
		}
		return p
	}
	s.Color = child.Color
	if s.Color == nil {
		s.Color = parent.Color
	}
	s.BackgroundColor = child.BackgroundColor
	if s.BackgroundColor == nil {
		s.BackgroundColor = parent.BackgroundColor
	}
	s.Underline = pick(child.Underline, parent.Underline)
	s.Bold = pick(child.Bold, parent.Bold)
	s.Upper = pick(child.Upper, parent.Upper)
	s.Lower = pick(child.Lower, parent.Lower)
	s.Title = pick(child.Title, parent.Title)
	s.Italic = pick(child.Italic, parent.Italic)
	s.CrossedOut = pick(child.CrossedOut, parent.CrossedOut)
	s.Faint = pick(child.Faint, parent.Faint)
	s.Conceal = pick(child.Conceal, parent.Conceal)
	s.Overlined = pick(child.Overlined, parent.Overlined)
	s.Inverse = pick(child.Inverse, parent.Inverse)
	s.Blink = pick(child.Blink, parent.Blink)
	return s
}

func isTrue(b *bool) bool { return b != nil && *b }

func uintOr(u *uint) uint {
	if u == nil {
		return 0
	}
	return *u
}
