// Package cmd is moonchat's command tree. Main is the only place that reads os.Args, installs
// signal handlers and turns errors into exit codes.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/balance"
	"github.com/moonchat/moonchat/cmd/chat"
	"github.com/moonchat/moonchat/cmd/cli"
	configcmd "github.com/moonchat/moonchat/cmd/config"
	"github.com/moonchat/moonchat/cmd/files"
	historycmd "github.com/moonchat/moonchat/cmd/history"
	"github.com/moonchat/moonchat/cmd/models"
	"github.com/moonchat/moonchat/cmd/roles"
	"github.com/moonchat/moonchat/cmd/serve"
	"github.com/moonchat/moonchat/cmd/tokens"
	"github.com/moonchat/moonchat/cmd/tools"
	"github.com/moonchat/moonchat/cmd/version"
	"github.com/moonchat/moonchat/pkg/build"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Main runs moonchat and returns the process exit code.
func Main() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sig := catchSignals(func() { cancel(nil) })
	defer sig.stop()
	ios := iostreams.System()
	defer followResize(ios)()
	// A reader that goes away (| head -c 10) ends the command like a signal: the answer in
	// progress is cancelled and saved as interrupted, and the process exits quietly.
	ios.Out = &stdoutGuard{w: ios.Out, gone: func() { cancel(errStdoutGone) }}
	f := cli.New(ios)
	f.Interrupts = sig.claim
	root := NewCmdRoot(f)
	root.SetArgs(os.Args[1:])
	err := root.ExecuteContext(ctx)
	if cerr := f.Close(); cerr != nil {
		fmt.Fprintf(ios.ErrOut, "moonchat: warning: %s\n", ios.ErrPrintable(cerr.Error()))
	}
	if err != nil && context.Cause(ctx) == errStdoutGone {
		return cli.ExitOK
	}
	code := cli.ReportError(f, err)
	if code == cli.ExitInterrupted {
		code = sig.exitCode()
	}
	return code
}

// signals turns Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a dropped ssh) into the cancellation of the command's context. An
// interactive session claims Ctrl-C (cli.Factory.Interrupts): each press then stops the
// answer in progress instead of the process. Once the context is canceled the handler is
// removed, so a second Ctrl-C kills a process that is slow to stop, the usual way.
type signals struct {
	ch      chan os.Signal
	got     atomic.Value // the os.Signal that cancelled the command
	mu      sync.Mutex
	claimed chan os.Signal // nil unless a session holds Ctrl-C
}

func catchSignals(cancel context.CancelFunc) *signals {
	s := &signals{ch: make(chan os.Signal, 1)}
	signal.Notify(s.ch, append([]os.Signal{os.Interrupt, syscall.SIGTERM}, hangupSignals...)...)
	ignoreBrokenPipe()
	go func() {
		for got := range s.ch {
			if got == os.Interrupt && s.forward(got) {
				continue
			}
			s.got.Store(got)
			s.stop()
			cancel()
			return
		}
	}()
	return s
}

func (s *signals) stop() { signal.Stop(s.ch) }

// followResize reports every change of the terminal's size (SIGWINCH) to the streams, so
// that a live rendering follows it. It returns the function that stops it.
func followResize(ios *iostreams.IOStreams) (stop func()) {
	if len(resizeSignals) == 0 {
		return func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, resizeSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				ios.Resized()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// exitCode is 128 + the number of the signal that cancelled the command (129 SIGHUP, 130
// Ctrl-C, 143 SIGTERM), 130 when none did.
func (s *signals) exitCode() int {
	if got, ok := s.got.Load().(syscall.Signal); ok {
		return 128 + int(got)
	}
	return cli.ExitInterrupted
}

// errStdoutGone is the cancel cause when the reader of stdout went away.
var errStdoutGone = errors.New("stdout was closed")

// stdoutGuard stops writing at the first broken pipe: it calls gone once and then takes
// every write without doing it, so no command fails on output nobody reads.
type stdoutGuard struct {
	w      io.Writer
	closed atomic.Bool
	gone   func()
}

func (g *stdoutGuard) Write(p []byte) (int, error) {
	if g.closed.Load() {
		return len(p), nil
	}
	n, err := g.w.Write(p)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		if !g.closed.Swap(true) {
			g.gone()
		}
		return len(p), nil
	}
	return n, err
}

// forward hands a Ctrl-C to the session holding it; a press the session has not taken yet
// is enough, so further ones are dropped rather than blocking the handler.
func (s *signals) forward(sig os.Signal) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed == nil {
		return false
	}
	select {
	case s.claimed <- sig:
	default:
	}
	return true
}

// claim is cli.Factory.Interrupts.
func (s *signals) claim() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 1)
	s.mu.Lock()
	s.claimed = c
	s.mu.Unlock()
	return c, func() {
		s.mu.Lock()
		if s.claimed == c {
			s.claimed = nil
		}
		s.mu.Unlock()
	}
}

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(f *cli.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "moonchat <command> [flags]",
		Short: "Kimi (Moonshot AI) in your terminal",
		Long: cli.Docf(`
			moonchat talks to Moonshot AI's Kimi models: one-shot questions, piped input,
			streamed markdown answers, and an OpenAI-compatible proxy, with Moonshot's parameter
			quirks fixed on every request.

			Set your key with MOONSHOT_API_KEY (platform.moonshot.ai; use --region cn for
			platform.moonshot.cn), or try everything offline with --offline.

			EXIT STATUS
			%s
		`, cli.ExitStatusHelp),
		Example: cli.Doc(`
			$ moonchat chat --offline "hello"
			$ moonchat chat "Explain CRDTs in three sentences"
			$ git diff | moonchat chat "Write a commit message for this"
		`),
		// Runnable so that an unknown command is an error (exit 2), not a help page.
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		Version:       build.Short(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate(build.Get().String())
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetIn(f.IOStreams.In)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cli.UsageError{Err: err, Hint: fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())}
	})
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(chat.NewCmdChat(f, nil))
	root.AddCommand(models.NewCmdModels(f, nil))
	root.AddCommand(configcmd.NewCmdConfig(f, nil))
	root.AddCommand(tokens.NewCmdTokens(f, nil))
	root.AddCommand(balance.NewCmdBalance(f, nil))
	root.AddCommand(files.NewCmdFiles(f))
	root.AddCommand(historycmd.NewCmdHistory(f, nil))
	root.AddCommand(roles.NewCmdRoles(f, nil))
	root.AddCommand(serve.NewCmdServe(f, nil))
	root.AddCommand(tools.NewCmdTools(f, nil))
	root.AddCommand(version.NewCmdVersion(f))
	argsAreUsageErrors(root)
	return root
}

// argsAreUsageErrors makes a wrong number of arguments (and an unknown command) exit 2 like a
// bad flag: cobra reports both as plain errors, which would exit 1.
func argsAreUsageErrors(c *cobra.Command) {
	check := c.Args
	if check == nil && c.HasSubCommands() {
		check = cobra.NoArgs
	}
	if check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &cli.UsageError{Err: err, Hint: fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		argsAreUsageErrors(sub)
	}
}
