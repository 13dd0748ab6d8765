package chat

import (
	"fmt"

	"github.com/moonchat/moonchat/cmd/cli"
)

// What moonchat says on standard error besides the answer and the final error: notices,
// warnings, the session's notes. Every stage says it through these, so they call nothing
// above them.

// notice is one line about the run (a retry, a value the fixes changed, a file reused);
// -q silences it.
func (opts *Options) notice(format string, args ...any) {
	if !opts.Quiet {
		// Notices quote outside text at times (a file name, an upstream message).
		fmt.Fprintln(opts.IO.ErrOut, opts.IO.ErrPrintable("moonchat: "+fmt.Sprintf(format, args...)))
	}
}

// warnNotSaved says that the history failed; the answer was shown all the same.
func (opts *Options) warnNotSaved(err error) {
	msg, hint := cli.Describe(err, "")
	msg, hint = opts.IO.ErrPrintable(msg), opts.IO.ErrPrintable(hint)
	fmt.Fprintf(opts.IO.ErrOut, "moonchat: warning: the conversation was not saved: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(opts.IO.ErrOut, "  hint: %s\n", hint)
	}
}

// announce shows the id of the conversation on a terminal, dimmed: scripts get it from the
// JSON output instead, and a pipe's reader has no use for it.
func (opts *Options) announce(id string, inSession bool) {
	if opts.Quiet || !opts.IO.IsStderrTTY() {
		return
	}
	line := fmt.Sprintf("conversation %s · continue it with: moonchat chat -c", id)
	if inSession {
		line = fmt.Sprintf("saved as conversation %s", id)
	}
	fmt.Fprintln(opts.IO.ErrOut, opts.dim(line))
}

// dim greys text on a terminal that takes colour.
func (opts *Options) dim(text string) string { return opts.IO.ErrColorScheme().Dim(text) }

// note is a session's dimmed aside, in parentheses.
func (s *session) note(format string, args ...any) {
	fmt.Fprintln(s.opts.IO.ErrOut, s.opts.dim("("+fmt.Sprintf(format, args...)+")"))
}

// report shows an error in the session, which goes on.
func (s *session) report(err error) {
	msg, hint := cli.DescribeFor(err, s.opts.Config)
	msg, hint = s.opts.IO.ErrPrintable(msg), s.opts.IO.ErrPrintable(hint)
	fmt.Fprintf(s.opts.IO.ErrOut, "moonchat: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(s.opts.IO.ErrOut, "  hint: %s\n", hint)
	}
}
