package iostreams

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/term"
)

// ErrNoTerminal is returned when asking for input that needs a terminal without one.
var ErrNoTerminal = errors.New("standard input is not a terminal")

// ReadSecret writes prompt to stderr and reads one line from the terminal without echoing it
// (for an API key). It needs stdin to be a terminal (ErrNoTerminal otherwise); with Test
// streams and SetStdinTTY(true) it reads a line from In instead, still echoing nothing.
//
// Cancelling ctx (Ctrl-C, through the root's signal handling) returns ctx.Err() at once with
// the terminal's echo restored; the blocked read is abandoned, so do not read stdin afterwards.
func (s *IOStreams) ReadSecret(ctx context.Context, prompt string) (string, error) {
	if !s.stdinTTY {
		return "", ErrNoTerminal
	}
	s.StopSpinner()
	fmt.Fprint(s.ErrOut, prompt)
	// The user's Enter is not echoed either, so end the prompt's line ourselves.
	defer fmt.Fprintln(s.ErrOut)
	if s.stdinFd < 0 {
		return readLine(s.In)
	}

	state, err := term.GetState(s.stdinFd)
	if err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	type result struct {
		line []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := term.ReadPassword(s.stdinFd)
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", fmt.Errorf("reading from the terminal: %w", r.err)
		}
		return string(bytes.TrimRight(r.line, "\r\n")), nil
	case <-ctx.Done():
		_ = term.Restore(s.stdinFd, state)
		return "", ctx.Err()
	}
}

// ReadLine writes prompt to stderr and reads one line typed on the terminal, echoed as usual
// (for answers that are not secret). Like ReadSecret it needs stdin to be a terminal
// (ErrNoTerminal otherwise) and returns ctx.Err() at once when ctx is cancelled.
func (s *IOStreams) ReadLine(ctx context.Context, prompt string) (string, error) {
	if !s.stdinTTY {
		return "", ErrNoTerminal
	}
	s.StopSpinner()
	fmt.Fprint(s.ErrOut, prompt)
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := readLine(s.In)
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		// The terminal echoed nothing after the prompt yet; leave the cursor on a new line.
		fmt.Fprintln(s.ErrOut)
		return "", ctx.Err()
	}
}

// readLine reads up to a newline one byte at a time, so that nothing after the line is
// consumed from In.
func readLine(r io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return "", io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return "", err
		}
	}
	return string(bytes.TrimRight(line, "\r")), nil
}
