package iostreams

// ColorScheme styles text for one stream: with the ANSI attributes when colour is enabled for
// it, as the text alone otherwise. Every colour the commands write comes from here, so NO_COLOR,
// CLICOLOR_FORCE and dumb terminals are honoured in one place and the palette stays one.
type ColorScheme struct{ enabled bool }

// ColorScheme is the scheme for stdout.
func (s *IOStreams) ColorScheme() ColorScheme { return ColorScheme{enabled: s.ColorEnabled()} }

// ErrColorScheme is the scheme for stderr (notes, reasoning, the session's prompt).
func (s *IOStreams) ErrColorScheme() ColorScheme { return ColorScheme{enabled: s.ErrColorEnabled()} }

// Enabled reports whether the scheme adds attributes.
func (c ColorScheme) Enabled() bool { return c.enabled }

// Bold is for what the eye should land on: ids, the user's own words.
func (c ColorScheme) Bold(text string) string { return c.wrap("1", text) }

// Dim is for what frames the answer: metadata, notes, reasoning, the model in the prompt.
func (c ColorScheme) Dim(text string) string { return c.wrap("2", text) }

// Warning is for notes that something was cut, stopped or changed.
func (c ColorScheme) Warning(text string) string { return c.wrap("33", text) }

// Prompt marks the user's turn in a transcript.
func (c ColorScheme) Prompt(text string) string { return c.wrap("1;36", text) }

// Match marks the words a search found.
func (c ColorScheme) Match(text string) string { return c.wrap("1;33", text) }

func (c ColorScheme) wrap(sgr, text string) string {
	if !c.enabled || text == "" {
		return text
	}
	return "\x1b[" + sgr + "m" + text + "\x1b[0m"
}
