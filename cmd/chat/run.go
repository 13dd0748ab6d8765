package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// readPrompt is cli.ReadPrompt, except that with -f - stdin is an attachment (attach.go), not
// part of the prompt.
func readPrompt(ctx context.Context, opts *Options) (string, error) {
	if slices.Contains(opts.Settings.Features.Files, "-") {
		return strings.Join(opts.Prompt, " "), nil
	}
	return cli.ReadPrompt(ctx, opts.IO, opts.Prompt)
}

func (opts *Options) notice(format string, args ...any) {
	if !opts.Quiet {
		// Notices quote outside text at times (a file name, an upstream message).
		fmt.Fprintln(opts.IO.ErrOut, opts.IO.ErrPrintable("moonchat: "+fmt.Sprintf(format, args...)))
	}
}

func chatRun(ctx context.Context, opts *Options) error {
	if session, err := opts.wantsSession(); err != nil {
		return err
	} else if session {
		return sessionRun(ctx, opts)
	}
	format, err := resolveFormat(opts)
	if err != nil {
		return err
	}
	prompt, err := readPrompt(ctx, opts)
	if err != nil {
		return err
	}
	if strings.TrimSpace(prompt) == "" && len(opts.Settings.Features.Files) == 0 {
		return cli.Usagef("no prompt: give it as arguments (moonchat chat \"question\") or pipe text in")
	}
	set := opts.asking()
	set.tools = opts.newToolbox(true)
	defer set.tools.close()
	th, err := opts.newThread(ctx, set)
	if err != nil {
		return err
	}
	client, err := opts.newClient()
	if err != nil {
		return err
	}
	res, err := opts.exchange(ctx, client, th, set, question{prompt: prompt}, format)
	if opts.Copy != "" && res != nil && res.Completion != nil && len(res.Completion.Choices) > 0 {
		// After the answer is shown: a clipboard failure is a warning, not the command's.
		if cerr := opts.copyAnswer(res.Completion.Choices[0].Message.Content, opts.Copy); cerr != nil {
			fmt.Fprintf(opts.IO.ErrOut, "moonchat: warning: not copied: %v\n", cerr)
		}
	}
	return err
}

func (opts *Options) newClient() (*moonshot.Client, error) {
	return opts.Factory.Client(opts.Config, cli.ClientOptions{
		Offline:   opts.Offline,
		Streaming: !opts.NoStream,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			msg, _ := cli.Describe(err, opts.Config.Value(config.KeyRegion).Raw)
			opts.notice("%s; retry %d in %s", msg, attempt, wait.Round(10*time.Millisecond))
		},
	})
}
