package historycmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
)

func newCmdRename(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "rename")
	return &cobra.Command{
		Use:   "rename <id> <title>...",
		Short: "Give a conversation a new title",
		Long: cli.Doc(`
			Set the title of a saved conversation: the words after the id, joined by spaces.
			The title shows in "history list" and works wherever an ID is asked for, as the
			exact title. A conversation's automatic title is the first line of its first
			prompt; chat --title sets one when the conversation starts.
		`),
		Example: cli.Doc(`
			$ moonchat history rename 3f2a "Kyoto trip"
			$ moonchat history rename 3f2a Kyoto trip
			$ moonchat chat --conversation "Kyoto trip" "What about Nara?"
		`),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return cli.Usagef("history rename needs an id and a title, e.g. `moonchat history rename 3f2a \"Kyoto trip\"`")
			}
			return nil
		},
		ValidArgsFunction: completeOne(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args[:1]
			title, err := checkTitle(strings.Join(args[1:], " "))
			if err != nil {
				return err
			}
			opts.Title = title
			return run(cmd.Context(), opts, runF)
		},
	}
}

// checkTitle refuses a title that is blank or more than one line.
func checkTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return "", cli.Usagef("the title is empty")
	case strings.ContainsAny(title, "\r\n"):
		return "", cli.Usagef("a title is one line")
	}
	return title, nil
}

func renameRun(ctx context.Context, opts *Options) error {
	store, err := opts.store()
	if err != nil {
		return err
	}
	c, err := resolve(ctx, store, opts.Refs[0])
	if err != nil {
		return err
	}
	if _, err := store.Rename(ctx, c.ID, opts.Title); err != nil {
		return err
	}
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Renamed %s to %q\n", c.ID, cli.ShownLine(opts.Title))
	}
	return nil
}
