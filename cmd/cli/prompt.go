package cli

import (
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
func ReadPrompt(ios *iostreams.IOStreams, args []string) (string, error) {
	prompt := strings.Join(args, " ")
	if !ios.StdinIsPipeOrFile() {
		return prompt, nil
	}
	data, err := io.ReadAll(io.LimitReader(ios.In, MaxStdin+1))
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
