package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
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

// recentShown is how many conversations /history lists.
const recentShown = 10

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

// ask sends one question. Ctrl-C stops its answer, not the session: the answer's context is
// canceled, the part that arrived is kept (and saved, marked interrupted), and the prompt
// comes back. Other failures are reported and the session goes on.
func (s *session) ask(ctx context.Context, q question) {
	o := s.opts
	answerCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.drainPresses()
	done := make(chan struct{})
	defer close(done)
	if s.presses != nil {
		go func() {
			select {
			case <-s.presses:
				cancel()
			case <-done:
			}
		}()
	}
	turns := len(s.th.turns)
	res, err := o.exchange(answerCtx, s.client, s.th, s.set, q, s.format)
	if s.set.Model == "auto" && res != nil && res.Model != "" {
		// -m auto picks for the first question; the session goes on with that model.
		s.set.Model = res.Model
	}
	if len(s.th.turns) == turns {
		s.failed = &q
	} else {
		// The attachments and the prefill belong to the first question that was answered.
		s.failed = nil
		s.set.Features.Files, s.set.Features.Images, s.set.Features.Prefill = nil, nil, ""
	}
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled) && ctx.Err() == nil:
		if res != nil && res.ConversationID != "" {
			s.note("stopped; the answer so far is saved")
		} else {
			s.note("stopped")
		}
	case ctx.Err() != nil:
		// The whole command is ending (SIGTERM); the loop returns.
	default:
		s.report(err)
	}
	// -u: after the answer's own usage line, the conversation's running total.
	if o.Usage && res != nil && res.Completion != nil {
		fmt.Fprintln(o.IO.ErrOut, "conversation so far: "+s.th.usageTotal().String())
	}
	fmt.Fprintln(o.IO.Out)
}

// drainPresses forgets a Ctrl-C that arrived while no answer was streaming (in $EDITOR, say),
// so that it does not stop the next answer the moment it starts.
func (s *session) drainPresses() {
	for {
		select {
		case <-s.presses:
		default:
			return
		}
	}
}

func (s *session) note(format string, args ...any) {
	fmt.Fprintln(s.opts.IO.ErrOut, s.opts.dim("("+fmt.Sprintf(format, args...)+")"))
}

func (s *session) report(err error) {
	msg, hint := cli.DescribeFor(err, s.opts.Config)
	msg, hint = s.opts.IO.ErrPrintable(msg), s.opts.IO.ErrPrintable(hint)
	fmt.Fprintf(s.opts.IO.ErrOut, "moonchat: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(s.opts.IO.ErrOut, "  hint: %s\n", hint)
	}
}

// store is the history for a session command (/history, /resume, /fork); when there is none
// to use, the session is told why and ok is false.
func (s *session) store() (store *history.Store, ok bool) {
	if s.th.open == nil {
		s.report(errors.New("no conversation history is available"))
		return nil, false
	}
	store, err := s.th.open()
	if err != nil {
		s.report(err)
		return nil, false
	}
	return store, true
}

// listRecent is /history: the latest conversations, this one marked.
func (s *session) listRecent(ctx context.Context) {
	o := s.opts
	store, ok := s.store()
	if !ok {
		return
	}
	recent, err := store.List(ctx, history.ListOptions{Limit: recentShown})
	if err != nil {
		s.report(err)
		return
	}
	if len(recent) == 0 {
		fmt.Fprintln(o.IO.Out, "(no saved conversations yet)")
		return
	}
	now := o.Factory.Now()
	for _, c := range recent {
		mark := " "
		if c.ID == s.th.conv.ID {
			mark = "*"
		}
		fmt.Fprintf(o.IO.Out, "%s %s  %-9s %3d  %s\n", mark, c.ID, ago(now, c.UpdatedAt), c.MessageCount, cli.ShownLine(history.TitleFromPrompt(c.Title)))
	}
	fmt.Fprintln(o.IO.Out, o.dim("switch to one with: /resume ID"))
}

// ago is a short relative time: "just now", "5m ago", "3h ago", "2d ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
