package iostreams

import "github.com/moonchat/moonchat/pkg/render"

// Printable returns text from outside (the network, a file, the history database) as it may
// be written to Out: through render.Sanitize when Out is a terminal, so that an escape
// sequence in it cannot drive the terminal; untouched otherwise, so that piped output stays
// byte-exact.
func (s *IOStreams) Printable(text string) string {
	if s.stdoutTTY {
		return render.Sanitize(text)
	}
	return text
}

// ErrPrintable is Printable for ErrOut: sanitized when stderr is a terminal.
func (s *IOStreams) ErrPrintable(text string) string {
	if s.stderrTTY {
		return render.Sanitize(text)
	}
	return text
}
