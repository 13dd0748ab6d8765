// Package historycmd implements `moonchat history` (alias `log`): list, show, search, delete
// and export the conversations that chat saves.
package historycmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/iostreams"
)

// Options are the inputs of every history subcommand; Action says which one runs.
type Options struct {
	IO *iostreams.IOStreams
	// History opens the database (the factory's, or a test's).
	History func() (*history.Store, error)
	// Now is the clock behind relative times and --older-than.
	Now func() time.Time

	Action string // list, show, search, rm, export, rename or fork

	JSON      bool
	Limit     int           // list, search: at most this many; 0 means all
	Refs      []string      // show, export: one; rm: one or more (id, id prefix or exact title)
	Query     string        // search: the words, joined by spaces
	OlderThan time.Duration // rm --older-than
	Format    string        // export: markdown or json
	Title     string        // rename: the new title; fork: the copy's ("" = the original's + " (fork)")
	At        int           // fork: copy messages 1 to At (0: all)

	// How show renders answers on a terminal (the wrap and style settings).
	Wrap  int
	Style string
}

// Default limits: a screenful on a terminal. --limit 0 lifts them.
const (
	defaultListLimit   = 30
	defaultSearchLimit = 20
)

// NewCmdHistory builds `history` and its subcommands. runF replaces the run function of every
// subcommand in tests of flag parsing.
func NewCmdHistory(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "history <command>",
		Aliases: []string{"log"},
		Short:   "List, show, search, rename, fork and delete saved conversations",
		Long: cli.Doc(`
			moonchat chat saves every conversation (unless --no-save, or save_history is false)
			in a SQLite database: $XDG_DATA_HOME/moonchat/history.db, by default
			~/.local/share/moonchat/history.db (~/Library/Application Support on macOS,
			%LocalAppData% on Windows).

			A conversation has a short id, shown by "history list". Wherever an ID is asked for,
			a unique prefix of it (two characters or more) or the exact title works too. An
			unknown or ambiguous ID is a usage error (exit 2); an ambiguous one lists the
			candidates. A database that is not a SQLite file is reported (exit 1) and left as it
			is.
		`),
		Example: cli.Doc(`
			$ moonchat history list
			$ moonchat history show 3f2a
			$ moonchat history search "connection pool"
			$ moonchat history rm --older-than 90d
			$ moonchat history export 3f2a9c01 --format markdown > notes.md
			$ moonchat history rename 3f2a "Kyoto trip"
			$ moonchat history fork 3f2a --at 4
			$ moonchat chat --conversation 3f2a "And how do I test that?"
		`),
		Args: cobra.ArbitraryArgs,
		RunE: cli.UnknownSubcommand,
	}
	for _, sub := range []*cobra.Command{
		newCmdList(f, runF), newCmdShow(f, runF), newCmdSearch(f, runF),
		newCmdRm(f, runF), newCmdExport(f, runF), newCmdRename(f, runF), newCmdFork(f, runF),
	} {
		cmd.AddCommand(sub)
	}
	return cmd
}

func newOptions(f *cli.Factory, action string) *Options {
	return &Options{IO: f.IOStreams, History: f.History, Now: f.Now, Action: action}
}

// run hands the options to runF (tests) or to the action's run function.
func run(ctx context.Context, opts *Options, runF func(*Options) error) error {
	if runF != nil {
		return runF(opts)
	}
	switch opts.Action {
	case "list":
		return listRun(ctx, opts)
	case "show":
		return showRun(ctx, opts)
	case "search":
		return searchRun(ctx, opts)
	case "rm":
		return rmRun(ctx, opts)
	case "export":
		return exportRun(ctx, opts)
	case "rename":
		return renameRun(ctx, opts)
	case "fork":
		return forkRun(ctx, opts)
	}
	return fmt.Errorf("unknown history action %q", opts.Action)
}

func checkLimit(n int) error {
	if n < 0 {
		return cli.Usagef("--limit must be 0 (no limit) or more, not %d", n)
	}
	return nil
}

func newCmdList(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "list")
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List saved conversations, most recent first",
		Long: cli.Docf(`
			List the saved conversations, the most recently updated first, at most --limit of
			them (%d by default; 0 lists all).

			On a terminal they are shown as a table: id, when it was last updated, model, number
			of messages and title. When the output is piped, each conversation is one line: the
			id, a tab, and the title. --json prints an array of objects with the fields id,
			title, model, system, created_at, updated_at (RFC 3339) and message_count.
		`, defaultListLimit),
		Example: cli.Doc(`
			$ moonchat history list
			$ moonchat history list --limit 5
			$ moonchat history list --limit 0 | cut -f1
			$ moonchat history list --json | jq -r '.[] | select(.model == "kimi-k2.6") | .id'
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(opts.Limit); err != nil {
				return err
			}
			return run(cmd.Context(), opts, runF)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&opts.Limit, "limit", "L", defaultListLimit, "list at most `N` conversations (0: all)")
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON array")
	return cmd
}

func newCmdShow(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "show")
	cmd := &cobra.Command{
		Use:     "show <id> [flags]",
		Aliases: []string{"view"},
		Short:   "Show a conversation",
		Long: cli.Doc(`
			Show a saved conversation the way chat printed it: each prompt marked with "> ",
			then the answer. On a terminal the answers are rendered as markdown (the wrap and
			style settings apply); piped, they are printed exactly as the model sent them.
			An answer that was stopped with Ctrl-C, cut off by a broken stream, cut short by
			max_tokens, or replaced by chat's /edit last is marked as such. Reasoning is not shown; --json and export include it.

			--json prints one object: the conversation's fields (as in "history list --json")
			and "messages", each with every saved field: id, role, content, reasoning_content,
			name, tool_call_id, tool_calls (as sent or received, or null), prompt_tokens,
			completion_tokens, cached_tokens, finish_reason, interrupted, incomplete, replaced
			(an exchange that chat's /edit last replaced: kept, no longer sent again), model and
			created_at.
		`),
		Example: cli.Doc(`
			$ moonchat history show 3f2a9c01
			$ moonchat history show 3f | less -R
			$ moonchat history show "Explain CRDTs in three sentences"
			$ moonchat history show 3f2a --json | jq -r '.messages[-1].content'
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeOne(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args
			if !opts.JSON {
				// Only the display settings are needed; a broken config file is still an
				// error, as for every command that reads it.
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				opts.Wrap = cfg.Value(config.KeyWrap).Int()
				opts.Style = cfg.Value(config.KeyStyle).Raw
			}
			return run(cmd.Context(), opts, runF)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the conversation and every message field as JSON")
	return cmd
}

func newCmdSearch(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "search")
	cmd := &cobra.Command{
		Use:     "search <text>... [flags]",
		Aliases: []string{"grep"},
		Short:   "Find conversations by what was said in them",
		Long: cli.Docf(`
			Find the messages and titles that contain every word of the text, ignoring case, in
			any script (Chinese and Japanese included). The newest hits come first, at most
			--limit of them (%d by default; 0 shows all).

			On a terminal each conversation is shown by its id and title, with a snippet of
			each matching message and the words highlighted. Piped, each hit is one line: id,
			tab, title, tab, snippet. --json prints an array of objects with the fields id,
			title, updated_at, message_id (null when the title matched), role, snippet and
			matches (the byte ranges [start, end) of the words in the snippet).

			As grep does, search exits 1 when nothing matches (--json then prints []), so a
			script can branch on it; 0 means at least one hit.

			Saving an answer does not index it, which keeps chats fast; search indexes what
			was saved since the last search before it looks, so the first search after many
			long answers takes longer (about 3 CPU seconds after 50 MB of answers; on a
			terminal a spinner says so). Answers not yet indexed are found all the same, even
			when the history can only be read.
		`, defaultSearchLimit),
		Example: cli.Doc(`
			$ moonchat history search goroutine leak
			$ moonchat history search Kyoto >/dev/null || echo "never talked about Kyoto"
			$ moonchat history search 数据库
			$ moonchat history search --json retry | jq -r '.[].id' | sort -u
		`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(opts.Limit); err != nil {
				return err
			}
			opts.Query = strings.Join(args, " ")
			if strings.TrimSpace(opts.Query) == "" {
				return cli.Usagef("give the text to search for")
			}
			return run(cmd.Context(), opts, runF)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&opts.Limit, "limit", "L", defaultSearchLimit, "show at most `N` hits (0: all)")
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON array")
	return cmd
}

func newCmdRm(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "rm")
	cmd := &cobra.Command{
		Use:     "rm {<id>... | --older-than <age>}",
		Aliases: []string{"delete"},
		Short:   "Delete conversations",
		Long: cli.Doc(`
			Delete the given conversations, or with --older-than every conversation that was
			last updated longer ago than AGE: a number with a unit, m (minutes), h (hours),
			d (days) or w (weeks), such as 30d, 12h or 2w.

			Every ID is looked up before anything is deleted: if one is unknown or ambiguous,
			nothing is deleted. How many conversations were deleted is printed on standard
			error. There is no undo.
		`),
		Example: cli.Doc(`
			$ moonchat history rm 3f2a9c01
			$ moonchat history rm 3f2a 77b0
			$ moonchat history rm --older-than 30d
		`),
		Args: func(cmd *cobra.Command, args []string) error {
			older := cmd.Flags().Changed("older-than")
			switch {
			case older && len(args) > 0:
				return &cli.UsageError{Err: errors.New("give either conversation ids or --older-than, not both"),
					Hint: "run the two deletions as two commands"}
			case !older && len(args) == 0:
				return &cli.UsageError{Err: errors.New("give the ids of the conversations to delete, or --older-than AGE"),
					Hint: "`moonchat history list` shows the ids"}
			}
			return nil
		},
		ValidArgsFunction: cli.CompleteConversations(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args
			if cmd.Flags().Changed("older-than") && opts.OlderThan <= 0 {
				return &cli.UsageError{Err: errors.New("--older-than must be more than 0"),
					Hint: "give an age such as 30d, 12h or 2w"}
			}
			return run(cmd.Context(), opts, runF)
		},
	}
	cmd.Flags().Var(cli.AgeValue(&opts.OlderThan), "older-than", "delete the conversations last updated longer ago than `AGE` (e.g. 30d, 12h, 2w)")
	return cmd
}

func newCmdExport(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f, "export")
	cmd := &cobra.Command{
		Use:   "export <id> [--format markdown|json]",
		Short: "Write a conversation to standard output as markdown or JSON",
		Long: cli.Doc(`
			Write a conversation to standard output, to keep or share it.

			--format markdown (the default) writes a document: the title, the id, model and
			times, then each message under a heading for its role, with the reasoning of each
			answer in a collapsed <details> block, tool calls and results in code blocks, and a
			note on answers that were interrupted, incomplete, cut short or replaced. An answer that
			stopped inside a code block gets the block closed, so the rest of the document
			renders.

			--format json writes the same object as "history show --json": every field of the
			conversation and of each message.
		`),
		Example: cli.Doc(`
			$ moonchat history export 3f2a9c01 > conversation.md
			$ moonchat history export 3f2a --format json > conversation.json
		`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeOne(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Refs = args
			switch opts.Format {
			case "markdown", "md":
				opts.Format = "markdown"
			case "json":
			default:
				return cli.Usagef("--format must be markdown or json, not %q", opts.Format)
			}
			return run(cmd.Context(), opts, runF)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "markdown", "`FORMAT` of the export: markdown or json")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"markdown\ta document with a section per message", "json\tevery field, as history show --json"},
		cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// completeOne completes the single ID argument of show and export.
func completeOne(f *cli.Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	complete := cli.CompleteConversations(f)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return complete(cmd, args, toComplete)
	}
}
