// Package cmd is moonchat's command tree. Main is the only place that reads os.Args, installs
// signal handlers and turns errors into exit codes.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/chat"
	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/cmd/version"
	"github.com/moonchat/moonchat/pkg/build"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Main runs moonchat and returns the process exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first Ctrl-C cancels the work, a second one kills the process the usual way.
		<-ctx.Done()
		stop()
	}()
	ios := iostreams.System()
	f := cli.New(ios)
	root := NewCmdRoot(f)
	root.SetArgs(os.Args[1:])
	err := root.ExecuteContext(ctx)
	return reportError(f, err)
}

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(f *cli.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "moonchat <command> [flags]",
		Short: "Kimi (Moonshot AI) in your terminal",
		Long: heredoc.Docf(`
			moonchat talks to Moonshot AI's Kimi models: one-shot questions, piped input,
			streamed markdown answers, and an OpenAI-compatible proxy, with Moonshot's parameter
			quirks fixed on every request.

			Set your key with MOONSHOT_API_KEY (platform.moonshot.ai; use --region cn for
			platform.moonshot.cn), or try everything offline with --offline.

			EXIT STATUS
			%s
		`, cli.ExitStatusHelp),
		Example: heredoc.Doc(`
			$ moonchat chat --offline "hello"
			$ moonchat chat "Explain CRDTs in three sentences"
			$ git diff | moonchat chat "Write a commit message for this"
		`),
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
	root.AddCommand(version.NewCmdVersion(f))
	return root
}

// reportError prints err as one line plus a hint on stderr and returns the exit code.
func reportError(f *cli.Factory, err error) int {
	if err == nil {
		return cli.ExitOK
	}
	code := cli.ExitCode(err)
	var ee *cli.ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return code // already reported
	}
	region := ""
	if cfg, cerr := f.Config(); cerr == nil {
		region = cfg.Value("region").Raw
	}
	msg, hint := cli.Describe(err, region)
	fmt.Fprintf(f.IOStreams.ErrOut, "moonchat: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(f.IOStreams.ErrOut, "  hint: %s\n", hint)
	}
	return code
}
