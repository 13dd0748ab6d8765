package chat

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// osc52Max bounds what is sent through OSC 52: terminals refuse or truncate long sequences
// (tmux stops near 1 MB of base64, some terminals far earlier).
const osc52Max = 512 << 10

// copyTimeout bounds a clipboard program: one that waits on a display that is gone must not
// hang the session.
const copyTimeout = 5 * time.Second

// clipboardTool is a program that puts its standard input on the clipboard, and the
// environment it needs to do so.
type clipboardTool struct {
	name string
	args []string
	ok   func(getenv func(string) string) bool
}

// clipboardTools are tried in order; the first one installed whose display is there is used.
var clipboardTools = []clipboardTool{
	{"wl-copy", nil, func(env func(string) string) bool { return env("WAYLAND_DISPLAY") != "" }},
	{"xclip", []string{"-selection", "clipboard"}, func(env func(string) string) bool { return env("DISPLAY") != "" }},
	{"xsel", []string{"--clipboard", "--input"}, func(env func(string) string) bool { return env("DISPLAY") != "" }},
	{"pbcopy", nil, func(func(string) string) bool { return runtime.GOOS == "darwin" }},
}

// copyText puts text on the clipboard in every way it can, and returns how: OSC 52 written
// to the terminal (it works through ssh and tmux, when the terminal allows programs to set
// the clipboard; nothing tells whether it did) and the local clipboard program, when there is
// one. It fails only when neither was possible.
func (opts *Options) copyText(text string) (string, error) {
	var ways []string
	var problems []error
	term := opts.terminalWriter()
	switch {
	case term == nil:
	case len(text) > osc52Max:
		problems = append(problems, fmt.Errorf("%d bytes is too long for OSC 52 (at most %d)", len(text), osc52Max))
	default:
		if _, err := io.WriteString(term, osc52(text)); err != nil {
			problems = append(problems, err)
		} else {
			ways = append(ways, "OSC 52")
		}
	}
	for _, t := range clipboardTools {
		if !t.ok(os.Getenv) {
			continue
		}
		path, err := exec.LookPath(t.name)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), copyTimeout)
		cmd := exec.CommandContext(ctx, path, t.args...)
		cmd.Stdin = strings.NewReader(text)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err = cmd.Run()
		cancel()
		if err != nil {
			problems = append(problems, fmt.Errorf("%s failed: %v %s", t.name, err, strings.TrimSpace(stderr.String())))
			continue
		}
		ways = append(ways, t.name)
		break
	}
	if len(ways) == 0 {
		if len(problems) == 0 {
			return "", errors.New("no clipboard: not on a terminal for OSC 52, and none of wl-copy, xclip, xsel or pbcopy is usable here")
		}
		return "", errors.Join(problems...)
	}
	how := strings.Join(ways, " and ")
	if ways[0] == "OSC 52" {
		how += " (OSC 52 needs a terminal that lets programs set the clipboard; in tmux, set-clipboard on)"
	}
	return how, nil
}

// terminalWriter is where an OSC 52 sequence goes: standard error when it is a terminal
// (standard output carries the answer only), else standard output when it is one.
func (opts *Options) terminalWriter() io.Writer {
	switch {
	case opts.IO.IsStderrTTY():
		return opts.IO.ErrOut
	case opts.IO.IsStdoutTTY():
		return opts.IO.Out
	}
	return nil
}

// osc52 is the sequence that asks the terminal to set the clipboard to text.
func osc52(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\x07"
}

// codeBlocks returns the contents of the fenced code blocks of a markdown text, in order. An
// unclosed block at the end counts (an answer cut short).
func codeBlocks(markdown string) []string {
	var blocks []string
	var cur []string
	fence, fenceIndent := "", 0
	for _, line := range strings.Split(markdown, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if fence == "" {
			if indent <= 3 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
				n := len(trimmed) - len(strings.TrimLeft(trimmed, trimmed[:1]))
				fence, fenceIndent, cur = trimmed[:n], indent, nil
			}
			continue
		}
		if indent <= 3 && strings.HasPrefix(trimmed, fence) && strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])) == "" {
			blocks, fence = append(blocks, strings.Join(cur, "\n")+"\n"), ""
			continue
		}
		// A fence indented by N spaces takes up to N spaces off each of its lines (CommonMark).
		cur = append(cur, line[min(indent, fenceIndent):])
	}
	for len(cur) > 0 && strings.TrimSpace(cur[len(cur)-1]) == "" {
		cur = cur[:len(cur)-1]
	}
	if fence != "" && len(cur) > 0 {
		blocks = append(blocks, strings.Join(cur, "\n")+"\n")
	}
	return blocks
}

// copyTarget parses what /copy and --copy take: nothing or "answer" (the whole answer),
// "code" (its last code block, n = 0) or "code N" / "code:N" (the N-th).
func copyTarget(what string) (code bool, n int, err error) {
	fields := strings.Fields(strings.ReplaceAll(what, ":", " "))
	switch {
	case len(fields) == 0 || (len(fields) == 1 && fields[0] == "answer"):
		return false, 0, nil
	case fields[0] == "code" && len(fields) == 1:
		return true, 0, nil
	case fields[0] == "code" && len(fields) == 2:
		if n, err := strconv.Atoi(fields[1]); err == nil && n >= 1 {
			return true, n, nil
		}
	}
	return false, 0, fmt.Errorf("copy what? %q: give nothing (the answer), code (its last code block) or code N", what)
}

// copyAnswer copies an answer or one of its code blocks (copyTarget) and says how on
// standard error.
func (opts *Options) copyAnswer(answer, what string) error {
	code, n, err := copyTarget(what)
	if err != nil {
		return err
	}
	if strings.TrimSpace(answer) == "" {
		return errors.New("there is no answer to copy yet")
	}
	text, label := answer, "the answer"
	if code {
		blocks := codeBlocks(answer)
		switch {
		case len(blocks) == 0:
			return errors.New("the answer has no code block")
		case n == 0:
			n = len(blocks)
		case n > len(blocks):
			return fmt.Errorf("code %d: the answer has code blocks 1 to %d", n, len(blocks))
		}
		text, label = blocks[n-1], fmt.Sprintf("code block %d of %d", n, len(blocks))
	}
	how, err := opts.copyText(text)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.ErrOut, opts.dim(fmt.Sprintf("copied %s (%d bytes) with %s", label, len(text), how)))
	return nil
}
