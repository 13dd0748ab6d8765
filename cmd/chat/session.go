package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// wantsSession decides between one question and the interactive session: --interactive, or
// no prompt at all on a terminal (nothing piped in, no file or image to ask about). A session
// never starts when standard output is not a terminal: a script that forgot its prompt gets
// the usage error instead of a prompt nobody sees.
func (opts *Options) wantsSession() (bool, error) {
	terminal := opts.IO.IsStdinTTY() && opts.IO.IsStdoutTTY()
	if opts.Interactive {
		if !terminal {
			return false, cli.Usagef("--interactive needs a terminal on standard input and output")
		}
		return true, nil
	}
	return terminal && len(opts.Prompt) == 0 && !opts.IO.StdinIsPipeOrFile() &&
		len(opts.Settings.Features.Files) == 0 && len(opts.Settings.Features.Images) == 0 && !opts.DryRun, nil
}

// session is the interactive chat: a line editor, one thread, and each answer shown through
// the same outputs as a one-shot question.
type session struct {
	opts    *Options
	client  *moonshot.Client
	editor  lineEditor
	th      *thread
	set     *Settings // what the next question is asked with: /model, /system, /role… change it
	format  string
	presses <-chan os.Signal // Ctrl-C while an answer streams; nil when the root does not route it

	quitAsked bool      // Ctrl-C on an empty line: a second one quits
	failed    *question // the last question, when no answer to it arrived: /retry asks it again
}

func sessionRun(ctx context.Context, opts *Options) error {
	format, err := resolveFormat(opts)
	if err != nil {
		return err
	}
	switch {
	case format == "json" || format == "jsonl":
		return cli.Usagef("the interactive session shows answers as markdown or text, not --format %s; give a prompt for JSON output", format)
	case opts.N != nil && *opts.N > 1:
		return cli.Usagef("-n asks for several answers to one question; give a prompt (the session continues one answer)")
	case opts.DryRun:
		return cli.Usagef("--dry-run needs a prompt")
	}
	set := opts.asking()
	set.inSession = true
	// MCP calls are asked about with one key on the line editor's terminal (below).
	set.tools = opts.newToolbox(false)
	defer set.tools.close()
	th, err := opts.newThread(ctx, set)
	if err != nil {
		return err
	}
	client, err := opts.newClient()
	if err != nil {
		return err
	}
	// What is typed is remembered across sessions, except in one that leaves no trace.
	historyPath := ""
	if !opts.NoSave {
		if historyPath, err = inputHistoryPath(); err != nil {
			opts.notice("input history is not kept: %v", err)
			historyPath = ""
		}
	}
	newEditor := opts.newEditor
	if newEditor == nil {
		newEditor = newTerminalEditor
	}
	editor, err := newEditor(historyPath)
	if err != nil {
		return err
	}
	s := &session{opts: opts, client: client, editor: editor, th: th, set: set, format: format}
	if ka, ok := editor.(keyAsker); ok && opts.IO.IsStdinTTY() && opts.IO.IsStderrTTY() {
		set.tools.interactive, set.tools.keys = true, ka
	}
	if ce, ok := editor.(completingEditor); ok {
		ce.setCompleter(s.complete)
	}
	if opts.Factory.Interrupts != nil {
		presses, release := opts.Factory.Interrupts()
		defer release()
		s.presses = presses
	}
	s.greet()
	if prompt := strings.Join(opts.Prompt, " "); strings.TrimSpace(prompt) != "" {
		s.ask(ctx, question{prompt: prompt})
	}
	return s.loop(ctx)
}

func (s *session) greet() {
	o := s.opts
	if o.Quiet {
		return
	}
	fmt.Fprintln(o.IO.ErrOut, o.dim(fmt.Sprintf("moonchat %s · /help for commands · Alt-Enter or \\ for a new line · Ctrl-D quits", cli.ShownLine(s.set.Model))))
	if c := s.th.conv; c.ID != "" {
		fmt.Fprintln(o.IO.ErrOut, o.dim(fmt.Sprintf("continuing conversation %s %q (%d messages)", c.ID, cli.ShownLine(c.Title), c.MessageCount)))
		s.recap()
	}
	if tools := s.toolsNotice(); tools != "" {
		fmt.Fprintln(o.IO.ErrOut, o.dim(tools))
	}
}

// toolsNotice names the tools the model may use: Moonshot's run on its side without asking;
// MCP servers' run here, each call approved (unless --yes or allow_tools says so).
func (s *session) toolsNotice() string {
	f := &s.set.Features
	var parts []string
	for _, formula := range f.formulas {
		parts = append(parts, formula.String())
	}
	if len(parts) > 0 {
		parts = []string{strings.Join(parts, ", ") + " (run by Moonshot, no approval needed)"}
	}
	if len(f.MCP) > 0 {
		ask := "each call asks for approval"
		if f.Yes {
			ask = "--yes approves every call"
		}
		parts = append(parts, "MCP "+cli.ShownLine(strings.Join(f.MCP, ", "))+" ("+ask+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return "tools: " + strings.Join(parts, "; ")
}

func (s *session) prompt() string {
	model := cli.ShownLine(s.set.Model)
	if s.set.Role != "" {
		model += " (" + s.set.Role + ")"
	}
	return s.opts.IO.ColorScheme().Dim(model) + " › "
}

func (s *session) loop(ctx context.Context) error {
	o := s.opts
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := s.editor.ReadLine(s.prompt())
		switch {
		case errors.Is(err, errLineInterrupted):
			if strings.TrimSpace(line) != "" {
				s.quitAsked = false // Ctrl-C drops the line being typed, as in a shell
				continue
			}
			if s.quitAsked {
				return nil
			}
			s.quitAsked = true
			fmt.Fprintln(o.IO.ErrOut, o.dim("(to quit, press Ctrl-C again or Ctrl-D)"))
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("reading the terminal: %w", err)
		}
		s.quitAsked = false
		text := strings.TrimRight(strings.TrimLeft(line, "\r\n"), " \t\r\n")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if name, arg, ok := slashCommand(text); ok {
			if quit := s.command(ctx, name, arg); quit {
				return nil
			}
			continue
		}
		text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
		s.ask(ctx, question{prompt: text})
	}
}

// slashCommand splits "/name arg" into its parts; "//..." is a message that starts with "/".
func slashCommand(text string) (name, arg string, ok bool) {
	if !strings.HasPrefix(text, "/") || strings.HasPrefix(text, "//") {
		return "", "", false
	}
	name, arg, _ = strings.Cut(text[1:], " ")
	if i := strings.IndexAny(name, "\n\t"); i >= 0 {
		name, arg = name[:i], name[i+1:]+" "+arg
	}
	return strings.ToLower(name), strings.TrimSpace(arg), true
}
