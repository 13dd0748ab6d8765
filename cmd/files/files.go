// Package files implements `moonchat files`: the documents in your Moonshot account that chat
// -f uploads for text extraction (list, rm, prune).
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Options are the inputs of the files subcommands.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	JSON bool

	IDs []string // rm

	All       bool          // prune: every file of the account, not only moonchat's
	OlderThan time.Duration // prune: only files created longer ago than this (0 = any age)
	DryRun    bool          // prune: list, delete nothing
	Yes       bool          // prune --all: no second thoughts
}

// NewCmdFiles builds `files` and its subcommands.
func NewCmdFiles(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "files <command>",
		Short: "Manage the documents uploaded to your Moonshot account",
		Long: cli.Docf(`
			moonchat chat -f uploads documents (pdf, docx, xlsx, pptx, …) to your Moonshot account
			so that Moonshot extracts their text, and remembers each upload in a local cache
			(by the file's sha256 and the API base URL) so that the same file is not uploaded
			twice. These commands manage those files.

			Moonshot keeps at most %d files per account, %d MB each. A file that moonchat
			uploaded is one its cache knows; "files prune" deletes those, and "files list" marks
			them. The cache is $XDG_CACHE_HOME/moonchat/files.json.
		`, moonshot.MaxFiles, moonshot.MaxFileBytes>>20),
		Example: cli.Doc(`
			$ moonchat files list
			$ moonchat files rm file-abc123 file-def456
			$ moonchat files prune
			$ moonchat files prune --all --older-than 30d --yes
		`),
	}
	cmd.AddCommand(NewCmdList(f, nil))
	cmd.AddCommand(NewCmdRm(f, nil))
	cmd.AddCommand(NewCmdPrune(f, nil))
	return cmd
}

// setup resolves the settings of a subcommand, with its API flags.
func setup(cmd *cobra.Command, f *cli.Factory, opts *Options) error {
	cfg, err := cli.Settings(cmd, f)
	if err != nil {
		return err
	}
	opts.Config = cfg
	return nil
}

// NewCmdList builds `files list`.
func NewCmdList(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List the files of your Moonshot account",
		Long: cli.Doc(`
			List the files of your Moonshot account (GET /v1/files). On a terminal they are shown
			as a table (id, size, creation time, purpose, status, name, and whether moonchat
			uploaded it); piped, one id per line. --json prints an array of Moonshot's file
			objects (id, bytes, created_at, filename, purpose, status, status_details), each
			with "moonchat": true when moonchat's cache knows it.
		`),
		Example: cli.Doc(`
			$ moonchat files list
			$ moonchat files list --json | jq -r '.[] | select(.purpose == "file-extract") | .filename'
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := setup(cmd, f, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array")
	cli.AddAPIFlags(cmd)
	return cmd
}

// NewCmdRm builds `files rm`.
func NewCmdRm(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:     "rm <id>...",
		Aliases: []string{"delete"},
		Short:   "Delete files from your Moonshot account",
		Long: cli.Doc(`
			Delete the files with the given ids (DELETE /v1/files/{id}) and forget them in
			moonchat's cache. Each deleted file is printed as "deleted ID"; a file that cannot be
			deleted is reported on standard error and the others are still deleted; the exit
			status is then that of the first failure (5 for an unknown id). --json prints an
			array of {"id", "deleted", "error"}.
		`),
		Example: cli.Doc(`
			$ moonchat files rm file-abc123
			$ moonchat files list | xargs moonchat files rm
		`),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &cli.UsageError{Err: errors.New("give the ids of the files to delete"), Hint: "`moonchat files list` shows them"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IDs = args
			if err := setup(cmd, f, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return rmRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array")
	cli.AddAPIFlags(cmd)
	return cmd
}

// NewCmdPrune builds `files prune`.
func NewCmdPrune(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Delete the files moonchat uploaded (or all, or the old ones)",
		Long: cli.Doc(`
			Delete the files that moonchat uploaded to this platform for text extraction (those its
			cache knows), and forget them. --older-than keeps the recent ones: only files created
			longer ago are deleted (units s, m, h, d, w: 30d, 12h, 2w). --all deletes every file of
			the account, whoever uploaded it; without --dry-run it needs --yes.

			Each deleted file is printed as "deleted ID NAME" (or "would delete" with --dry-run).
			--json prints an array of {"id", "filename", "bytes", "created_at", "deleted",
			"error"}.
		`),
		Example: cli.Doc(`
			$ moonchat files prune
			$ moonchat files prune --older-than 30d
			$ moonchat files prune --all --dry-run
			$ moonchat files prune --all --yes
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.All && !opts.Yes && !opts.DryRun {
				return &cli.UsageError{Err: errors.New("--all deletes every file of your Moonshot account, including files other tools uploaded"),
					Hint: "add --yes to go ahead, or --dry-run to see the list first"}
			}
			if err := setup(cmd, f, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return pruneRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "delete every file of the account, not only moonchat's")
	fl.Var(cli.AgeValue(&opts.OlderThan), "older-than", "only delete files created longer ago than `AGE` (e.g. 30d, 12h, 2w)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would be deleted, delete nothing")
	fl.BoolVar(&opts.Yes, "yes", false, "confirm --all")
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON array")
	cli.AddAPIFlags(cmd)
	return cmd
}

// session is what the subcommands work with: a client, moonchat's cache of uploads, a
// deadline.
type session struct {
	opts   *Options
	client *moonshot.Client
	cache  *moonshot.FileCache // nil when it cannot be located
}

func open(ctx context.Context, opts *Options) (*session, context.Context, context.CancelFunc, error) {
	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{})
	if err != nil {
		return nil, nil, nil, err
	}
	s := &session{opts: opts, client: client}
	if path, err := moonshot.DefaultFileCachePath(); err != nil {
		s.notice("%v", err)
	} else if s.cache, err = moonshot.OpenFileCache(path); err != nil {
		s.notice("%v; it will be rewritten", err)
		s.cache = moonshot.NewFileCache(path)
	}
	ctx, cancel := cli.WithTimeout(ctx, opts.Config)
	return s, ctx, cancel, nil
}

func (s *session) notice(format string, args ...any) {
	fmt.Fprintln(s.opts.IO.ErrOut, s.opts.IO.ErrPrintable("moonchat: "+fmt.Sprintf(format, args...)))
}

// ours is the set of file ids moonchat uploaded to this platform.
func (s *session) ours() map[string]bool {
	ids := map[string]bool{}
	if s.cache != nil {
		for _, c := range s.cache.Files(s.client.BaseURL()) {
			ids[c.FileID] = true
		}
	}
	return ids
}

func (s *session) forget(id string) {
	if s.cache != nil {
		s.cache.Forget(s.client.BaseURL(), id)
	}
}

func (s *session) save() {
	if s.cache != nil {
		if err := s.cache.Save(); err != nil {
			s.notice("%v", err)
		}
	}
}

// listed is a file as `files list --json` prints it.
type listed struct {
	moonshot.File
	Moonchat bool `json:"moonchat"`
}

func listRun(ctx context.Context, opts *Options) error {
	s, ctx, cancel, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer cancel()
	files, err := s.client.ListFiles(ctx)
	if err != nil {
		return cli.TimeoutCause(ctx, err)
	}
	ours := s.ours()
	if opts.JSON {
		out := make([]listed, len(files))
		for i, f := range files {
			out[i] = listed{File: f, Moonchat: ours[f.ID]}
		}
		return cli.WriteJSON(opts.IO.Out, out)
	}
	if !opts.IO.IsStdoutTTY() {
		var b strings.Builder
		for _, f := range files {
			b.WriteString(f.ID + "\n")
		}
		_, err := io.WriteString(opts.IO.Out, b.String())
		return err
	}
	if len(files) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "No files.")
		return err
	}
	rows := [][]string{{"ID", "SIZE", "CREATED", "PURPOSE", "STATUS", "MOONCHAT", "NAME"}}
	var total int64
	mine := 0
	for _, f := range files {
		by := ""
		if ours[f.ID] {
			by, mine = "yes", mine+1
		}
		total += f.Bytes
		rows = append(rows, []string{f.ID, cli.FormatSize(f.Bytes), f.Created().Local().Format("2006-01-02 15:04"),
			f.Purpose, f.Status, by, f.Filename})
	}
	if err := cli.WriteTable(opts.IO.Out, rows, 1); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "\n%s of %s files, %s; %d uploaded by moonchat (`moonchat files prune` deletes them)\n",
		cli.FormatInt(len(files)), cli.FormatInt(moonshot.MaxFiles), cli.FormatSize(total), mine)
	return err
}

// deletion is one file of rm or prune, as --json prints it.
type deletion struct {
	ID        string `json:"id"`
	Filename  string `json:"filename,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
	CreatedAt int64  `json:"created_at,omitempty"`
	Deleted   bool   `json:"deleted"`
	Error     string `json:"error,omitempty"`
}

// deleteAll deletes the files one by one, going on after a failure, and reports each. It
// returns the first failure as an exit status that was already reported.
func (s *session) deleteAll(ctx context.Context, targets []deletion) error {
	var first error
	for i := range targets {
		t := &targets[i]
		if s.opts.DryRun {
			continue
		}
		err := s.client.DeleteFile(ctx, t.ID)
		if err != nil {
			err = cli.TimeoutCause(ctx, err)
			t.Error = err.Error()
			if first == nil {
				first = err
			}
			if !s.opts.JSON {
				msg, _ := cli.Describe(err, s.opts.Config.Value(config.KeyRegion).Raw)
				s.notice("%s: %s", t.ID, msg)
			}
			var apiErr *moonshot.APIError
			if errors.As(err, &apiErr) && apiErr.StatusCode == 404 {
				s.forget(t.ID) // gone already: nothing left to find
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		t.Deleted = true
		s.forget(t.ID)
	}
	s.save()
	if err := s.report(targets); err != nil {
		return err
	}
	if first != nil {
		return &cli.ExitError{Code: cli.ExitCode(first)}
	}
	return nil
}

func (s *session) report(targets []deletion) error {
	if s.opts.JSON {
		if targets == nil {
			targets = []deletion{}
		}
		return cli.WriteJSON(s.opts.IO.Out, targets)
	}
	var b strings.Builder
	for _, t := range targets {
		switch {
		case s.opts.DryRun:
			b.WriteString("would delete " + t.ID)
		case t.Deleted:
			b.WriteString("deleted " + t.ID)
		default:
			continue
		}
		if t.Filename != "" {
			b.WriteString(" " + s.opts.IO.Printable(t.Filename))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(s.opts.IO.Out, b.String())
	return err
}

func rmRun(ctx context.Context, opts *Options) error {
	s, ctx, cancel, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer cancel()
	targets := make([]deletion, len(opts.IDs))
	for i, id := range opts.IDs {
		targets[i] = deletion{ID: id}
	}
	return s.deleteAll(ctx, targets)
}

func pruneRun(ctx context.Context, opts *Options) error {
	s, ctx, cancel, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer cancel()
	if !opts.All && s.cache == nil {
		return errors.New("moonchat's cache of uploads cannot be located, so it does not know which files it uploaded; use --all")
	}
	files, err := s.client.ListFiles(ctx)
	if err != nil {
		return cli.TimeoutCause(ctx, err)
	}
	ours := s.ours()
	listedIDs := map[string]bool{}
	cutoff := time.Time{}
	if opts.OlderThan > 0 {
		cutoff = opts.Factory.Now().Add(-opts.OlderThan)
	}
	var targets []deletion
	for _, f := range files {
		listedIDs[f.ID] = true
		if !opts.All && !ours[f.ID] {
			continue
		}
		if !cutoff.IsZero() && !f.Created().Before(cutoff) {
			continue
		}
		targets = append(targets, deletion{ID: f.ID, Filename: f.Filename, Bytes: f.Bytes, CreatedAt: f.CreatedAt})
	}
	// Uploads the account no longer has (deleted elsewhere) are dropped from the cache.
	if !opts.DryRun {
		for id := range ours {
			if !listedIDs[id] {
				s.forget(id)
			}
		}
	}
	if len(targets) == 0 && !opts.JSON {
		s.save()
		s.notice("nothing to prune")
		return nil
	}
	return s.deleteAll(ctx, targets)
}
