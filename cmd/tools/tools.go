// Package tools implements `moonchat tools`: the tools a chat can give the model, from
// Moonshot's official formulas and from the configured MCP servers.
package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/build"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/mcphost"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// NewCmdTools builds `moonchat tools` and its subcommands.
func NewCmdTools(f *cli.Factory, runF func(*ListOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tools <command>",
		Short: "List the tools a chat can use: Moonshot's official tools and MCP servers'",
		Long: cli.Doc(`
			Tools let the model act. moonchat knows two kinds:

			Moonshot's official tools ("formulas") run on Moonshot's side; each is named by a
			URI, moonshot/NAME:latest, and its declarations come from the API. NAME is one of
			web-search (charged per search), fetch, code_runner (Python), quickjs
			(JavaScript), date, base64, convert, memory, excel, rethink, random-choice, mew.

			MCP servers run on your machine (a command over stdio) or elsewhere (a streamable
			HTTP url). They are configured under mcp_servers in the config file; mcp_default
			names those every chat may use, and allow_tools the tools that run without asking.
		`),
		Example: cli.Doc(`
			$ moonchat tools list --offline --tool moonshot/date:latest
			$ moonchat tools list --mcp files
		`),
		Args: cli.NoArgs,
	}
	cmd.AddCommand(NewCmdList(f, runF))
	return cmd
}

// ListOptions are the inputs of `tools list`, fixed once the flags are parsed.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	Formulas []moonshot.Formula
	Servers  []string // empty: every configured server
	JSON     bool
	Offline  bool
}

// NewCmdList builds `moonchat tools list`. runF replaces the run function in tests of flag parsing.
func NewCmdList(f *cli.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Factory: f}
	var uris []string
	cmd := &cobra.Command{
		Use:   "list [--tool URI]... [--mcp NAME]... [flags]",
		Short: "Show every tool available, with its source and description",
		Long: cli.Doc(`
			Show the tools of the official formulas given with --tool and of the MCP servers:
			those named with --mcp, or every server under mcp_servers in the config file.
			Each MCP server is started for the listing and stopped afterwards; a local
			server's messages go to $XDG_CACHE_HOME/moonchat/mcp/NAME.log, not to the terminal
			(past 1 MB the log becomes NAME.log.1 and a new one begins).

			A formula URI is namespace/name:tag, e.g. moonshot/fetch:latest (the tag defaults
			to latest). Listing formulas asks the API for their declarations, so it needs your
			key, or --offline for the built-in emulator (which knows date, base64, fetch,
			web-search, code_runner and quickjs).

			On a terminal the tools are shown as a table; piped, one tool per line as
			NAME<TAB>SOURCE<TAB>DESCRIPTION (the first line of it). --json prints an array of
			objects with name, source ("formula" or "mcp"), formula or server, description and
			parameters (the JSON schema the model sees).

			A server that does not start is reported on standard error; the tools of the
			others are still listed, and the exit status is 1. Two tools with one name are
			reported too: a chat that enables both would be refused.
		`),
		Example: cli.Doc(`
			$ moonchat tools list
			$ moonchat tools list --mcp files --json | jq -r '.[].name'
			$ moonchat tools list --offline --tool moonshot/date:latest --tool moonshot/fetch:latest
			$ moonchat tools list --tool moonshot/web-search:latest --mcp files
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cli.Settings(cmd, f)
			if err != nil {
				return err
			}
			opts.Config = cfg
			for _, u := range uris {
				formula, err := moonshot.ParseFormula(u)
				if err != nil {
					return cli.Usagef("--tool: %v", err)
				}
				opts.Formulas = append(opts.Formulas, formula)
			}
			if err := cfg.CheckMCPServers(opts.Servers, "--mcp"); err != nil {
				return &cli.UsageError{Err: err}
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&uris, "tool", nil, "an official tool's formula `URI`, e.g. moonshot/fetch:latest (repeatable)")
	fl.StringArrayVar(&opts.Servers, "mcp", nil, "list only this MCP server's tools (`NAME` from mcp_servers; repeatable)")
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON array")
	fl.BoolVar(&opts.Offline, "offline", false, "ask the built-in emulator for formula declarations: no key, no network")
	cli.AddAPIFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("mcp", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cfg, err := config.Load()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.MCPServerNames(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// entry is one tool as --json prints it.
type entry struct {
	Name        string          `json:"name"`
	Source      string          `json:"source"` // "formula" or "mcp"
	Formula     string          `json:"formula,omitempty"`
	Server      string          `json:"server,omitempty"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

func (e entry) origin() string {
	if e.Source == "formula" {
		return e.Formula
	}
	return "mcp:" + e.Server
}

func listRun(ctx context.Context, opts *ListOptions) error {
	var entries []entry
	var failures []error
	if len(opts.Formulas) > 0 {
		fe, err := formulaEntries(ctx, opts)
		if err != nil {
			return err
		}
		entries = append(entries, fe...)
	}
	servers := opts.Config.MCPServers()
	if len(servers) > 0 {
		logDir, err := cli.MCPLogDir()
		if err != nil {
			return err
		}
		host, err := mcphost.New(servers, mcphost.Options{LogDir: logDir, ClientVersion: build.Short()})
		if err != nil {
			return err
		}
		defer host.Close()
		tools, err := host.Tools(ctx, opts.Servers...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, t := range tools {
			entries = append(entries, entry{Name: t.Name, Source: "mcp", Server: t.Server, Description: t.Description, Parameters: t.InputSchema})
		}
		if err != nil {
			failures = append(failures, err)
		}
	}
	if len(entries) == 0 && len(failures) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No tools: give an official tool with --tool URI (e.g. --tool moonshot/fetch:latest), or add servers under mcp_servers in "+configPath(opts.Config)+".")
	}
	for _, clash := range clashes(entries) {
		fmt.Fprintln(opts.IO.ErrOut, "warning: "+opts.IO.ErrPrintable(clash))
	}
	if err := printEntries(opts, entries); err != nil {
		return err
	}
	if len(failures) == 0 {
		return nil
	}
	// Reported here, one line per server, rather than by the root, whose hints are about the
	// Moonshot API: a local server that does not start is neither a network nor an API problem.
	err := errors.Join(failures...)
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(opts.IO.ErrOut, "moonchat: "+opts.IO.ErrPrintable(line))
	}
	return &cli.ExitError{Code: cli.ExitFailure}
}

func configPath(cfg *config.Config) string {
	if p := cfg.FilePath(); p != "" {
		return p
	}
	return "the config file"
}

func formulaEntries(ctx context.Context, opts *ListOptions) ([]entry, error) {
	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{Offline: opts.Offline})
	if err != nil {
		return nil, err
	}
	ctx, cancel := cli.WithTimeout(ctx, opts.Config)
	defer cancel()
	var out []entry
	for _, f := range opts.Formulas {
		tools, err := client.FormulaTools(ctx, f)
		var apiErr *moonshot.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == 404 {
			// The URI the user gave names nothing: a bad --tool value, not a failed request.
			return nil, &cli.UsageError{Err: fmt.Errorf("--tool: there is no formula %s", f),
				Hint: "Moonshot's official tools are listed in `moonchat tools --help`"}
		}
		if err != nil {
			return nil, cli.TimeoutCause(ctx, fmt.Errorf("tools of %s: %w", f, err))
		}
		for _, t := range tools {
			out = append(out, entry{Name: t.Function.Name, Source: "formula", Formula: f.String(),
				Description: t.Function.Description, Parameters: t.Function.Parameters})
		}
	}
	return out, nil
}

// clashes describes the names declared by more than one source, with FormulaSet's rule.
func clashes(entries []entry) []string {
	var set moonshot.FormulaSet
	var out []string
	for _, e := range entries {
		if err := set.Reserve(e.origin(), e.Name); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

func printEntries(opts *ListOptions, entries []entry) error {
	if opts.JSON {
		if entries == nil {
			entries = []entry{}
		}
		return cli.WriteJSON(opts.IO.Out, entries)
	}
	if len(entries) == 0 {
		return nil
	}
	if opts.IO.IsStdoutTTY() {
		rows := [][]string{{"TOOL", "SOURCE", "DESCRIPTION"}}
		for _, e := range entries {
			rows = append(rows, []string{e.Name, e.origin(), firstLine(e.Description)})
		}
		return cli.WriteTable(opts.IO.Out, rows)
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(oneField(e.Name) + "\t" + oneField(e.origin()) + "\t" + oneField(firstLine(e.Description)) + "\n")
	}
	_, err := fmt.Fprint(opts.IO.Out, b.String())
	return err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// oneField keeps a piped line's fields apart: a tab or line break inside one becomes a space.
func oneField(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}
