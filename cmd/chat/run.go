package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
)

// readPrompt is cli.ReadPrompt, except that with -f - stdin is an attachment (attach.go), not
// part of the prompt.
func readPrompt(ctx context.Context, opts *Options) (string, error) {
	if slices.Contains(opts.Settings.Features.Files, "-") {
		return strings.Join(opts.Prompt, " "), nil
	}
	return cli.ReadPrompt(ctx, opts.IO, opts.Prompt)
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
