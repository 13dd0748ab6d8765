package cli

import (
	"errors"
	"fmt"
)

// ReportError prints err on stderr the way the user sees it (one line, plus a hint line when
// there is one) and returns the exit code. It is the one place an error becomes output: Main
// calls it, and the tests' harnesses call it so that they check exactly what users read.
func ReportError(f *Factory, err error) int {
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code // already reported
	}
	cfg, cerr := f.Config()
	if cerr != nil {
		cfg = nil
	}
	msg, hint := DescribeFor(err, cfg)
	// The message may quote an upstream error body or a stored title: no escape sequence
	// from outside reaches the terminal.
	msg, hint = f.IOStreams.ErrPrintable(msg), f.IOStreams.ErrPrintable(hint)
	fmt.Fprintf(f.IOStreams.ErrOut, "moonchat: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(f.IOStreams.ErrOut, "  hint: %s\n", hint)
	}
	return code
}
