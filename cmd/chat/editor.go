package chat

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/reeflective/readline"
	"github.com/reeflective/readline/inputrc"
	"golang.org/x/term"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
)

// lineEditor reads what the user types in the session.
type lineEditor interface {
	// ReadLine shows prompt and returns what the user entered, possibly several lines.
	// Ctrl-C returns errLineInterrupted with the text typed so far; Ctrl-D on an empty line
	// returns io.EOF.
	ReadLine(prompt string) (string, error)
}

var errLineInterrupted = errors.New("interrupted")

// terminalEditor is the session's line editor, github.com/reeflective/readline: emacs and vi
// modes and the user's ~/.inputrc, history search, bracketed paste, multi-line editing, and
// widths from uniseg, so that CJK text and emoji keep the cursor in place. It reads and
// draws on the process's terminal itself; the session only starts when standard input and
// output are one.
type terminalEditor struct {
	rl *readline.Shell
}

// newlineCommand inserts a line break instead of sending the message.
const newlineCommand = "moonchat-insert-newline"

// newTerminalEditor builds the editor. historyPath is the file that keeps what was typed
// across sessions ("" keeps it in memory only).
func newTerminalEditor(historyPath string) (lineEditor, error) {
	rl := readline.NewShell()
	// The editor would otherwise ask the terminal where the cursor is before every prompt,
	// and wait for an answer that some terminals (and test ptys) never send. Each prompt
	// starts a line, so its width is all the editor needs.
	_ = rl.Config.Set("cursor-position-probe", false)
	// A paste arrives as one piece: its line breaks stay in the message instead of sending it.
	_ = rl.Config.Set("enable-bracketed-paste", true)

	rl.Keymap.Register(map[string]func(){newlineCommand: func() { rl.Cursor().InsertAt('\n') }})
	// Alt-Enter is ESC CR (ESC LF on some terminals). The key is the meta character itself:
	// the editor matches ESC-prefixed input against it, and a meta key of the same
	// character (bound to self-insert by default) would otherwise win.
	for _, keymap := range []string{"emacs", "emacs-standard", "emacs-meta", "vi-insert"} {
		for _, key := range []rune{'\r', '\n'} {
			_ = rl.Config.Bind(keymap, string(inputrc.Enmeta(key)), newlineCommand, false)
		}
	}
	// Tab shows the menu of completions after inserting what they share, as zsh does; more
	// Tabs walk through it. (The editor's default inserts the first candidate unseen.)
	_ = rl.Config.Set("menu-complete-display-prefix", true)
	for _, keymap := range []string{"emacs", "emacs-standard", "vi-insert"} {
		_ = rl.Config.Bind(keymap, "\t", "menu-complete", false)
	}
	// Enter after a trailing backslash continues the message on a new line, as in a shell;
	// the backslash goes.
	rl.AcceptMultiline = func(line []rune) bool {
		n := len(line)
		if n == 0 || line[n-1] != '\\' || rl.Cursor().Pos() != n {
			return true
		}
		rl.Line().CutRune(n - 1)
		rl.Cursor().Dec()
		return false
	}
	if historyPath != "" {
		rl.History.AddFromFile("moonchat", historyPath)
	}
	return &terminalEditor{rl: rl}, nil
}

// setCompleter makes Tab complete with c: a menu of the candidates, each with its
// description, under a heading per kind.
func (e *terminalEditor) setCompleter(c completer) {
	e.rl.Completer = func(line []rune, cursor int) readline.Completions {
		cursor = min(max(cursor, 0), len(line))
		cands := c(string(line[:cursor]))
		values := make([]readline.Completion, 0, len(cands))
		for _, cd := range cands {
			// The editor inserts the value as it is: a finished word brings its space along.
			value := cd.value
			if !cd.dir {
				value += " "
			}
			// A file name may hold control characters: the menu shows it defanged.
			values = append(values, readline.Completion{Value: value, Display: cli.ShownLine(cd.value), Description: cd.desc, Tag: cd.group})
		}
		// The session orders its candidates: newest conversations first, models as the table has them.
		return readline.CompleteRaw(values).NoSpace('/').NoSort()
	}
}

// confirm shows prompt and waits for one key: Enter confirms; Esc, Ctrl-C or Ctrl-D declines.
func (e *terminalEditor) confirm(prompt string) (bool, error) {
	key, err := readKey(context.Background(), prompt, func(k byte) bool { return k == '\r' || k == '\n' || k == 0x1b || k == 0x03 || k == 0x04 })
	return key == '\r' || key == '\n', err
}

// askKey shows prompt and waits for one of keys (an upper-case letter counts as its lower
// case) and shows the word it stands for. Esc and Ctrl-D are the last of keys (the refusal);
// Ctrl-C returns errLineInterrupted.
func (e *terminalEditor) askKey(ctx context.Context, prompt string, keys string, words []string) (byte, error) {
	lower := func(k byte) byte {
		if k >= 'A' && k <= 'Z' {
			return k + 'a' - 'A'
		}
		return k
	}
	key, err := readKey(ctx, prompt, func(k byte) bool {
		if k == 0x1b || k == 0x04 {
			k = keys[len(keys)-1]
		}
		if i := strings.IndexByte(keys, lower(k)); i >= 0 {
			_, _ = io.WriteString(os.Stderr, words[i]) // before readKey ends the line
			return true
		}
		return k == 0x03
	})
	if err != nil {
		return 0, err
	}
	if key == 0x03 {
		return 0, errLineInterrupted
	}
	if key == 0x1b || key == 0x04 {
		key = keys[len(keys)-1]
	}
	return lower(key), nil
}

// readKey shows prompt and reads keys until done accepts one, which it returns, or ctx ends.
// The terminal is in raw mode meanwhile, so the key needs no Enter after it and Ctrl-C is a
// key rather than a signal. When ctx ends first (SIGTERM) the read is left behind: the
// command is ending.
func readKey(ctx context.Context, prompt string, done func(key byte) bool) (byte, error) {
	fd := int(os.Stdin.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return 0, err
	}
	defer term.Restore(fd, state)
	_, _ = io.WriteString(os.Stderr, prompt)
	defer io.WriteString(os.Stderr, "\r\n")
	type read struct {
		key byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		key := make([]byte, 1)
		for {
			n, err := os.Stdin.Read(key)
			if err != nil {
				got <- read{err: err}
				return
			}
			if n == 1 && done(key[0]) {
				got <- read{key: key[0]}
				return
			}
		}
	}()
	select {
	case r := <-got:
		return r.key, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (e *terminalEditor) ReadLine(prompt string) (string, error) {
	e.rl.Prompt.Primary(func() string { return prompt })
	line, err := e.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return line, errLineInterrupted
	}
	return line, err
}

// inputHistoryPath is the file of what was typed in sessions, next to the history database
// ($XDG_DATA_HOME/moonchat/input_history). It is created private (0600): prompts can hold
// anything.
func inputHistoryPath() (string, error) {
	db, err := history.DefaultPath()
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(db), "input_history")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return "", err
	}
	return path, f.Close()
}
