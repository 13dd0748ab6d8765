// Package models implements `moonchat models`: the models the key can use, with what moonchat
// knows about each.
package models

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Options are the inputs of a models run.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Config  *config.Config

	JSON    bool
	Offline bool
}

// NewCmdModels builds the command. runF replaces the run function in tests of flag parsing.
func NewCmdModels(f *cli.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "models [flags]",
		Short: "List the models your key can use, with context, capabilities and prices",
		Long: heredoc.Doc(`
			List the models that GET /v1/models returns for your key, joined with moonchat's
			built-in table: context length, capabilities (tools, vision, video, thinking),
			list prices per million tokens (input on a cache hit, input, output) and
			deprecation.

			The server decides what is listed: a model of the built-in table that your key
			cannot use is not shown. The server's context length and capabilities win over
			the table's. A model the table does not know is shown with the rules moonchat
			would apply to it and no price. Prices are the global platform's list prices in
			USD; platform.moonshot.cn bills in CNY.

			On a terminal the models are shown as a table; when the output is piped, one id
			per line. --json prints an array of objects with the fields id, context_length,
			tools, vision, video, thinking ("none", "always" or "switchable"), price (null,
			or currency, input_cache_hit, input, output and an optional note), deprecated
			(null or why), owned_by and builtin (whether moonchat's table knows the id).
		`),
		Example: heredoc.Doc(`
			$ moonchat models
			$ moonchat models --offline
			$ moonchat models --json | jq -r '.[] | select(.vision) | .id'
			$ moonchat models | grep '^kimi-k2'
		`),
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cli.Settings(cmd, f)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(opts)
			}
			return modelsRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print a JSON array")
	fl.BoolVar(&opts.Offline, "offline", false, "ask the built-in emulator: no key, no network")
	cli.AddAPIFlags(cmd)
	return cmd
}

// entry is one model as --json prints it.
type entry struct {
	ID            string          `json:"id"`
	ContextLength int             `json:"context_length"`
	Tools         bool            `json:"tools"`
	Vision        bool            `json:"vision"`
	Video         bool            `json:"video"`
	Thinking      string          `json:"thinking"`
	Price         *moonshot.Price `json:"price"`
	Deprecated    *string         `json:"deprecated"`
	OwnedBy       string          `json:"owned_by,omitempty"`
	Builtin       bool            `json:"builtin"`

	spec moonshot.ModelSpec
}

func modelsRun(ctx context.Context, opts *Options) error {
	client, err := opts.Factory.Client(opts.Config, cli.ClientOptions{Offline: opts.Offline})
	if err != nil {
		return err
	}
	ctx, cancel := cli.WithTimeout(ctx, opts.Config)
	defer cancel()
	remote, err := client.Models(ctx)
	if err != nil {
		return cli.TimeoutCause(ctx, err)
	}
	entries := join(remote)
	switch {
	case opts.JSON:
		return cli.WriteJSON(opts.IO.Out, entries)
	case opts.IO.IsStdoutTTY():
		return printTable(opts, entries)
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.ID + "\n")
	}
	_, err = fmt.Fprint(opts.IO.Out, b.String())
	return err
}

// join describes each model the server listed, in the server's order. Models only in the
// built-in table are left out: the server knows what this key may use.
func join(remote []moonshot.RemoteModel) []entry {
	entries := make([]entry, 0, len(remote))
	for i := range remote {
		r := &remote[i]
		spec, _ := moonshot.LookupModel(r.ID)
		spec = spec.Refine(r)
		e := entry{
			ID:            r.ID,
			ContextLength: spec.Context,
			Tools:         spec.Tools,
			Vision:        spec.Vision,
			Video:         spec.Video,
			Thinking:      thinking(spec.Thinking),
			OwnedBy:       r.OwnedBy,
			Builtin:       builtin(r.ID),
			spec:          spec,
		}
		if spec.Price.Known() {
			p := spec.Price
			e.Price = &p
		}
		if spec.Deprecated != "" {
			d := spec.Deprecated
			e.Deprecated = &d
		}
		entries = append(entries, e)
	}
	return entries
}

func builtin(id string) bool {
	for _, m := range moonshot.KnownModels() {
		if m.ID == id {
			return true
		}
	}
	return false
}

func thinking(m moonshot.ThinkingMode) string {
	switch m {
	case moonshot.ThinkingAlways, moonshot.ThinkingRequired:
		return "always"
	case moonshot.ThinkingDefault:
		return "switchable"
	}
	return "none"
}

func printTable(opts *Options, entries []entry) error {
	rows := [][]string{{"MODEL", "CONTEXT", "CAPABILITIES", "CACHE HIT", "INPUT", "OUTPUT", "NOTES"}}
	currencies := map[string]bool{}
	for _, e := range entries {
		hit, in, out := "—", "—", "—"
		if e.Price != nil {
			currencies[e.Price.Currency] = true
			if e.Price.InputCache > 0 {
				hit = fmt.Sprintf("%.2f", e.Price.InputCache)
			}
			in, out = fmt.Sprintf("%.2f", e.Price.Input), fmt.Sprintf("%.2f", e.Price.Output)
		}
		var notes []string
		if e.Deprecated != nil {
			notes = append(notes, "deprecated: "+*e.Deprecated)
		}
		if e.Price != nil && e.Price.Note != "" {
			notes = append(notes, "price: "+e.Price.Note)
		}
		if !e.Builtin {
			notes = append(notes, "not in moonchat's table")
		}
		rows = append(rows, []string{e.ID, cli.FormatTokens(e.ContextLength), strings.Join(cli.Capabilities(e.spec), ", "),
			hit, in, out, strings.Join(notes, "; ")})
	}
	if err := cli.WriteTable(opts.IO.Out, rows, 1, 3, 4, 5); err != nil {
		return err
	}
	if len(currencies) == 0 {
		return nil
	}
	units := slices.Sorted(maps.Keys(currencies))
	footer := fmt.Sprintf("Prices in %s per 1M tokens.", strings.Join(units, "/"))
	if platform := cli.Currency(opts.Config); !currencies[platform] {
		footer += fmt.Sprintf(" Your platform bills in %s; see its pricing page for the local prices.", platform)
	}
	_, err := fmt.Fprintf(opts.IO.Out, "\n%s\n", footer)
	return err
}
