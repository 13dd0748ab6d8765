package historycmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/history"
)

func newCmdFork(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "fork")
	cmd := &cobra.Command{
		Use:   "fork <id> [--at N] [--title TITLE]",
		Short: "Copy a conversation, up to a message, into a new one",
		Long: cli.Doc(`
			Branch a conversation: copy its messages, up to and including message N (--at; all of
			them by default), with its model and system prompt, into a new conversation, and
			print the new id on standard output. The original is left as it is. Messages are
			numbered from 1 as "history show" lists them: an odd N ends on a question, which the
			next chat --conversation asks again with the new prompt after it.

			The copy is titled like the original with " (fork)" added, unless --title is given.
			In a chat session, /fork does the same at the current point and goes on in the copy.
		`),
		Example: cli.Doc(`
			# Try another direction from the second answer on
			$ moonchat history fork 3f2a --at 4
			$ moonchat chat --conversation "$(moonchat history fork 3f2a --at 4)" "Now in Rust instead"
			$ moonchat history fork 3f2a --title "Kyoto trip, budget version"
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeOne(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args
			if cmd.Flags().Changed("at") && opts.At < 1 {
				return cli.Usagef("--at must be 1 or more (messages are numbered from 1), not %d", opts.At)
			}
			if cmd.Flags().Changed("title") {
				title, err := checkTitle(opts.Title)
				if err != nil {
					return err
				}
				opts.Title = title
			}
			return run(cmd.Context(), opts, runF)
		},
	}
	cmd.Flags().IntVar(&opts.At, "at", 0, "copy messages 1 to `N` (default: all of them)")
	cmd.Flags().StringVar(&opts.Title, "title", "", "`TITLE` of the copy (default: the original's, with \" (fork)\")")
	return cmd
}

func forkRun(ctx context.Context, opts *Options) error {
	store, err := opts.store()
	if err != nil {
		return err
	}
	c, err := resolve(ctx, store, opts.Refs[0])
	if err != nil {
		return err
	}
	at := opts.At
	if at == 0 {
		at = c.MessageCount
	}
	fork, err := store.Fork(ctx, c.ID, at, opts.Title)
	var re *history.RangeError
	if errors.As(err, &re) {
		return &cli.UsageError{Err: fmt.Errorf("--at %d: %w", at, err), Hint: fmt.Sprintf("`moonchat history show %s` lists its messages", c.ID)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, fork.ID)
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Forked %s at message %d of %d into %s %q · continue it with: moonchat chat --conversation %s\n",
			c.ID, at, c.MessageCount, fork.ID, cli.ShownLine(fork.Title), fork.ID)
	}
	return nil
}
