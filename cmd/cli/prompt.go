package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moonchat/moonchat/pkg/iostreams"
)

// MaxStdin bounds what is read from a pipe: far above any model's context, low enough that a
// runaway producer cannot exhaust memory.
const MaxStdin = 64 << 20

// ReadPrompt is the prompt of a one-shot command: the arguments joined by spaces, then, when
// stdin is a pipe or a file, its text after a blank line. A terminal on stdin is never read.
// Reading stops at once when ctx ends, even while the pipe's writer is idle.
func ReadPrompt(ctx context.Context, ios *iostreams.IOStreams, args []string) (string, error) {
	prompt := strings.Join(args, " ")
	if !ios.StdinIsPipeOrFile() {
		return prompt, nil
	}
	data, err := ReadCancellable(ctx, func() ([]byte, error) {
		return io.ReadAll(io.LimitReader(ios.In, MaxStdin+1))
	})
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	if len(data) > MaxStdin {
		return "", Usagef("standard input is larger than %d MB; pass a smaller input", MaxStdin>>20)
	}
	stdin := string(data)
	switch {
	case strings.TrimSpace(stdin) == "":
		return prompt, nil
	case prompt == "":
		return stdin, nil
	}
	return prompt + "\n\n" + stdin, nil
}

// ReadCancellable runs read, which may block for good on a pipe or a FIFO whose writer is
// idle (or, for a FIFO, on opening it before any writer came), and returns as soon as ctx
// ends: Ctrl-C and SIGTERM must not wait for the writer. An abandoned read goes on in the
// background until its writer closes or the process, which is about to exit, ends.
func ReadCancellable(ctx context.Context, read func() ([]byte, error)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := read()
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
